package io.opendps.sim;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * Collects the measured flows of a load run: one HdrHistogram per step (microsecond values, 3 significant
 * digits, up to an hour), counts of completed and failed flows, failures by kind, and in-flight tracking for the
 * progress line. Thread-safe: flows end on the shared event loop and scheduler threads; histogram writes are
 * synchronized per histogram (a few hundred nanoseconds, negligible next to a flow).
 */
final class LoadStats {

    /** Step names in report order. */
    static final List<String> STEPS = List.of("connect", "register", "poll", "request", "endToEnd", "startDelay");

    private static final long HIGHEST_MICROS = Duration.ofHours(1).toNanos() / 1000;

    private final Map<String, Histogram> histograms = new LinkedHashMap<>();
    private final LongAdder completed = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final AtomicLong inFlight = new AtomicLong();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

    LoadStats() {
        for (String step : STEPS) {
            histograms.put(step, new Histogram(HIGHEST_MICROS, 3));
        }
    }

    /** A flow started. */
    void started() {
        inFlight.incrementAndGet();
    }

    /**
     * Records one step's duration; {@code null} (the step was not reached) records nothing.
     *
     * @throws IllegalArgumentException for an unknown step
     */
    void record(String step, @Nullable Duration value) {
        Histogram h = histograms.get(step);
        if (h == null) {
            throw new IllegalArgumentException("unknown step: " + step);
        }
        if (value == null) {
            return;
        }
        long micros = Math.min(Math.max(0, value.toNanos() / 1000), HIGHEST_MICROS);
        synchronized (h) {
            h.recordValue(micros);
        }
    }

    /** A flow ended as it should. */
    void completed() {
        inFlight.decrementAndGet();
        completed.increment();
    }

    /**
     * A flow ended otherwise.
     *
     * @param kind what went wrong, short and without ids (it is a counter key)
     */
    void failed(String kind) {
        inFlight.decrementAndGet();
        failed.increment();
        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    long completedCount() {
        return completed.sum();
    }

    long failedCount() {
        return failed.sum();
    }

    long inFlight() {
        return inFlight.get();
    }

    /** Percentiles of every step that recorded something, in {@link #STEPS} order. */
    Map<String, LoadReport.Latency> latencies() {
        Map<String, LoadReport.Latency> result = new LinkedHashMap<>();
        histograms.forEach((name, h) -> {
            synchronized (h) {
                if (h.getTotalCount() > 0) {
                    result.put(name, new LoadReport.Latency(h.getTotalCount(), ms(h.getValueAtPercentile(50)),
                            ms(h.getValueAtPercentile(90)), ms(h.getValueAtPercentile(99)),
                            ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue())));
                }
            }
        });
        return result;
    }

    /** Failures by kind, sorted by kind. */
    Map<String, Long> errors() {
        Map<String, Long> result = new TreeMap<>();
        errors.forEach((kind, count) -> result.put(kind, count.sum()));
        return result;
    }

    /**
     * The counter key of a provisioning outcome that did not end assigned: {@code status 429 / 429001} for an
     * error answer, {@code failed / 401002} or {@code disabled} for a terminal non-assigned status,
     * {@code protocol: ...} or {@code transport: ...} with the reason's first words (ids are not stable keys, so
     * the reason is cut at the first bracket or colon after the step).
     */
    static String errorKind(ProvisioningOutcome outcome) {
        return switch (outcome.kind()) {
            case ERROR_RESPONSE -> "status " + outcome.status()
                    + (outcome.errorCode() == null ? "" : " / " + outcome.errorCode());
            case TERMINAL -> ProvisioningOutcome.statusText(outcome.registrationStatus())
                    + (outcome.errorCode() == null ? "" : " / " + outcome.errorCode());
            case PROTOCOL_ERROR -> "protocol: status " + outcome.status();
            case TRANSPORT_FAILURE -> "transport: " + shorten(outcome.failure());
        };
    }

    /** The first part of a failure text: up to the first '(' or ':' (where endpoints and details begin). */
    static String shorten(@Nullable String failure) {
        if (failure == null) {
            return "unknown";
        }
        int cut = failure.length();
        for (char c : new char[] {'(', ':'}) {
            int i = failure.indexOf(c);
            if (i > 0 && i < cut) {
                cut = i;
            }
        }
        return failure.substring(0, cut).trim();
    }

    private static double ms(long micros) {
        return Math.round(micros / 100.0) / 10.0;
    }
}
