package io.opendps.sim;

/**
 * When each arrival of an open-loop load run is due: arrival {@code i} (from 0) at {@code i / rate} seconds after the
 * start, whatever happened to earlier arrivals. The harness starts each flow at its due time (or as soon as a
 * concurrency slot frees up), so when the server falls behind the lateness shows in the report instead of the
 * client silently slowing down. A rate of 0 means no schedule: every arrival is due at once and only the
 * concurrency limit paces the run (closed loop, for maximum-throughput runs).
 *
 * <p>Immutable; pure arithmetic on nanosecond offsets so it can be tested without clocks.
 *
 * @param ratePerSecond target arrivals per second; 0 for as fast as the concurrency allows
 */
record ArrivalSchedule(double ratePerSecond) {

    ArrivalSchedule {
        if (!(ratePerSecond >= 0) || Double.isInfinite(ratePerSecond)) {
            throw new IllegalArgumentException("rate must be a finite number >= 0: " + ratePerSecond);
        }
    }

    /** Whether arrivals follow a schedule (rate above 0). */
    boolean openLoop() {
        return ratePerSecond > 0;
    }

    /**
     * The due time of an arrival, relative to the run's start.
     *
     * @param index the arrival's number, from 0
     * @return nanoseconds after the start; 0 for every arrival when there is no schedule
     */
    long dueOffsetNanos(long index) {
        if (index < 0) {
            throw new IllegalArgumentException("index must not be negative: " + index);
        }
        return openLoop() ? Math.round(index * 1e9 / ratePerSecond) : 0L;
    }
}
