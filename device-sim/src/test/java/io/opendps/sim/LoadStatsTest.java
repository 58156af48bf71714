package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.error.ErrorBody;
import io.opendps.core.json.Json;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoadStatsTest {

    private static final ProvisioningOutcome.Timings TIMINGS = new ProvisioningOutcome.Timings(Duration.ofMillis(5),
            Duration.ofMillis(6), null, Duration.ofMillis(11));

    @Test
    void latencies_percentilesPerStep_inMillisecondsInStepOrder() {
        LoadStats stats = new LoadStats();
        for (int i = 1; i <= 1000; i++) {
            stats.record("endToEnd", Duration.ofMillis(i));
            stats.record("connect", Duration.ofMillis(10));
        }
        stats.record("poll", null);

        Map<String, LoadReport.Latency> latencies = stats.latencies();

        assertThat(latencies.keySet()).containsExactly("connect", "endToEnd");
        LoadReport.Latency e2e = latencies.get("endToEnd");
        assertThat(e2e.count()).isEqualTo(1000);
        assertThat(e2e.p50()).isCloseTo(500, org.assertj.core.data.Offset.offset(1.0));
        assertThat(e2e.p90()).isCloseTo(900, org.assertj.core.data.Offset.offset(1.0));
        assertThat(e2e.p99()).isCloseTo(990, org.assertj.core.data.Offset.offset(1.0));
        assertThat(e2e.p999()).isCloseTo(999, org.assertj.core.data.Offset.offset(1.0));
        assertThat(e2e.max()).isCloseTo(1000, org.assertj.core.data.Offset.offset(1.0));
        assertThat(latencies.get("connect").p99()).isEqualTo(10.0);
    }

    @Test
    void record_unknownStep_isRejected() {
        assertThatThrownBy(() -> new LoadStats().record("nope", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nope");
    }

    @Test
    void flowResults_countCompletedFailedInFlightAndErrorsByKind() {
        LoadStats stats = new LoadStats();
        for (int i = 0; i < 5; i++) {
            stats.started();
        }
        new LoadFlowResult(true, null, Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(3), null,
                Duration.ofMillis(6)).recordInto(stats);
        new LoadFlowResult(true, null, Duration.ofMillis(1), null, null, Duration.ofMillis(2),
                Duration.ofMillis(3)).recordInto(stats);
        new LoadFlowResult(false, "status 429 / 429001", Duration.ofMillis(1), Duration.ofMillis(2), null, null,
                Duration.ofMillis(3)).recordInto(stats);
        new LoadFlowResult(false, "status 429 / 429001", null, null, null, null, Duration.ofMillis(3))
                .recordInto(stats);

        assertThat(stats.completedCount()).isEqualTo(2);
        assertThat(stats.failedCount()).isEqualTo(2);
        assertThat(stats.inFlight()).isEqualTo(1);
        assertThat(stats.errors()).containsExactly(Map.entry("status 429 / 429001", 2L));
        Map<String, LoadReport.Latency> latencies = stats.latencies();
        assertThat(latencies.get("connect").count()).isEqualTo(3);
        assertThat(latencies.get("register").count()).isEqualTo(2);
        assertThat(latencies.get("poll").count()).isEqualTo(1);
        assertThat(latencies.get("request").count()).isEqualTo(1);
        assertThat(latencies.get("endToEnd").count()).isEqualTo(4);
    }

    @Test
    void errorKind_namesStatusAndCode_orTheFailureWithoutDetails() {
        ProvisioningOutcome throttled = ProvisioningOutcome.errorResponse("d1", 429,
                new ErrorBody(429001, "t-1", "Too many requests", java.time.Instant.EPOCH, null), "{}", TIMINGS);
        ProvisioningOutcome transport = ProvisioningOutcome.transportFailure("d1",
                "timed out after 60 s while subscribing (localhost:8883)", TIMINGS);
        ProvisioningOutcome refused = ProvisioningOutcome.transportFailure("d1",
                "could not connect to localhost:1: Connection refused", TIMINGS);

        assertThat(LoadStats.errorKind(throttled)).isEqualTo("status 429 / 429001");
        assertThat(LoadStats.errorKind(transport)).isEqualTo("transport: timed out after 60 s while subscribing");
        assertThat(LoadStats.errorKind(refused)).isEqualTo("transport: could not connect to localhost");
        assertThat(LoadStats.shorten(null)).isEqualTo("unknown");
    }

    @Test
    void flowResult_ofAnOutcome_usesTheActiveTimeWithoutRetryAfterWaits() {
        ProvisioningOutcome.Timings timings = new ProvisioningOutcome.Timings(Duration.ofMillis(50),
                Duration.ofMillis(20), Duration.ofMillis(2_030), Duration.ofMillis(2_100), Duration.ofMillis(30),
                Duration.ofMillis(2_000));
        ProvisioningOutcome failed = ProvisioningOutcome.transportFailure("d1", "lost: x", timings);

        LoadFlowResult result = LoadFlowResult.of(failed);

        assertThat(result.ok()).isFalse();
        assertThat(result.errorKind()).isEqualTo("transport: lost");
        assertThat(result.connect()).isEqualTo(Duration.ofMillis(50));
        assertThat(result.register()).isEqualTo(Duration.ofMillis(20));
        assertThat(result.poll()).isEqualTo(Duration.ofMillis(30));
        assertThat(result.endToEnd()).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void report_writesEveryFieldAsJson_andTheTextNamesStepsAndErrors() throws Exception {
        LoadReport report = new LoadReport("individual", 10, 5, 0, 2, 9, 1, 0, 2.5, 3.6,
                Map.of("endToEnd", new LoadReport.Latency(10, 1, 2, 3, 4, 5)), Map.of("status 429 / 429001", 1L),
                new LoadReport.ServerUsage(42, 1.5, 166.67, 80.0, 300.0), 0.75);

        JsonNode json = Json.mapper().readTree(Json.toBytes(report));

        assertThat(json.path("mode").asText()).isEqualTo("individual");
        assertThat(json.path("flowsPerSecond").asDouble()).isEqualTo(3.6);
        assertThat(json.path("steps").path("endToEnd").path("p999").asDouble()).isEqualTo(4.0);
        assertThat(json.path("errors").path("status 429 / 429001").asLong()).isEqualTo(1);
        assertThat(json.path("server").path("cpuMillisPerFlow").asDouble()).isEqualTo(166.67);
        assertThat(json.path("loadGeneratorCpuSeconds").asDouble()).isEqualTo(0.75);
        assertThat(Json.parse(Json.toBytes(report), LoadReport.class)).isEqualTo(report);
        assertThat(report.toText()).contains("completed 9, failed 1", "3.60 flows/s", "endToEnd",
                "error status 429 / 429001: 1", "server pid 42", "166.67 ms/flow");
    }

    @Test
    void durationConverter_acceptsUnitsAndPlainSeconds() {
        assertThat(LoadCommand.DurationConverter.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(LoadCommand.DurationConverter.parse("30")).isEqualTo(Duration.ofSeconds(30));
        assertThat(LoadCommand.DurationConverter.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(LoadCommand.DurationConverter.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThatThrownBy(() -> LoadCommand.DurationConverter.parse("-3s"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-3s");
        assertThat(List.of(LoadCommand.Mode.values())).extracting(Object::toString)
                .containsExactly("individual", "group", "x509-group", "echo");
    }
}
