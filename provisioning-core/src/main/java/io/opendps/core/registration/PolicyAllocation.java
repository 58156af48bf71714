package io.opendps.core.registration;

import io.opendps.core.allocation.Allocation;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.CandidateHubs;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.enrollment.AllocationPolicy;
import io.opendps.core.enrollment.CustomAllocationDefinition;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.error.ErrorCode;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the matched enrollment's {@code allocationPolicy} ({@code dps-service-api.md} §9.1, §9.2) over the
 * candidate hubs of {@link CandidateHubs}, for a first assignment and for reprovisioning alike:
 *
 * <ul>
 *   <li>{@code static}: the enrollment's one hub ({@code iotHubs[0]} or the legacy {@code iotHubHostName}); a hub no
 *       longer linked fails with {@code 400209}, any other number of hubs with {@code 400208}.</li>
 *   <li>The legacy {@code iotHubHostName} with no {@code iotHubs} under {@code hashed}, {@code geoLatency} or no
 *       policy: that hub, as for {@code static} (older clients pin a device this way).</li>
 *   <li>{@code hashed}: weighted rendezvous hashing ({@link Allocator#hashed}) over the enrollment's
 *       {@code iotHubs}, else all linked hubs, without hubs flagged {@code applyAllocationPolicy=false}.</li>
 *   <li>No policy on the enrollment: the service's default policy ({@link Allocator#defaultPolicy()}, managed
 *       through the service API, {@code hashed} unless changed), read at registration time as in Azure. A
 *       default of {@code static} with no hub on the enrollment fails the registration with {@code 400208}.</li>
 *   <li>{@code geoLatency}: exactly like {@code hashed}. A single-site server sees the same latency to every
 *       linked hub, and Azure hashes ties, so this is what geo-latency reduces to here; #6 may rank hubs by their
 *       {@code location} once hubs have one.</li>
 *   <li>{@code custom}: the registration ends {@code failed} with {@code 400207} (Azure's code for a failed custom
 *       allocation) and a message saying webhooks are not available yet. No webhook is called; an audit line names
 *       the enrollment and the webhook with its query string masked.</li>
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
final class PolicyAllocation {

    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");
    /** What a device (and the registration record) is told when its enrollment uses custom allocation. */
    static final String CUSTOM_UNAVAILABLE = "Custom allocation failed: custom allocation webhooks are not available "
            + "on this OpenDPS server yet, so the enrollment's webhook was not called; use allocationPolicy hashed, "
            + "geoLatency or static";

    private final Allocator allocator;

    PolicyAllocation(Allocator allocator) {
        this.allocator = Objects.requireNonNull(allocator, "allocator");
    }

    /** The hub for a device's first assignment through {@code match}, or why there is none. */
    Allocation allocate(String registrationId, DeviceAuthenticator.Matched match) {
        IndividualEnrollment individual = match.individual();
        EnrollmentGroup group = match.group();
        AllocationPolicy policy;
        String hubHostName;
        List<String> hubs;
        CustomAllocationDefinition custom;
        if (individual != null) {
            policy = individual.allocationPolicy();
            hubHostName = individual.iotHubHostName();
            hubs = individual.iotHubs();
            custom = individual.customAllocationDefinition();
        } else {
            EnrollmentGroup g = Objects.requireNonNull(group, "a match names an enrollment or a group");
            policy = g.allocationPolicy();
            hubHostName = g.iotHubHostName();
            hubs = g.iotHubs();
            custom = g.customAllocationDefinition();
        }
        if (policy == AllocationPolicy.CUSTOM) {
            return customUnavailable(registrationId, match.enrollment(), custom);
        }
        AllocationPolicy effective = policy != null ? policy : allocator.defaultPolicy();
        boolean noHubs = hubs == null || hubs.isEmpty();
        if (policy == null && effective == AllocationPolicy.STATIC && hubHostName == null && noHubs) {
            return new Allocation.Failed(ErrorCode.HUB_NOT_SPECIFIED, "the service's default allocation policy is "
                    + "static, but the enrollment names no hub (set iotHubHostName or one iotHubs entry, or an "
                    + "allocationPolicy)");
        }
        List<LinkedHub> linked = allocator.hubs();
        boolean pinned = effective == AllocationPolicy.STATIC || (hubHostName != null && noHubs);
        CandidateHubs.Result candidates = pinned ? CandidateHubs.forStatic(hubHostName, hubs, linked)
                : CandidateHubs.forHashing(hubs, linked);
        if (candidates instanceof CandidateHubs.Failed failed) {
            return failed.failure();
        }
        return new Allocation.Assigned(Allocator.hashed(registrationId, ((CandidateHubs.Hubs) candidates).hubs())
                .hostName());
    }

    private static Allocation customUnavailable(String registrationId, EnrollmentRef enrollment,
            @Nullable CustomAllocationDefinition custom) {
        AUDIT.info("custom allocation not available, webhook not called [registration-id: {}, enrollment: {} {}, "
                + "webhook: {}]", registrationId, enrollment.kind().name().toLowerCase(Locale.ROOT), enrollment.id(),
                custom == null ? "none" : custom.maskedWebhookUrl());
        return new Allocation.Failed(ErrorCode.CUSTOM_ALLOCATION_FAILED, CUSTOM_UNAVAILABLE);
    }
}
