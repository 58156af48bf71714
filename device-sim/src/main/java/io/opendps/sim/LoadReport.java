package io.opendps.sim;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The result of one load run, as {@code device load --report FILE} writes it (JSON through the core's Jackson
 * mapper) and as its text summary prints it. Latencies are milliseconds from HdrHistograms (3 significant digits);
 * warm-up flows are excluded from everything.
 *
 * @param mode the flow: {@code individual}, {@code group}, {@code x509-group} or {@code echo}
 * @param devices measured flows started (after the warm-up)
 * @param concurrency the limit of flows in flight
 * @param targetRate the open-loop arrival rate per second; 0 when only the concurrency paced the run
 * @param warmup flows run and discarded before the measurement
 * @param completed measured flows that ended as they should (assigned, or the echo reply received)
 * @param failed measured flows that ended otherwise
 * @param notStarted flows not started because the duration bound was reached
 * @param seconds wall time of the measured phase, first start to last end
 * @param flowsPerSecond {@code completed / seconds}
 * @param steps latency per step: {@code connect} (TCP + TLS + CONNECT/CONNACK + SUBSCRIBE/SUBACK),
 *     {@code register} (register PUBLISH → 202), {@code poll} (last status poll → 200), {@code request} (echo
 *     PUBLISH → reply), {@code endToEnd} (start → decision, without {@code retry-after} waits), {@code startDelay}
 *     (how late each flow started against its due time: the client-side queue when the server falls behind)
 * @param errors failed flows by kind: {@code status 429 / 429001}, {@code transport: ...}
 * @param server the local server's CPU and memory, or {@code null} without {@code --server-pid}
 * @param loadGeneratorCpuSeconds this process's CPU time during the measured phase
 */
@JsonPropertyOrder({"mode", "devices", "concurrency", "targetRate", "warmup", "completed", "failed", "notStarted",
    "seconds", "flowsPerSecond", "steps", "errors", "server", "loadGeneratorCpuSeconds"})
public record LoadReport(String mode, long devices, int concurrency, double targetRate, long warmup, long completed,
        long failed, long notStarted, double seconds, double flowsPerSecond, Map<String, Latency> steps,
        Map<String, Long> errors, @Nullable ServerUsage server, double loadGeneratorCpuSeconds) {

    /**
     * Percentiles of one step in milliseconds.
     *
     * @param count recorded values
     */
    @JsonPropertyOrder({"count", "p50", "p90", "p99", "p999", "max"})
    public record Latency(long count, double p50, double p90, double p99, double p999, double max) {
    }

    /**
     * The server's resource use over the measured phase.
     *
     * @param pid the server's process id
     * @param cpuSeconds CPU time (user + system) used during the measured phase
     * @param cpuMillisPerFlow {@code cpuSeconds} per completed flow, in milliseconds
     * @param peakHeapMiB the highest heap use sampled with {@code jcmd GC.heap_info}, or {@code null} if none
     *     could be read
     * @param peakRssMiB the process's peak resident set size ({@code VmHWM}, over its whole life)
     */
    @JsonPropertyOrder({"pid", "cpuSeconds", "cpuMillisPerFlow", "peakHeapMiB", "peakRssMiB"})
    public record ServerUsage(long pid, double cpuSeconds, double cpuMillisPerFlow, @Nullable Double peakHeapMiB,
            @Nullable Double peakRssMiB) {
    }

    /** The text summary printed at the end of a run. */
    public String toText() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "mode %s: %d flows (+%d warm-up), concurrency %d, target rate %s%n",
                mode, devices, warmup, concurrency, targetRate > 0 ? fmt(targetRate) + "/s" : "unlimited"));
        b.append(String.format(Locale.ROOT, "completed %d, failed %d, not started %d in %s s: %s flows/s%n",
                completed, failed, notStarted, fmt(seconds), fmt(flowsPerSecond)));
        b.append(String.format(Locale.ROOT, "%-11s %8s %9s %9s %9s %9s %9s%n", "step (ms)", "count", "p50", "p90",
                "p99", "p99.9", "max"));
        steps.forEach((name, l) -> b.append(String.format(Locale.ROOT, "%-11s %8d %9.1f %9.1f %9.1f %9.1f %9.1f%n",
                name, l.count(), l.p50(), l.p90(), l.p99(), l.p999(), l.max())));
        errors.forEach((kind, count) -> b.append(String.format(Locale.ROOT, "error %s: %d%n", kind, count)));
        if (server != null) {
            b.append(String.format(Locale.ROOT, "server pid %d: CPU %s s, %s ms/flow, peak heap %s MiB, peak RSS %s "
                    + "MiB%n", server.pid(), fmt(server.cpuSeconds()), fmt(server.cpuMillisPerFlow()),
                    server.peakHeapMiB() == null ? "?" : fmt(server.peakHeapMiB()),
                    server.peakRssMiB() == null ? "?" : fmt(server.peakRssMiB())));
        }
        b.append(String.format(Locale.ROOT, "load generator CPU %s s%n", fmt(loadGeneratorCpuSeconds)));
        return b.toString();
    }

    private static String fmt(double value) {
        return String.format(Locale.ROOT, "%.2f", value);
    }
}
