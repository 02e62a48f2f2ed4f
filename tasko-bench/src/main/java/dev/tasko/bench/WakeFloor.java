package dev.tasko.bench;

import dev.tasko.Loop;
import dev.tasko.ScheduledTask;
import dev.tasko.TaskBody;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * What running code at a deadline costs on standard JDK APIs, one deadline at a time: a body run
 * at deadlines {@code interval} apart (a fixed grid) in several ways, each way the cheapest one
 * of its kind that we know. The first {@code warm-up} runs are not measured (the default, 20,000,
 * is past the JIT's thresholds for a method called once a run); then {@code cycles} runs are, and
 * it prints per run the process's CPU time (every thread, from {@code /proc}) and its voluntary
 * context switches (each is a thread that went to sleep and had to be woken), and the deadlines
 * that passed in the measured window. The readings are taken inside the body, at the window's
 * start and end, after a first reading before the warm-up (so that the code that reads is loaded
 * and compiled); each takes a fraction of a millisecond, which the timers catch up by running at
 * once and a tasko schedule by skipping runs two intervals behind (the deadlines passed then
 * exceed the runs). No lateness is reported, for the same reason.
 *
 * <pre>
 * java -cp benchmarks.jar dev.tasko.bench.WakeFloor VARIANT [cycles] [interval-us] [warm-up]
 * </pre>
 *
 * <ul>
 *   <li>{@code platform}: a platform thread parks until each deadline and runs the body itself, as
 *       a one-thread {@code ScheduledThreadPoolExecutor} does.
 *   <li>{@code virtual}: a virtual thread parks until each deadline and runs the body; its timed
 *       park goes through the JDK's scheduler.
 *   <li>{@code handoff}: a platform thread parks until each deadline, then wakes a virtual thread
 *       that runs the body and waits again, and parks until the next deadline without waiting for
 *       it: the cheapest way we know to run a body on a virtual thread of its own while another
 *       thread keeps the time.
 *   <li>{@code handoff-back}: the same, but the platform thread waits until the virtual thread
 *       hands back before it parks for the next deadline.
 *   <li>{@code tasko}: one schedule ({@link Loop#schedule}) at the interval; {@code
 *       tasko-callback}: one callback schedule ({@link Loop#scheduleCallback}); both on a loop
 *       with the default idle strategy.
 * </ul>
 *
 * <p>Defaults: 10,000 cycles of 500 µs after a warm-up of 20,000. Run each variant in a JVM of its
 * own, one after another, with nothing else running.
 */
public final class WakeFloor {
  static final List<String> VARIANTS = List.of("platform", "virtual", "handoff", "handoff-back",
      "tasko", "tasko-callback");
  /** Runs before the measured ones: past the JIT's thresholds for a method called once a run. */
  static final int WARM_UP = 20_000;
  private static final String WORKLOAD = "wake-floor";

  private WakeFloor() {}

  /** Runs it; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 4 || !VARIANTS.contains(args[0])) {
      System.err.println("usage: WakeFloor " + String.join("|", VARIANTS)
          + " [cycles] [interval-us] [warm-up]");
      System.exit(2);
      return;
    }
    List<Result> results;
    try {
      int cycles = args.length > 1 ? number("cycles", args[1]) : 10_000;
      long intervalMicros = args.length > 2 ? number("interval-us", args[2]) : 500;
      int warmUp = args.length > 3 ? number("warm-up", args[3]) : WARM_UP;
      results = run(args[0], cycles, intervalMicros * 1_000, warmUp);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    for (Result r : results) {
      System.out.println(r.line());
    }
  }

  /** {@code value} as an int, or an exception naming the argument: for the benchmarks' mains. */
  static int number(String name, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " is not a whole number: " + value);
    }
  }

  /**
   * Runs {@code variant} for {@code warmUp} unmeasured deadlines then {@code cycles} measured ones,
   * {@code interval} ns apart.
   */
  static List<Result> run(String variant, int cycles, long interval, int warmUp)
      throws InterruptedException {
    if (!VARIANTS.contains(variant)) {
      throw new IllegalArgumentException("unknown variant: " + variant);
    }
    if (cycles <= 0) {
      throw new IllegalArgumentException("cycles <= 0: " + cycles);
    }
    if (interval <= 0) {
      throw new IllegalArgumentException("interval <= 0: " + interval + " ns");
    }
    if (warmUp < 0) {
      throw new IllegalArgumentException("warmUp < 0: " + warmUp);
    }
    Measure.contextSwitches(); // loads and runs the reading code once, outside the window
    Measure.processCpuPreciseNanos();
    Probe probe = new Probe(cycles, interval, warmUp);
    switch (variant) {
      case "platform" -> {
        Thread t = Thread.ofPlatform().start(() -> timedLoop(probe));
        t.join();
      }
      case "virtual" -> {
        Thread t = Thread.ofVirtual().start(() -> timedLoop(probe));
        t.join();
      }
      case "handoff" -> handOff(probe, false);
      case "handoff-back" -> handOff(probe, true);
      default -> tasko(probe, variant.equals("tasko-callback"));
    }
    return probe.results(variant);
  }

  /** Parks until each deadline of the grid and runs the body on this thread. */
  private static void timedLoop(Probe probe) {
    while (true) {
      parkUntil(probe.nextDeadline());
      if (!probe.body()) {
        return;
      }
    }
  }

  private static void parkUntil(long deadline) {
    for (long wait; (wait = deadline - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(wait);
    }
  }

  /** A virtual thread runs the body; this thread keeps the time and wakes it at each deadline. */
  private static void handOff(Probe probe, boolean waitForIt) throws InterruptedException {
    Thread timer = Thread.currentThread();
    HandOff turn = new HandOff();
    Thread body = Thread.ofVirtual().start(() -> {
      boolean more = true;
      try {
        for (int done = 0; more; ) {
          while (done == turn.granted) {
            LockSupport.park();
          }
          done++;
          more = probe.body();
          if (waitForIt && more) {
            turn.handedBack = true;
            LockSupport.unpark(timer);
          }
        }
      } catch (Throwable e) {
        turn.failure = e;
      } finally {
        turn.over = true; // also if the body threw: the timer must not wait for it for ever
        turn.handedBack = true;
        LockSupport.unpark(timer);
      }
    });
    while (true) {
      parkUntil(probe.nextDeadline());
      if (turn.over) {
        break;
      }
      turn.granted++; // only this thread writes it; a count, so that no run is lost if one is late
      LockSupport.unpark(body);
      if (waitForIt) {
        while (!turn.handedBack) {
          LockSupport.park();
        }
        turn.handedBack = false;
        if (turn.over) {
          break;
        }
      }
    }
    body.join();
    if (turn.failure != null) {
      throw new IllegalStateException("the body failed", turn.failure);
    }
  }

  /** Whose turn it is in {@link #handOff}. */
  private static final class HandOff {
    /** Runs the timer has granted the body so far. */
    volatile int granted;
    volatile boolean handedBack;
    volatile boolean over;
    volatile Throwable failure;
  }

  private static void tasko(Probe probe, boolean callback) {
    Loop loop = Loop.builder().name("wake-floor").noStallWarning().build();
    Duration every = Duration.ofNanos(probe.interval);
    ScheduledTask[] s = new ScheduledTask[1];
    TaskBody body = () -> {
      if (!probe.body()) {
        s[0].cancel();
      }
    };
    s[0] = callback ? loop.scheduleCallback("job", every, body) : loop.schedule("job", every, body);
    loop.run();
  }

  /**
   * The grid, the count, the readings: the body takes the readings at the start and the end of the
   * measured window. The grid is the thread's that keeps the time; the count and the readings are
   * the body's, each run ordered after the previous one by the hand-off that started it.
   */
  private static final class Probe {
    final int cycles;
    final long interval;
    final int warmUp;
    long start = Long.MIN_VALUE;
    long deadline;
    int runs;
    long cpu0;
    long cpu1;
    long[] ctx0;
    long[] ctx1;
    long window0;
    long window1;

    Probe(int cycles, long interval, int warmUp) {
      this.cycles = cycles;
      this.interval = interval;
      this.warmUp = warmUp;
    }

    /** The next deadline of the grid, the first one now. */
    long nextDeadline() {
      if (start == Long.MIN_VALUE) {
        start = System.nanoTime();
        deadline = start;
      } else {
        deadline += interval;
      }
      return deadline;
    }

    /** One run of the body; false once the measured window is over. */
    boolean body() {
      if (runs == warmUp) {
        window0 = System.nanoTime();
        ctx0 = Measure.contextSwitches();
        cpu0 = Measure.processCpuPreciseNanos();
      }
      runs++;
      if (runs == warmUp + cycles + 1) {
        cpu1 = Measure.processCpuPreciseNanos();
        ctx1 = Measure.contextSwitches();
        window1 = System.nanoTime();
        return false;
      }
      return true;
    }

    List<Result> results(String impl) {
      List<Result> out = new ArrayList<>();
      out.add(new Result(impl, WORKLOAD, "runs", cycles, "count"));
      out.add(new Result(impl, WORKLOAD, "interval", interval / 1e3, "us"));
      out.add(new Result(impl, WORKLOAD, "deadlines_passed",
          Math.round((double) (window1 - window0) / interval), "count"));
      out.add(new Result(impl, WORKLOAD, "cpu_per_run", (cpu1 - cpu0) / 1e3 / cycles, "us"));
      if (ctx0[0] >= 0) {
        out.add(new Result(impl, WORKLOAD, "voluntary_switches_per_run",
            (double) (ctx1[0] - ctx0[0]) / cycles, "count"));
      }
      return out;
    }
  }
}
