package dev.tasko.bench;

import static dev.tasko.Rate.hz;

import dev.tasko.Loop;
import dev.tasko.ScheduledTask;
import dev.tasko.TaskBody;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One job at a low rate (1 Hz in full runs) for S seconds of steady state: the CPU the process and
 * the scheduler's own threads use while there is almost nothing to do. The first {@code skip} (one
 * second in full runs) is left out; process CPU is summed from every native thread's schedstat
 * (nanoseconds; the MXBean's 10 ms ticks are reported beside it as {@code cpu_mxbean}), so class
 * loading and the first JIT compilations are not counted; the readings are taken inside the job's
 * runs at {@code first + skip} and {@code first + skip + S}.
 *
 * <p>{@link #warmUp} runs the same measurement first at {@link #WARM_UP_HZ}: at one run a second,
 * the JIT takes well over an hour and a half to compile a scheduler's path fully, and a few
 * seconds at 1 kHz do the same.
 */
final class Idle {
  private Idle() {}

  /** The rate of {@link #warmUp}'s runs. */
  static final double WARM_UP_HZ = 1000;

  /** One of the implementations below: a measurement at a rate, after a settle, for a window. */
  @FunctionalInterface
  interface Job {
    List<Result> run(double hz, double skipSeconds, double seconds) throws Exception;
  }

  /** How many measurements {@link #warmUp} splits its runs into. */
  static final int WARM_UP_ROUNDS = 10;

  /**
   * Runs {@code job} about {@code runs} times at {@link #WARM_UP_HZ}, as {@link #WARM_UP_ROUNDS}
   * measurements one after another, each with a settle of a tenth of its runs, and drops their
   * figures; returns the runs counted in their settles and windows as {@code impl}'s
   * {@code warm_up_runs}. Ten rounds, not one: a measurement's end (its last reading, the job's
   * stop, the loop's end) is a branch its steady state never takes, and it must be seen before
   * the JIT compiles the path fully (after about 5,000 runs), or it is compiled as a trap that
   * sends the path back to the interpreter when the warm-up ends.
   */
  static Result warmUp(String impl, int runs, Job job) throws Exception {
    double seconds = runs / WARM_UP_HZ / WARM_UP_ROUNDS;
    double made = 0;
    for (int round = 0; round < WARM_UP_ROUNDS; round++) {
      for (Result r : job.run(WARM_UP_HZ, seconds / 10, seconds * 9 / 10)) {
        if (r.metric().equals("runs") || r.metric().equals("settle_runs")) {
          made += r.value();
        }
      }
    }
    return new Result(impl, "idle", "warm_up_runs", made, "runs");
  }

  /** Readings taken at the start and at the end of the steady-state window. */
  static final class Window {
    final long skip;
    final long length;
    long first = Long.MIN_VALUE;
    long start = Long.MIN_VALUE;
    long cpu0;
    long ticks0;
    long ticks;
    long thread0;
    long carrier0;
    long cpu;
    long thread;
    long carrier;
    long runs;
    long settleRuns;
    long[] switches0;
    long[] switches;

    Window(double skipSeconds, double seconds) {
      skip = (long) (skipSeconds * 1e9);
      length = (long) (seconds * 1e9);
      // load and warm the readings, so they cost little in the window
      for (int i = 0; i < 20; i++) {
        Measure.processCpuPreciseNanos();
        Measure.carrierCpuNanos();
        Measure.threadCpuNanos(Thread.currentThread());
        Measure.contextSwitches();
      }
    }

    /** Called at each run; returns false when the window is over (readings taken). */
    boolean tick(long now, Thread scheduler) {
      if (first == Long.MIN_VALUE) {
        first = now;
      }
      if (start == Long.MIN_VALUE) {
        if (now - first >= skip) {
          start = now;
          switches0 = Measure.contextSwitches(); // read first: its own cost stays out
          cpu0 = Measure.processCpuPreciseNanos();
          ticks0 = Measure.processCpuNanos();
          thread0 = Measure.threadCpuNanos(scheduler);
          carrier0 = Measure.carrierCpuNanos();
        } else {
          settleRuns++;
        }
        return true;
      }
      runs++;
      if (now - start >= length - length / 100) { // a 1% allowance for a run that fires early
        cpu = Measure.processCpuPreciseNanos() - cpu0;
        ticks = Measure.processCpuNanos() - ticks0;
        thread = Measure.threadCpuNanos(scheduler) - thread0;
        carrier = Measure.carrierCpuNanos() - carrier0;
        switches = Measure.contextSwitches();
        return false;
      }
      return true;
    }

    List<Result> results(String impl, double seconds, boolean withCarriers) {
      List<Result> out = new ArrayList<>();
      out.add(new Result(impl, "idle", "cpu", cpu / 1e6, "ms"));
      out.add(new Result(impl, "idle", "cpu_per_10s", cpu / 1e6 * 10 / seconds, "ms"));
      out.add(new Result(impl, "idle", "cpu_mxbean", ticks / 1e6, "ms")); // 10 ms ticks on Linux
      out.add(new Result(impl, "idle", "scheduler_thread_cpu", thread / 1e6, "ms"));
      if (withCarriers) {
        out.add(new Result(impl, "idle", "carrier_cpu", carrier / 1e6, "ms"));
      }
      out.add(new Result(impl, "idle", "settle_runs", settleRuns, "runs"));
      out.add(new Result(impl, "idle", "runs", runs, "runs"));
      // Each voluntary switch is a thread going to sleep: the process's wake-ups, the JVM's own
      // threads' included (a thread that ended in the window counts as last read).
      if (switches0 != null && switches != null && switches0[0] >= 0 && switches[0] >= 0
          && runs > 0) {
        out.add(new Result(impl, "idle", "voluntary_switches_per_run",
            (switches[0] - switches0[0]) / (double) runs, "count"));
      }
      return out;
    }
  }

  static List<Result> tasko(double hz, double skip, double seconds) {
    return tasko(hz, skip, seconds, /* callback= */ false);
  }

  /** One job on tasko: a schedule, or with {@code callback} a callback schedule. */
  static List<Result> tasko(double hz, double skip, double seconds, boolean callback) {
    // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
    Loop loop = Loop.builder().name("idle").noStallWarning().build();
    Thread driver = Thread.currentThread();
    Window w = new Window(skip, seconds);
    ScheduledTask[] self = new ScheduledTask[1];
    TaskBody body = () -> {
      if (!w.tick(loop.nanoTime(), driver)) {
        self[0].stop();
      }
    };
    self[0] = callback ? loop.scheduleCallback(hz(hz), body) : loop.schedule(hz(hz), body);
    loop.run();
    return w.results(callback ? "tasko-java-callback" : "tasko-java", seconds, true);
  }

  static List<Result> executor(double hz, double skip, double seconds) throws InterruptedException {
    Thread[] worker = new Thread[1];
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
      worker[0] = new Thread(r, "stpe-idle");
      return worker[0];
    });
    Window w = new Window(skip, seconds);
    CountDownLatch done = new CountDownLatch(1);
    try {
      executor.scheduleAtFixedRate(() -> {
        if (!w.tick(System.nanoTime(), worker[0])) {
          done.countDown();
          throw new IllegalStateException("window over");
        }
      }, 0, Math.round(1e9 / hz), TimeUnit.NANOSECONDS);
      done.await();
    } finally {
      executor.shutdownNow();
    }
    return w.results("stpe", seconds, false);
  }

  /** The floor: a platform thread that only sleeps, at the same rate. */
  static List<Result> sleeper(double hz, double skip, double seconds) throws InterruptedException {
    Window w = new Window(skip, seconds);
    long interval = Math.round(1e9 / hz);
    long next = System.nanoTime();
    while (w.tick(System.nanoTime(), Thread.currentThread())) {
      next += interval;
      long wait = next - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(Duration.ofNanos(wait));
      }
    }
    return w.results("jvm-sleep", seconds, false);
  }
}
