package dev.tasko.bench;

import dev.tasko.Loop;
import dev.tasko.Tasko;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Sleep/wake throughput with many sleeping tasks: {@code sleepers} tasks (10k, 100k, 1M) each sleep
 * a random 1 ns – 1 ms, wake, and sleep again, forever; one operation is one wake-up followed by
 * the next sleep (a timer-heap removal, a switch, a heap insertion), reported in nanoseconds.
 *
 * <p>The loop runs on <b>virtual time</b> ({@code Loop.builder().virtualTime()}): when nothing is
 * due it jumps its clock to the next deadline instead of waiting, so the figure is the loop's own
 * cost per timer with no OS wait in it, and it does not depend on the machine's timer resolution.
 * Real-time behaviour is measured by {@code Harness accuracy} and {@code Harness scale}.
 *
 * <p>Peer: {@code TimerBenchmark} has no in-JVM peer with virtual time; {@code Harness scale}
 * compares 100k–1M one-shot sleepers with plain virtual threads in {@code Thread.sleep}, and
 * {@code peers.py --workload scale} with asyncio.
 *
 * <p>Run: {@code mvn -q -B -pl tasko-bench -am package -DskipTests && java -jar
 * tasko-bench/target/benchmarks.jar TimerBenchmark} (the 1M case wants a heap of about 2 GiB,
 * given below).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g"})
public class TimerBenchmark {
  static final int WAKES = 100_000;

  @Param({"10000", "100000", "1000000"})
  public int sleepers;

  private Loop loop;
  // Touched only by the loop's tasks, under its baton (the hand-offs order these plain fields).
  private long seed = 0x9E3779B97F4A7C15L;
  private int started;
  private long wakes;
  private long stopAt;
  private boolean done;

  @Setup(Level.Trial)
  public void setUp() {
    // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
    loop = Loop.builder().name("timers").virtualTime().noStallWarning().build();
    for (int i = 0; i < sleepers; i++) {
      loop.addTask(this::sleeper);
    }
    stopAt = Long.MAX_VALUE;
    loop.run(); // returns once every task has started and gone to sleep (see sleeper)
  }

  private void sleeper() {
    if (++started == sleepers) {
      loop.stop();
    }
    while (!done) {
      Tasko.sleep(Duration.ofNanos(1 + nextRandom() % 1_000_000));
      if (++wakes == stopAt) {
        loop.stop();
      }
    }
  }

  private long nextRandom() {
    long x = seed; // xorshift64: cheap, and the loop runs one task at a time
    x ^= x << 13;
    x ^= x >>> 7;
    x ^= x << 17;
    seed = x;
    return x & Long.MAX_VALUE;
  }

  @Benchmark
  @OperationsPerInvocation(WAKES)
  public long sleepWake() {
    stopAt = wakes + WAKES; // read by the tasks after run() hands them the baton
    loop.run();
    return wakes;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    done = true;
    loop.run(); // every sleeper wakes once more, sees done, and ends
  }
}
