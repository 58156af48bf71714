package io.opendps.sim;

import com.hivemq.client.mqtt.MqttClientExecutorConfig;
import io.reactivex.exceptions.UndeliverableException;
import io.reactivex.plugins.RxJavaPlugins;
import io.reactivex.schedulers.Schedulers;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads every simulated device shares: one Netty event-loop group for the MQTT connections (the HiveMQ client
 * keys its event-loop groups by executor, so all clients built with {@link #executorConfig()} use the same
 * {@code ioThreads} loops) and one small scheduler that runs MQTT callbacks, poll delays and timeouts. No device
 * ever gets a thread of its own, so thousands of devices cost a handful of threads.
 *
 * <p>Thread-safe. Create one per process (or per load run), share it, and {@link #close()} it after the last
 * device has finished; devices still running at that point fail or never complete.
 */
public final class SimulatorRuntime implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SimulatorRuntime.class);

    static {
        installRxErrorHandler();
    }

    private final ExecutorService nettyExecutor;
    private final ScheduledThreadPoolExecutor scheduler;
    private final MqttClientExecutorConfig executorConfig;

    private SimulatorRuntime(int ioThreads, int schedulerThreads) {
        this.nettyExecutor = Executors.newCachedThreadPool(named("device-sim-io-"));
        this.scheduler = new ScheduledThreadPoolExecutor(schedulerThreads, named("device-sim-app-"));
        this.scheduler.setRemoveOnCancelPolicy(true);
        this.executorConfig = MqttClientExecutorConfig.builder()
                .nettyExecutor(nettyExecutor)
                .nettyThreads(ioThreads)
                .applicationScheduler(Schedulers.from(scheduler))
                .build();
    }

    /**
     * A runtime sized for this machine: one I/O thread per available processor, two scheduler threads.
     *
     * @return a new runtime; the caller closes it
     */
    public static SimulatorRuntime create() {
        return create(Runtime.getRuntime().availableProcessors(), 2);
    }

    /**
     * A runtime with explicit thread counts.
     *
     * @param ioThreads Netty event loops shared by all connections (at least 1)
     * @param schedulerThreads threads for MQTT callbacks, poll delays and timeouts (at least 1)
     * @return a new runtime; the caller closes it
     * @throws IllegalArgumentException if a count is below 1
     */
    public static SimulatorRuntime create(int ioThreads, int schedulerThreads) {
        if (ioThreads < 1 || schedulerThreads < 1) {
            throw new IllegalArgumentException(
                    "thread counts must be at least 1 [io: " + ioThreads + ", scheduler: " + schedulerThreads + "]");
        }
        return new SimulatorRuntime(ioThreads, schedulerThreads);
    }

    /** The executor configuration to pass to every MQTT client builder: the shared event loop and scheduler. */
    public MqttClientExecutorConfig executorConfig() {
        return executorConfig;
    }

    /** The shared scheduler for poll delays, timeouts and callbacks. Never block on it. */
    public ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /**
     * Stops the scheduler (pending poll delays and timeouts are dropped) and lets the event-loop threads end once
     * the HiveMQ client has released the event-loop group (after the last connection is closed).
     */
    @Override
    public void close() {
        scheduler.shutdownNow();
        nettyExecutor.shutdown();
    }

    /**
     * RxJava reports errors it cannot deliver (a flow already finished) to a global handler whose default prints
     * a stack trace and kills the thread. After {@link #close()}, the MQTT client still ends its sessions and
     * tries to schedule their completion on the stopped scheduler; those rejections are expected and dropped.
     * Anything else is logged. Installed once, only if the application has not installed a handler itself.
     */
    private static void installRxErrorHandler() {
        if (RxJavaPlugins.getErrorHandler() != null) {
            return;
        }
        RxJavaPlugins.setErrorHandler(error -> {
            Throwable cause = error instanceof UndeliverableException ? error.getCause() : error;
            if (cause instanceof RejectedExecutionException) {
                LOG.trace("late MQTT client event after shutdown dropped", cause);
            } else {
                LOG.warn("undeliverable MQTT client error", cause);
            }
        });
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
