package dev.tasko.bench;

import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.ManagedResource;
import dev.tasko.Tasko;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link ManagedResource} hand-off under contention: {@code tasks} tasks (2 or 16) each loop
 * {@code acquire(); yieldNow(); close()}, so that whenever the holder yields every other task is
 * queued, and each release hands the resource straight to the next waiter. One operation is one
 * acquire–release cycle, including the yield and the hand-off switches; reported in nanoseconds.
 *
 * <p>Peer ({@code fairLockVirtualThreads}): the JDK's nearest equivalent, a fair
 * {@link ReentrantLock} (FIFO, like the resource) shared by the same number of plain virtual
 * threads doing {@code lock(); Thread.yield(); unlock()} — on a 2-core machine the virtual threads
 * also run in parallel, which tasko's tasks never do.
 *
 * <p>Run: {@code mvn -q -B -pl tasko-bench -am package -DskipTests && java -jar
 * tasko-bench/target/benchmarks.jar ResourceBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ResourceBenchmark {
  static final int ACQUISITIONS = 32_000;

  @Param({"2", "16"})
  public int tasks;

  @Benchmark
  @OperationsPerInvocation(ACQUISITIONS)
  public long managedResource() {
    // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
    Loop loop = Loop.builder().noStallWarning().build();
    long[] uses = new long[1];
    ManagedResource<long[], Integer> bus = ManagedResource.of("bus", uses, cs -> {}, cs -> {});
    int each = ACQUISITIONS / tasks;
    for (int t = 0; t < tasks; t++) {
      Handle<long[]> handle = bus.handle(t);
      loop.addTask(() -> {
        for (int i = 0; i < each; i++) {
          try (Lease<long[]> lease = handle.acquire()) {
            lease.resource()[0]++;
            Tasko.yieldNow(); // hold it across a switch point: everyone else queues up
          }
        }
      });
    }
    loop.run();
    return uses[0];
  }

  @Benchmark
  @OperationsPerInvocation(ACQUISITIONS)
  public long fairLockVirtualThreads() throws InterruptedException {
    ReentrantLock lock = new ReentrantLock(/* fair= */ true);
    long[] uses = new long[1];
    int each = ACQUISITIONS / tasks;
    Thread[] threads = new Thread[tasks];
    for (int t = 0; t < tasks; t++) {
      threads[t] = Thread.ofVirtual().start(() -> {
        for (int i = 0; i < each; i++) {
          lock.lock();
          try {
            uses[0]++;
            Thread.yield();
          } finally {
            lock.unlock();
          }
        }
      });
    }
    for (Thread t : threads) {
      t.join();
    }
    return uses[0];
  }
}
