package io.opendps.sim;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * How one load-harness flow ended, whatever its mode: success or the failure's counter key, and the step
 * durations ({@code null} for steps the mode does not have or did not reach).
 *
 * @param ok whether the flow ended as it should
 * @param errorKind the counter key of a failure ({@link LoadStats#errorKind}); {@code null} when ok
 * @param connect TCP + TLS + CONNECT + SUBSCRIBE
 * @param register register PUBLISH → first answer
 * @param poll last status poll → terminal answer
 * @param request echo PUBLISH → reply
 * @param endToEnd start → decision without {@code retry-after} waits
 */
record LoadFlowResult(boolean ok, @Nullable String errorKind, @Nullable Duration connect,
        @Nullable Duration register, @Nullable Duration poll, @Nullable Duration request, Duration endToEnd) {

    /** The result of a provisioning flow: ok when assigned. */
    static LoadFlowResult of(ProvisioningOutcome outcome) {
        ProvisioningOutcome.Timings t = outcome.timings();
        return new LoadFlowResult(outcome.assigned(), outcome.assigned() ? null : LoadStats.errorKind(outcome),
                t.connectAndSubscribe(), t.register(), t.lastPoll(), null, t.activeTotal());
    }

    /** Records the steps and the ending into the run's statistics. */
    void recordInto(LoadStats stats) {
        stats.record("connect", connect);
        stats.record("register", register);
        stats.record("poll", poll);
        stats.record("request", request);
        stats.record("endToEnd", endToEnd);
        if (ok) {
            stats.completed();
        } else {
            stats.failed(errorKind == null ? "unknown" : errorKind);
        }
    }
}
