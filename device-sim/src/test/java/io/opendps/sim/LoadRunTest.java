package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The run orchestration with synthetic flows (no network): counting, warm-up, concurrency cap, bounds. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LoadRunTest {

    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    private final StringWriter progress = new StringWriter();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @Test
    void run_countsEveryMeasuredFlow_andLeavesTheWarmUpOut() throws Exception {
        Set<Integer> indexes = ConcurrentHashMap.newKeySet();
        LoadRun run = run(new LoadRun.Settings("individual", 40, 4, new ArrivalSchedule(0), Duration.ofMinutes(1),
                10, Duration.ofSeconds(5), null));

        LoadReport report = run.run(i -> {
            indexes.add(i);
            return CompletableFuture.completedFuture(ok());
        });

        assertThat(indexes).hasSize(50);
        assertThat(indexes).allMatch(i -> i >= 0 && i < 50);
        assertThat(report.devices()).isEqualTo(40);
        assertThat(report.warmup()).isEqualTo(10);
        assertThat(report.completed()).isEqualTo(40);
        assertThat(report.failed()).isZero();
        assertThat(report.notStarted()).isZero();
        assertThat(report.steps().get("endToEnd").count()).isEqualTo(40);
        assertThat(report.steps()).doesNotContainKey("startDelay");
        assertThat(report.server()).isNull();
        assertThat(report.errors()).isEmpty();
        assertThat(progress.toString()).contains("warm-up: 10 flows done");
    }

    @Test
    void run_neverHasMoreFlowsInFlightThanTheConcurrency() throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger highest = new AtomicInteger();
        LoadRun run = run(new LoadRun.Settings("group", 60, 3, new ArrivalSchedule(0), Duration.ofMinutes(1), 0,
                Duration.ofSeconds(5), null));

        LoadReport report = run.run(i -> {
            highest.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            CompletableFuture<LoadFlowResult> done = new CompletableFuture<>();
            scheduler.schedule(() -> {
                inFlight.decrementAndGet();
                done.complete(ok());
            }, 1, TimeUnit.MILLISECONDS);
            return done;
        });

        assertThat(report.completed()).isEqualTo(60);
        assertThat(highest.get()).isBetween(1, 3);
    }

    @Test
    void run_openLoop_recordsStartDelays_andFailuresByKind() throws Exception {
        LoadRun run = run(new LoadRun.Settings("individual", 20, 5, new ArrivalSchedule(1_000),
                Duration.ofMinutes(1), 0, Duration.ofSeconds(5), null));

        LoadReport report = run.run(i -> CompletableFuture.completedFuture(i % 4 == 0
                ? new LoadFlowResult(false, "status 429 / 429001", Duration.ofMillis(1), Duration.ofMillis(1), null,
                        null, Duration.ofMillis(2))
                : ok()));

        assertThat(report.targetRate()).isEqualTo(1_000.0);
        assertThat(report.completed()).isEqualTo(15);
        assertThat(report.failed()).isEqualTo(5);
        assertThat(report.errors()).containsEntry("status 429 / 429001", 5L);
        assertThat(report.steps().get("startDelay").count()).isEqualTo(20);
    }

    @Test
    void run_flowThatThrows_isCountedAsAHarnessFailure() throws Exception {
        LoadRun run = run(new LoadRun.Settings("echo", 3, 1, new ArrivalSchedule(0), Duration.ofMinutes(1), 0,
                Duration.ofSeconds(5), null));

        LoadReport report = run.run(i -> CompletableFuture.failedFuture(new IllegalStateException("boom")));

        assertThat(report.failed()).isEqualTo(3);
        assertThat(report.errors().keySet()).singleElement().asString().startsWith("harness: ");
    }

    @Test
    void run_withAServerPid_reportsItsCpu() throws Exception {
        long self = ProcessHandle.current().pid();
        LoadRun run = run(new LoadRun.Settings("individual", 5, 5, new ArrivalSchedule(0), Duration.ofMinutes(1), 0,
                Duration.ofSeconds(5), self));

        LoadReport report = run.run(i -> CompletableFuture.completedFuture(ok()));

        assertThat(report.server()).isNotNull();
        assertThat(report.server().pid()).isEqualTo(self);
        assertThat(report.server().cpuSeconds()).isGreaterThanOrEqualTo(0);
        assertThat(report.server().peakRssMiB()).isPositive();
        assertThat(report.loadGeneratorCpuSeconds()).isGreaterThanOrEqualTo(0);
    }

    private LoadRun run(LoadRun.Settings settings) {
        return new LoadRun(settings, scheduler, new PrintWriter(progress, true), false);
    }

    private static LoadFlowResult ok() {
        return new LoadFlowResult(true, null, Duration.ofMillis(3), Duration.ofMillis(2), Duration.ofMillis(1), null,
                Duration.ofMillis(6));
    }
}
