package io.opendps.sim;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Drives one load run: warm-up flows (closed loop, not measured), then the measured flows, each started at its
 * {@link ArrivalSchedule} due time or, when {@code concurrency} flows are in flight, as soon as one ends (the
 * lateness is recorded as {@code startDelay}). One dispatcher thread (the caller's) starts flows; the flows
 * themselves run on the shared {@link SimulatorRuntime}. Bounded: the run stops starting flows at the duration
 * bound, and waits for flows in flight at most their timeout plus a margin.
 *
 * <p>Server metrics ({@code serverPid} set): CPU from {@code /proc/PID/stat} at the start and end of the measured
 * phase; heap sampled every 2 s with {@code jcmd PID GC.heap_info} on a scheduler thread (a process spawn per
 * sample; the load generator's own CPU includes it).
 */
final class LoadRun {

    /** Starts flow number {@code index} (warm-up flows first); the future never completes exceptionally. */
    @FunctionalInterface
    interface FlowStarter {
        CompletableFuture<LoadFlowResult> start(int index);
    }

    /**
     * What to run.
     *
     * @param mode the mode's name, for the report
     * @param devices measured flows
     * @param concurrency flows in flight at most
     * @param schedule arrival times of the measured flows
     * @param duration bound of the measured phase (no flow starts after it)
     * @param warmup flows before the measurement, not recorded
     * @param flowTimeout the limit of one flow (how long to wait for the last ones)
     * @param serverPid the local server's process id for CPU and heap, or {@code null}
     */
    record Settings(String mode, int devices, int concurrency, ArrivalSchedule schedule, Duration duration,
            int warmup, Duration flowTimeout, @Nullable Long serverPid) {
    }

    private static final Duration DRAIN_MARGIN = Duration.ofSeconds(15);
    private static final long HEAP_SAMPLE_SECONDS = 2;

    private final Settings settings;
    private final ScheduledExecutorService scheduler;
    private final PrintWriter progressOut;
    private final boolean terminal;
    private final AtomicLong peakHeap = new AtomicLong(-1);

    LoadRun(Settings settings, ScheduledExecutorService scheduler, PrintWriter progressOut, boolean terminal) {
        this.settings = settings;
        this.scheduler = scheduler;
        this.progressOut = progressOut;
        this.terminal = terminal;
    }

    /** Runs the warm-up and the measurement; returns the report. */
    LoadReport run(FlowStarter starter) throws InterruptedException {
        warmUp(starter);
        LoadStats stats = new LoadStats();
        long ownPid = ProcessHandle.current().pid();
        OptionalLong ownCpuStart = ProcStat.cpuNanos(ownPid);
        OptionalLong serverCpuStart = settings.serverPid() == null ? OptionalLong.empty()
                : ProcStat.cpuNanos(settings.serverPid());
        ScheduledFuture<?> heapSampler = settings.serverPid() == null ? null
                : scheduler.scheduleWithFixedDelay(this::sampleHeap, 0, HEAP_SAMPLE_SECONDS, TimeUnit.SECONDS);
        long start = System.nanoTime();
        AtomicLong lastEnd = new AtomicLong(start);
        ScheduledFuture<?> progress = scheduler.scheduleAtFixedRate(new Progress(stats, start), 1,
                terminal ? 1 : 5, TimeUnit.SECONDS);
        long notStarted;
        try {
            notStarted = dispatch(starter, stats, start, lastEnd);
        } finally {
            progress.cancel(false);
            if (heapSampler != null) {
                heapSampler.cancel(false);
            }
        }
        if (terminal) {
            progressOut.print("\r\033[K");
            progressOut.flush();
        }
        double seconds = Math.max(1, lastEnd.get() - start) / 1e9;
        long completed = stats.completedCount();
        LoadReport.ServerUsage server = null;
        if (settings.serverPid() != null) {
            sampleHeap();
            long pid = settings.serverPid();
            OptionalLong cpuEnd = ProcStat.cpuNanos(pid);
            double cpu = serverCpuStart.isPresent() && cpuEnd.isPresent()
                    ? (cpuEnd.getAsLong() - serverCpuStart.getAsLong()) / 1e9 : Double.NaN;
            OptionalLong rss = ProcStat.peakRssBytes(pid);
            long heap = peakHeap.get();
            server = new LoadReport.ServerUsage(pid, round(cpu), completed == 0 ? 0 : round(cpu * 1000 / completed),
                    heap < 0 ? null : round(heap / 1048576.0), rss.isPresent() ? round(rss.getAsLong() / 1048576.0)
                    : null);
        }
        OptionalLong ownCpuEnd = ProcStat.cpuNanos(ownPid);
        double ownCpu = ownCpuStart.isPresent() && ownCpuEnd.isPresent()
                ? (ownCpuEnd.getAsLong() - ownCpuStart.getAsLong()) / 1e9 : Double.NaN;
        return new LoadReport(settings.mode(), settings.devices() - notStarted, settings.concurrency(),
                settings.schedule().ratePerSecond(), settings.warmup(), completed, stats.failedCount(), notStarted,
                round(seconds), round(completed / seconds), stats.latencies(), stats.errors(), server, round(ownCpu));
    }

    private void warmUp(FlowStarter starter) throws InterruptedException {
        if (settings.warmup() == 0) {
            return;
        }
        Semaphore permits = new Semaphore(settings.concurrency());
        for (int i = 0; i < settings.warmup(); i++) {
            permits.acquire();
            starter.start(i).whenComplete((r, e) -> permits.release());
        }
        drain(permits);
        progressOut.printf(Locale.ROOT, "warm-up: %d flows done%n", settings.warmup());
        progressOut.flush();
    }

    /** Starts the measured flows; returns how many were not started because of the duration bound. */
    private long dispatch(FlowStarter starter, LoadStats stats, long start, AtomicLong lastEnd)
            throws InterruptedException {
        Semaphore permits = new Semaphore(settings.concurrency());
        long deadline = start + settings.duration().toNanos();
        int started = 0;
        for (; started < settings.devices(); started++) {
            long due = start + settings.schedule().dueOffsetNanos(started);
            long now;
            while ((now = System.nanoTime()) < due && now < deadline) {
                LockSupport.parkNanos(Math.min(due, deadline) - now);
            }
            if (now >= deadline || !permits.tryAcquire(Math.max(0, deadline - now), TimeUnit.NANOSECONDS)) {
                break;
            }
            if (settings.schedule().openLoop()) {
                stats.record("startDelay", Duration.ofNanos(Math.max(0, System.nanoTime() - due)));
            }
            stats.started();
            starter.start(settings.warmup() + started).whenComplete((result, error) -> {
                LoadFlowResult r = result != null ? result : new LoadFlowResult(false,
                        "harness: " + LoadStats.shorten(FailureMessages.describe(error)), null, null, null, null,
                        Duration.ZERO);
                r.recordInto(stats);
                lastEnd.accumulateAndGet(System.nanoTime(), Math::max);
                permits.release();
            });
        }
        drain(permits);
        return settings.devices() - started;
    }

    private void drain(Semaphore permits) throws InterruptedException {
        if (!permits.tryAcquire(settings.concurrency(), settings.flowTimeout().plus(DRAIN_MARGIN).toMillis(),
                TimeUnit.MILLISECONDS)) {
            progressOut.printf(Locale.ROOT, "some flows did not end within their timeout; reporting without them%n");
            progressOut.flush();
        }
    }

    private void sampleHeap() {
        Long pid = settings.serverPid();
        if (pid == null) {
            return;
        }
        try {
            Process p = new ProcessBuilder("jcmd", Long.toString(pid), "GC.heap_info").redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor(10, TimeUnit.SECONDS)) {
                ProcStat.heapUsedBytes(out).ifPresent(used -> peakHeap.accumulateAndGet(used, Math::max));
            }
        } catch (IOException e) {
            // no jcmd on the PATH or not attachable: peak heap stays unknown
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static double round(double value) {
        return Double.isNaN(value) ? value : Math.round(value * 100) / 100.0;
    }

    /** The progress line: a rewritten single line on a terminal, a plain line every 5 s otherwise. */
    private final class Progress implements Runnable {

        private final LoadStats stats;
        private final long start;
        private long lastDone;
        private long lastNanos;

        Progress(LoadStats stats, long start) {
            this.stats = stats;
            this.start = start;
            this.lastNanos = start;
        }

        @Override
        public void run() {
            long now = System.nanoTime();
            long done = stats.completedCount() + stats.failedCount();
            double rate = (done - lastDone) / Math.max(1e-9, (now - lastNanos) / 1e9);
            lastDone = done;
            lastNanos = now;
            String line = String.format(Locale.ROOT, "%5.0f s  done %d/%d  in flight %d  failed %d  %.1f flows/s",
                    (now - start) / 1e9, done, settings.devices(), stats.inFlight(), stats.failedCount(), rate);
            if (terminal) {
                progressOut.print("\r\033[K" + line);
            } else {
                progressOut.println(line);
            }
            progressOut.flush();
        }
    }
}
