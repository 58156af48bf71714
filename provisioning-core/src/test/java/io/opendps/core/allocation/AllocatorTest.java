package io.opendps.core.allocation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opendps.core.error.ErrorCode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class AllocatorTest {

    private static final LinkedHub HUB_A = LinkedHub.of("hub-a.azure-devices.net");
    private static final LinkedHub HUB_B = LinkedHub.of("hub-b.azure-devices.net");
    private static final LinkedHub HUB_C = LinkedHub.of("hub-c.azure-devices.net");
    private static final LinkedHub HUB_D = LinkedHub.of("hub-d.azure-devices.net");

    private static List<String> ids(int count) {
        return IntStream.range(0, count).mapToObj(i -> String.format(Locale.ROOT, "device-%05d", i)).toList();
    }

    private static String hubOf(Allocator allocator, String registrationId) {
        Allocation allocation = allocator.allocate(registrationId, null);
        assertThat(allocation).isInstanceOf(Allocation.Assigned.class);
        return ((Allocation.Assigned) allocation).hub();
    }

    private static Map<String, Integer> histogram(Allocator allocator, List<String> ids) {
        Map<String, Integer> counts = new HashMap<>();
        for (String id : ids) {
            counts.merge(hubOf(allocator, id), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void allocate_sameId_isDeterministic() {
        Allocator first = new Allocator(List.of(HUB_A, HUB_B, HUB_C));
        Allocator second = new Allocator(List.of(HUB_C, HUB_A, HUB_B));

        for (String id : ids(500)) {
            assertThat(hubOf(second, id)).isEqualTo(hubOf(first, id)).isEqualTo(hubOf(first, id));
        }
    }

    @Test
    void allocate_idCase_doesNotMatter() {
        Allocator allocator = new Allocator(List.of(HUB_A, HUB_B, HUB_C));

        for (String id : ids(500)) {
            assertThat(hubOf(allocator, id.toUpperCase(Locale.ROOT))).isEqualTo(hubOf(allocator, id));
        }
    }

    @Test
    void allocate_equalWeights_spreadsEvenly() {
        Map<String, Integer> counts = histogram(new Allocator(List.of(HUB_A, HUB_B, HUB_C)), ids(9_000));

        assertThat(counts).hasSize(3);
        assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(2_750, 3_250));
    }

    @Test
    void allocate_weightsOneToThree_isRoughlyProportional() {
        LinkedHub light = new LinkedHub("light.azure-devices.net", 1, true);
        LinkedHub heavy = new LinkedHub("heavy.azure-devices.net", 3, true);

        Map<String, Integer> counts = histogram(new Allocator(List.of(light, heavy)), ids(10_000));

        assertThat(counts.get("light.azure-devices.net")).isBetween(2_300, 2_700);
        assertThat(counts.get("heavy.azure-devices.net")).isBetween(7_300, 7_700);
    }

    @Test
    void allocate_hubAdded_movesOnlyAboutOneNthToTheNewHub() {
        Allocator before = new Allocator(List.of(HUB_A, HUB_B, HUB_C));
        Allocator after = new Allocator(List.of(HUB_A, HUB_B, HUB_C, HUB_D));
        List<String> ids = ids(10_000);

        List<String> moved = new ArrayList<>();
        for (String id : ids) {
            String old = hubOf(before, id);
            String now = hubOf(after, id);
            if (!old.equals(now)) {
                assertThat(now).as("a device that moves goes to the new hub").isEqualTo(HUB_D.hostName());
                moved.add(id);
            }
        }
        assertThat(moved.size()).isBetween(2_200, 2_800);
    }

    @Test
    void allocate_hubWithoutAllocationPolicy_isNeverChosen() {
        LinkedHub excluded = new LinkedHub("excluded.azure-devices.net", 1000, false);
        Allocator allocator = new Allocator(List.of(HUB_A, excluded, HUB_B));

        Map<String, Integer> counts = histogram(allocator, ids(2_000));

        assertThat(counts).containsOnlyKeys(HUB_A.hostName(), HUB_B.hostName());
    }

    @Test
    void allocate_noHubTakesPart_failsWithHubNotSpecified() {
        Allocator allocator = new Allocator(List.of(new LinkedHub("only.azure-devices.net", 1, false)));

        Allocation allocation = allocator.allocate("my-device-01", null);

        assertThat(allocation).isInstanceOfSatisfying(Allocation.Failed.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.HUB_NOT_SPECIFIED);
            assertThat(f.code().code()).isEqualTo(400208);
        });
    }

    @Test
    void allocate_staticHub_winsOverHashingAndIgnoresCase() {
        Allocator allocator = new Allocator(List.of(HUB_A, HUB_B, HUB_C));

        for (String id : ids(50)) {
            assertThat(allocator.allocate(id, "HUB-B.Azure-Devices.NET"))
                    .isEqualTo(new Allocation.Assigned(HUB_B.hostName()));
        }
    }

    @Test
    void allocate_staticHubOutsideAllocationPolicy_isStillAssigned() {
        LinkedHub manual = new LinkedHub("manual.azure-devices.net", 1, false);
        Allocator allocator = new Allocator(List.of(HUB_A, manual));

        assertThat(allocator.allocate("my-device-01", "manual.azure-devices.net"))
                .isEqualTo(new Allocation.Assigned("manual.azure-devices.net"));
    }

    @Test
    void allocate_staticHubNotLinked_failsNamingTheHub() {
        Allocator allocator = new Allocator(List.of(HUB_A));

        Allocation allocation = allocator.allocate("my-device-01", "gone.azure-devices.net");

        assertThat(allocation).isInstanceOfSatisfying(Allocation.Failed.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.HUB_NOT_SPECIFIED);
            assertThat(f.message()).contains("gone.azure-devices.net");
        });
    }

    @Test
    void find_hostName_isCaseInsensitive() {
        Allocator allocator = new Allocator(List.of(HUB_A, HUB_B));

        assertThat(allocator.find("Hub-A.Azure-Devices.Net")).contains(HUB_A);
        assertThat(allocator.find("hub-x.azure-devices.net")).isEmpty();
        assertThat(allocator.hubs()).containsExactly(HUB_A, HUB_B);
    }

    @Test
    void constructor_noHubs_isRejected() {
        assertThatThrownBy(() -> new Allocator(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void linkedHub_weightOutOfRangeOrBlankName_isRejected() {
        assertThatThrownBy(() -> new LinkedHub("h", 0, true)).hasMessageContaining("1..1000");
        assertThatThrownBy(() -> new LinkedHub("h", 1001, true)).hasMessageContaining("1..1000");
        assertThatThrownBy(() -> new LinkedHub(" ", 1, true)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new LinkedHub("Hub-A.Azure-Devices.Net", 2, true).hostName()).isEqualTo("hub-a.azure-devices.net");
    }
}
