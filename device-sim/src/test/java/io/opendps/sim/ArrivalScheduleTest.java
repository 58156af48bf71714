package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ArrivalScheduleTest {

    @Test
    void dueOffset_openLoop_spacesArrivalsByTheInverseRate() {
        ArrivalSchedule schedule = new ArrivalSchedule(200);

        assertThat(schedule.openLoop()).isTrue();
        assertThat(schedule.dueOffsetNanos(0)).isZero();
        assertThat(schedule.dueOffsetNanos(1)).isEqualTo(5_000_000L);
        assertThat(schedule.dueOffsetNanos(200)).isEqualTo(1_000_000_000L);
        assertThat(schedule.dueOffsetNanos(1_000_000)).isEqualTo(5_000_000_000_000L);
    }

    @Test
    void dueOffset_fractionalRate_roundsToTheNearestNanosecond() {
        ArrivalSchedule schedule = new ArrivalSchedule(3);

        assertThat(schedule.dueOffsetNanos(1)).isEqualTo(333_333_333L);
        assertThat(schedule.dueOffsetNanos(2)).isEqualTo(666_666_667L);
        assertThat(schedule.dueOffsetNanos(3)).isEqualTo(1_000_000_000L);
    }

    @Test
    void dueOffset_closedLoop_everyArrivalIsDueAtOnce() {
        ArrivalSchedule schedule = new ArrivalSchedule(0);

        assertThat(schedule.openLoop()).isFalse();
        assertThat(schedule.dueOffsetNanos(0)).isZero();
        assertThat(schedule.dueOffsetNanos(12_345)).isZero();
    }

    @Test
    void dueOffset_neverDecreases() {
        ArrivalSchedule schedule = new ArrivalSchedule(37.5);
        for (long i = 1; i < 5_000; i++) {
            assertThat(schedule.dueOffsetNanos(i)).as("arrival %d", i).isGreaterThan(schedule.dueOffsetNanos(i - 1));
        }
    }

    @Test
    void invalidRatesAndIndexes_areRejected() {
        assertThatThrownBy(() -> new ArrivalSchedule(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rate");
        assertThatThrownBy(() -> new ArrivalSchedule(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ArrivalSchedule(Double.POSITIVE_INFINITY))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ArrivalSchedule(5).dueOffsetNanos(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("index");
    }
}
