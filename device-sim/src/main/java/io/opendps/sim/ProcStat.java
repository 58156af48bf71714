package io.opendps.sim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a Linux process's CPU time and memory from {@code /proc}, and a JVM's heap from {@code jcmd GC.heap_info}.
 *
 * <p>Decisions: CPU time is {@code utime + stime} (fields 14 and 15 of {@code /proc/PID/stat}) in clock ticks of
 * 100 Hz ({@code USER_HZ} is 100 on every Linux architecture the project runs on; the kernel reports in it whatever
 * {@code CONFIG_HZ} is). The command name (field 2) may contain spaces and parentheses, so fields are counted after
 * the last {@code ')'}. Peak heap comes from sampling {@code jcmd PID GC.heap_info} (the attach mechanism without
 * a library; works for a JVM of the same user) and taking the highest "used" value; peak RSS is {@code VmHWM}.
 */
final class ProcStat {

    /** Clock ticks per second of {@code /proc/PID/stat}'s times. */
    static final long TICKS_PER_SECOND = 100;

    private static final Pattern VM_HWM = Pattern.compile("(?m)^VmHWM:\\s+(\\d+)\\s+kB");
    private static final Pattern HEAP_USED = Pattern.compile("(?m)^\\s*\\S.*?\\btotal\\s+\\d+K,\\s+used\\s+(\\d+)K");

    private ProcStat() {
    }

    /**
     * The CPU time (user + system) in a {@code /proc/PID/stat} line.
     *
     * @param stat the file's content
     * @return the CPU time in nanoseconds
     * @throws IllegalArgumentException if the line is not a stat line
     */
    static long cpuNanos(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            throw new IllegalArgumentException("not a /proc/PID/stat line: no ')' after the command name");
        }
        String[] fields = stat.substring(close + 1).trim().split("\\s+");
        // fields[0] is field 3 (state); utime is field 14, stime field 15
        if (fields.length < 13) {
            throw new IllegalArgumentException("not a /proc/PID/stat line: " + fields.length + " fields after ')'");
        }
        try {
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return ticks * (1_000_000_000L / TICKS_PER_SECOND);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a /proc/PID/stat line: utime/stime not numbers", e);
        }
    }

    /** The CPU time of a process, or empty when it cannot be read (gone, not Linux). */
    static OptionalLong cpuNanos(long pid) {
        return read(Path.of("/proc", Long.toString(pid), "stat")).map(ProcStat::cpuNanosOrEmpty)
                .orElse(OptionalLong.empty());
    }

    private static OptionalLong cpuNanosOrEmpty(String stat) {
        try {
            return OptionalLong.of(cpuNanos(stat));
        } catch (IllegalArgumentException e) {
            return OptionalLong.empty();
        }
    }

    /** The peak resident set size ({@code VmHWM}) in a {@code /proc/PID/status} text, in bytes. */
    static OptionalLong peakRssBytes(String status) {
        Matcher m = VM_HWM.matcher(status);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1)) * 1024) : OptionalLong.empty();
    }

    /** The peak resident set size of a process, or empty when it cannot be read. */
    static OptionalLong peakRssBytes(long pid) {
        return read(Path.of("/proc", Long.toString(pid), "status")).map(ProcStat::peakRssBytes)
                .orElse(OptionalLong.empty());
    }

    /**
     * The heap in use in the output of {@code jcmd PID GC.heap_info}: the first line's {@code used NK} (G1:
     * {@code " garbage-first heap   total 262144K, used 23456K [...]"}).
     */
    static OptionalLong heapUsedBytes(String heapInfo) {
        Matcher m = HEAP_USED.matcher(heapInfo);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1)) * 1024) : OptionalLong.empty();
    }

    private static java.util.Optional<String> read(Path file) {
        try {
            return java.util.Optional.of(Files.readString(file, StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }
}
