package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class ProcStatTest {

    private static final String STAT = "4242 (java) S 1 4242 4242 0 -1 4194560 51234 0 12 0 1234 567 0 0 20 0 42 0 "
            + "9876 4096000000 70000 18446744073709551615 1 1 0 0 0 0 0 4096 17663 0 0 0 17 1 0 0 0 0 0";

    @Test
    void cpuNanos_sumsUserAndSystemTicksAt100Hz() {
        assertThat(ProcStat.cpuNanos(STAT)).isEqualTo((1234L + 567L) * 10_000_000L);
    }

    @Test
    void cpuNanos_commandNameWithSpacesAndParentheses_countsFieldsAfterTheLastParenthesis() {
        String odd = STAT.replace("(java)", "(my (odd) cmd)");

        assertThat(ProcStat.cpuNanos(odd)).isEqualTo((1234L + 567L) * 10_000_000L);
    }

    @Test
    void cpuNanos_notAStatLine_isRejected() {
        assertThatThrownBy(() -> ProcStat.cpuNanos("hello")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("')'");
        assertThatThrownBy(() -> ProcStat.cpuNanos("1 (x) S 1 2")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fields");
        assertThatThrownBy(() -> ProcStat.cpuNanos(STAT.replace(" 1234 567 ", " a b ")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("utime");
    }

    @Test
    void peakRss_readsVmHwmInKibibytes() {
        String status = "Name:\tjava\nVmPeak:\t 5000000 kB\nVmHWM:\t  345678 kB\nVmRSS:\t  300000 kB\n";

        assertThat(ProcStat.peakRssBytes(status)).hasValue(345_678L * 1024);
        assertThat(ProcStat.peakRssBytes("Name:\tjava\n")).isEmpty();
    }

    @Test
    void heapUsed_readsTheFirstUsedValueOfGcHeapInfo() {
        String g1 = """
                4242:
                 garbage-first heap   total 262144K, used 23456K [0x00000000e0000000, 0x0000000100000000)
                  region size 1024K, 12 young (12288K), 2 survivors (2048K)
                 Metaspace       used 41234K, committed 41856K, reserved 1089536K
                """;

        assertThat(ProcStat.heapUsedBytes(g1)).hasValue(23_456L * 1024);
        assertThat(ProcStat.heapUsedBytes("4242:\ncom.sun.tools.attach.AttachNotSupportedException")).isEmpty();
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void ownProcess_hasCpuTimeAndPeakRss() {
        long pid = ProcessHandle.current().pid();

        OptionalLong cpu = ProcStat.cpuNanos(pid);
        assertThat(cpu).isPresent();
        assertThat(cpu.getAsLong()).isPositive();
        assertThat(ProcStat.peakRssBytes(pid)).isPresent();
    }

    @Test
    void goneProcess_isEmpty() {
        assertThat(ProcStat.cpuNanos(Long.MAX_VALUE)).isEmpty();
        assertThat(ProcStat.peakRssBytes(Long.MAX_VALUE)).isEmpty();
    }
}
