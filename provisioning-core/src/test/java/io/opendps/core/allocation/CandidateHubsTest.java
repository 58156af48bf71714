package io.opendps.core.allocation;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.error.ErrorCode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The candidate-set rules and, as properties over 20,000 random registration ids (fixed seed, so a failure
 * reproduces), weighted rendezvous hashing: determinism, proportionality to the weights within ±1.5 percentage
 * points of each hub's share, and minimal movement (only the devices of a removed hub move; a new hub takes about
 * 1/n and only from others).
 */
class CandidateHubsTest {

    private static final LinkedHub A = LinkedHub.of("hub-a.example.com");
    private static final LinkedHub B = LinkedHub.of("hub-b.example.com");
    private static final LinkedHub C = LinkedHub.of("hub-c.example.com");
    private static final LinkedHub OFF = new LinkedHub("hub-off.example.com", 1, false);
    private static final int IDS = 20_000;
    /** Allowed deviation of a hub's share from its expected share (binomial sd at 20,000 ids is ≤ 0.36 points). */
    private static final double TOLERANCE = 0.015;

    private static List<String> randomIds(long seed) {
        Random random = new Random(seed);
        List<String> ids = new ArrayList<>(IDS);
        for (int i = 0; i < IDS; i++) {
            ids.add(new UUID(random.nextLong(), random.nextLong()) + "-" + random.nextInt(1000));
        }
        return ids;
    }

    private static List<LinkedHub> hubs(CandidateHubs.Result result) {
        assertThat(result).isInstanceOf(CandidateHubs.Hubs.class);
        return ((CandidateHubs.Hubs) result).hubs();
    }

    private static Allocation.Failed failure(CandidateHubs.Result result) {
        assertThat(result).isInstanceOf(CandidateHubs.Failed.class);
        return ((CandidateHubs.Failed) result).failure();
    }

    @Test
    void forHashing_noEnrollmentHubs_usesAllLinkedHubsThatApplyAllocation() {
        assertThat(hubs(CandidateHubs.forHashing(null, List.of(A, OFF, B)))).containsExactly(A, B);
        assertThat(hubs(CandidateHubs.forHashing(List.of(), List.of(A, OFF, B)))).containsExactly(A, B);
    }

    @Test
    void forHashing_enrollmentHubs_restrictTheSetCaseInsensitivelyAndDropNonApplyingHubs() {
        assertThat(hubs(CandidateHubs.forHashing(List.of("HUB-B.example.com", "hub-off.example.com"),
                List.of(A, B, C, OFF)))).containsExactly(B);
    }

    @Test
    void forHashing_listedHubNoLongerLinked_failsNamingIt() {
        Allocation.Failed f = failure(CandidateHubs.forHashing(List.of("hub-a.example.com", "gone.example.com"),
                List.of(A, B)));

        assertThat(f.code()).isEqualTo(ErrorCode.HUB_NOT_LINKED);
        assertThat(f.code().code()).isEqualTo(400209);
        assertThat(f.message()).contains("gone.example.com", "no longer a linked hub", "hub-a.example.com");
    }

    @Test
    void forHashing_onlyNonApplyingHubs_failsWithNoCandidate() {
        Allocation.Failed f = failure(CandidateHubs.forHashing(List.of("hub-off.example.com"), List.of(A, OFF)));

        assertThat(f.code()).isEqualTo(ErrorCode.HUB_NOT_SPECIFIED);
        assertThat(f.message()).contains("no candidate hub", "applyAllocationPolicy");
    }

    @Test
    void forStatic_oneHub_isThatHubEvenWhenItDoesNotApplyAllocation() {
        assertThat(hubs(CandidateHubs.forStatic(null, List.of("hub-off.example.com"), List.of(A, OFF))))
                .containsExactly(OFF);
        assertThat(hubs(CandidateHubs.forStatic("HUB-A.example.com", null, List.of(A, B)))).containsExactly(A);
    }

    @Test
    void forStatic_otherThanOneHub_orUnlinked_fails() {
        assertThat(failure(CandidateHubs.forStatic(null, List.of("hub-a.example.com", "hub-b.example.com"),
                List.of(A, B))).message()).contains("exactly one hub", "2");
        assertThat(failure(CandidateHubs.forStatic(null, null, List.of(A))).code())
                .isEqualTo(ErrorCode.HUB_NOT_SPECIFIED);
        assertThat(failure(CandidateHubs.forStatic(null, List.of("gone.example.com"), List.of(A))).code())
                .isEqualTo(ErrorCode.HUB_NOT_LINKED);
    }

    @Test
    void hashed_isDeterministicAndIndependentOfListOrder() {
        for (String id : randomIds(1).subList(0, 2_000)) {
            LinkedHub first = Allocator.hashed(id, List.of(A, B, C));
            assertThat(Allocator.hashed(id, List.of(C, A, B))).isEqualTo(first);
            assertThat(Allocator.hashed(id, List.of(B, C, A))).isEqualTo(first);
        }
    }

    @Test
    void hashed_sharesAreProportionalToWeightsWithinTolerance() {
        List<LinkedHub> hubs = List.of(new LinkedHub("w1.example.com", 1, true),
                new LinkedHub("w2.example.com", 2, true), new LinkedHub("w5.example.com", 5, true),
                new LinkedHub("w12.example.com", 12, true));
        Map<LinkedHub, Integer> counts = new HashMap<>();
        for (String id : randomIds(2)) {
            counts.merge(Allocator.hashed(id, hubs), 1, Integer::sum);
        }

        for (LinkedHub hub : hubs) {
            double expected = hub.allocationWeight() / 20.0;
            double actual = counts.getOrDefault(hub, 0) / (double) IDS;
            assertThat(actual).as("share of %s", hub.hostName()).isCloseTo(expected,
                    org.assertj.core.data.Offset.offset(TOLERANCE));
        }
    }

    @Test
    void hashed_hubAdded_movesAboutOneNthOnlyToTheNewHub() {
        LinkedHub d = LinkedHub.of("hub-d.example.com");
        int moved = 0;
        for (String id : randomIds(3)) {
            LinkedHub before = Allocator.hashed(id, List.of(A, B, C));
            LinkedHub after = Allocator.hashed(id, List.of(A, B, C, d));
            if (!after.equals(before)) {
                assertThat(after).isEqualTo(d);
                moved++;
            }
        }
        assertThat(moved / (double) IDS).isCloseTo(0.25, org.assertj.core.data.Offset.offset(TOLERANCE));
    }

    @Test
    void hashed_hubRemoved_movesOnlyItsOwnDevices() {
        int moved = 0;
        for (String id : randomIds(4)) {
            LinkedHub before = Allocator.hashed(id, List.of(A, B, C));
            LinkedHub after = Allocator.hashed(id, List.of(A, B));
            if (!after.equals(before)) {
                assertThat(before).isEqualTo(C);
                moved++;
            }
        }
        assertThat(moved / (double) IDS).isCloseTo(1 / 3.0, org.assertj.core.data.Offset.offset(TOLERANCE));
    }
}
