package io.opendps.bench;

import io.opendps.core.allocation.Allocation;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Hashed allocation (weighted rendezvous hashing: one SHA-256 per candidate hub) over n linked hubs. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AllocationBenchmark {

    @Param({"2", "10", "50"})
    public int hubs;

    private Allocator allocator;
    private int next;

    @Setup
    public void setUp() {
        List<LinkedHub> linked = new ArrayList<>();
        for (int i = 1; i <= hubs; i++) {
            linked.add(new LinkedHub("hub-" + i + ".bench.opendps.local", i, true));
        }
        allocator = new Allocator(linked);
    }

    @Benchmark
    public Allocation allocateHashed() {
        next = (next + 1) & 0xffff;
        return allocator.allocate("device-" + next, null);
    }
}
