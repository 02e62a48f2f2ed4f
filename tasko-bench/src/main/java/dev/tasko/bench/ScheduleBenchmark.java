package dev.tasko.bench;

import static dev.tasko.Rate.hz;

import dev.tasko.Loop;
import dev.tasko.ScheduledTask;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one iteration of a scheduled no-op body: everything the scheduler does per run (the
 * timer, the grid arithmetic, the lateness record, the switches), with nothing in the body.
 *
 * <ul>
 *   <li>{@code taskoOneSchedule}: one schedule every 1 µs on <b>virtual time</b>; the loop jumps
 *       its clock to each target, so no OS wait is included (and with one task no switch is
 *       needed).
 *   <li>{@code taskoRateTest}: the 96 schedules of the original tasko's rate test (task i at
 *       3(i+1)+5 Hz) on virtual time; every run is a switch between two schedules' tasks.
 *   <li>{@code executorPeer}: the JDK peer, a one-thread {@link ScheduledThreadPoolExecutor}
 *       running a no-op {@code scheduleAtFixedRate} every 1 ns on the real clock, i.e. always due:
 *       its cost per run with no waiting either.
 * </ul>
 * Reported in nanoseconds per run.
 *
 * <p>Run: {@code mvn -q -B -pl tasko-bench -am package -DskipTests && java -jar
 * tasko-bench/target/benchmarks.jar ScheduleBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ScheduleBenchmark {
  static final int RUNS = 100_000;
  static final int RATE_TEST_TASKS = 96;

  @Benchmark
  @OperationsPerInvocation(RUNS)
  public long taskoOneSchedule() {
    // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
    Loop loop = Loop.builder().virtualTime().noStallWarning().build();
    long[] runs = new long[1];
    ScheduledTask[] self = new ScheduledTask[1];
    self[0] = loop.schedule(Duration.ofNanos(1_000), () -> {
      if (++runs[0] == RUNS) {
        self[0].stop();
      }
    });
    loop.run();
    return runs[0];
  }

  @Benchmark
  @OperationsPerInvocation(RUNS)
  public long taskoRateTest() {
    // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
    Loop loop = Loop.builder().virtualTime().noStallWarning().build();
    long[] runs = new long[1];
    ScheduledTask[] all = new ScheduledTask[RATE_TEST_TASKS];
    for (int i = 0; i < RATE_TEST_TASKS; i++) {
      all[i] = loop.schedule(hz(3.0 * (i + 1) + 5), () -> {
        if (++runs[0] == RUNS) {
          for (ScheduledTask s : all) {
            s.stop();
          }
        }
      });
    }
    loop.run();
    return runs[0];
  }

  @Benchmark
  @OperationsPerInvocation(RUNS)
  public long executorPeer() throws InterruptedException {
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
    try {
      CountDownLatch done = new CountDownLatch(1);
      long[] runs = new long[1];
      ScheduledFuture<?> unused = executor.scheduleAtFixedRate(() -> {
        if (++runs[0] == RUNS) {
          done.countDown();
          // the documented way for a periodic task to end itself
          throw new RuntimeException("done");
        }
      }, 0, 1, TimeUnit.NANOSECONDS);
      done.await();
      return runs[0];
    } finally {
      executor.shutdownNow();
    }
  }
}
