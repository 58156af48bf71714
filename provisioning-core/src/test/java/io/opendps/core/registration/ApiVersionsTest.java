package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The api-version gates: sticky hub (≤ 2018-04-01) and the reprovisionedToInitialAssignment substatus (≥ 2019-04-15). */
class ApiVersionsTest {

    @Test
    void sticky_upToAndIncluding2018_04_01() {
        assertThat(ApiVersions.sticky("2017-11-15")).isTrue();
        assertThat(ApiVersions.sticky("2018-04-01")).isTrue();
        assertThat(ApiVersions.sticky("2018-09-01-preview")).isFalse();
        assertThat(ApiVersions.sticky("2019-03-31")).isFalse();
        assertThat(ApiVersions.sticky("not-a-version")).isFalse();
    }

    @Test
    void substatus_reprovisionedIsInitialAssignmentBefore2019_04_15() {
        Substatus r = Substatus.REPROVISIONED_TO_INITIAL_ASSIGNMENT;
        assertThat(ApiVersions.substatus(r, "2019-03-31")).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertThat(ApiVersions.substatus(r, "2018-11-01")).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertThat(ApiVersions.substatus(r, "2019-04-15")).isEqualTo(r);
        assertThat(ApiVersions.substatus(r, "2021-10-01")).isEqualTo(r);
        assertThat(ApiVersions.substatus(r, "2021-11-01-preview")).isEqualTo(r);
    }

    @Test
    void substatus_otherValuesAreNeverMapped() {
        for (Substatus s : new Substatus[] {Substatus.INITIAL_ASSIGNMENT, Substatus.DEVICE_DATA_MIGRATED,
            Substatus.DEVICE_DATA_RESET}) {
            assertThat(ApiVersions.substatus(s, "2018-04-01")).isEqualTo(s);
        }
    }
}
