package dev.tasko.bench;

import dev.tasko.Loop;
import dev.tasko.Tasko;
import dev.tasko.Timeline;
import java.io.IOException;
import java.text.ParseException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
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
 * The cost of one task switch: the baton passing from one task to the next at a
 * {@link Tasko#yieldNow()}, in nanoseconds per switch.
 *
 * <ul>
 *   <li>{@code taskoYield} with {@code tasks=2}: two tasks ping-ponging; with {@code tasks=100}: a
 *       hundred tasks yielding in turn, the headline figure (target: ≤ 500 ns).
 *   <li>{@code taskoYieldTimeline}: the same, with the loop recording a {@link Timeline} (a ring
 *       of the last 4096 events): the cost of leaving the recorder on.
 *   <li>{@code taskoYieldJfr}: the same as {@code taskoYield} while a JDK Flight Recorder
 *       recording runs with the JDK's default settings and tasko's events on: a yield commits no
 *       tasko event, so this is what an always-on recording costs the switch.
 *   <li>{@code virtualThreadBaton}: the JDK reference — the same ring of plain virtual threads
 *       handing a baton with a volatile flag and {@code LockSupport.park/unpark}, which is what the
 *       loop does underneath, without any of its bookkeeping. The gap between the two is tasko's
 *       overhead.
 * </ul>
 * Each invocation runs {@value #SWITCHES} switches on a fresh loop (or ring), so thread start-up is
 * amortised to under 1%. The Python peers (asyncio, original tasko) are measured by
 * {@code python3 tasko-bench/peers/peers.py --workload switch}, and in plain {@code main} form by
 * {@code Harness switch}.
 *
 * <p>Run: {@code mvn -q -B -pl tasko-bench -am package -DskipTests && java -jar
 * tasko-bench/target/benchmarks.jar SwitchBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SwitchBenchmark {
  static final int SWITCHES = 200_000;

  @Param({"2", "100"})
  public int tasks;

  @Benchmark
  @OperationsPerInvocation(SWITCHES)
  public long taskoYield() {
    // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
    Loop loop = Loop.builder().noStallWarning().build();
    int each = SWITCHES / tasks;
    for (int t = 0; t < tasks; t++) {
      loop.addTask(() -> {
        for (int i = 0; i < each; i++) {
          Tasko.yieldNow();
        }
      });
    }
    loop.run();
    return loop.stats().switches();
  }

  @Benchmark
  @OperationsPerInvocation(SWITCHES)
  public long taskoYieldTimeline() {
    return yieldRing(Loop.builder().noStallWarning().timeline(Timeline.ofLast(4096)).build());
  }

  @Benchmark
  @OperationsPerInvocation(SWITCHES)
  public long taskoYieldJfr(FlightRecording recording) {
    return yieldRing(Loop.builder().noStallWarning().build());
  }

  /** The same ring as {@link #taskoYield()}, on {@code loop}. */
  private long yieldRing(Loop loop) {
    int each = SWITCHES / tasks;
    for (int t = 0; t < tasks; t++) {
      loop.addTask(() -> {
        for (int i = 0; i < each; i++) {
          Tasko.yieldNow();
        }
      });
    }
    loop.run();
    return loop.stats().switches();
  }

  /**
   * A flight recording that runs for the whole trial of the benchmark that asks for it: the JDK's
   * default settings, with tasko's events on (as {@code config/tasko.jfc} turns them on).
   */
  @State(Scope.Benchmark)
  public static class FlightRecording {
    private Recording recording;

    @Setup(Level.Trial)
    public void start() throws IOException, ParseException {
      recording = new Recording(Configuration.getConfiguration("default"));
      for (String event : new String[] {"Stall", "ScheduleSkip", "TaskFailure", "Deadlock",
          "LeaseHoldLimit"}) {
        recording.enable("dev.tasko." + event);
      }
      recording.enable("dev.tasko.LeaseWait").withThreshold(Duration.ofMillis(10));
      recording.enable("dev.tasko.LeaseHold").withThreshold(Duration.ofMillis(50));
      recording.enable("dev.tasko.LoopSummary").withPeriod(Duration.ofSeconds(1));
      recording.start();
    }

    @TearDown(Level.Trial)
    public void stop() {
      recording.close();
    }
  }

  @Benchmark
  @OperationsPerInvocation(SWITCHES)
  public long virtualThreadBaton() throws InterruptedException {
    return Baton.run(tasks, SWITCHES);
  }
}
