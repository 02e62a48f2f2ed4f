package dev.tasko.bench;

import static dev.tasko.Rate.hz;

import dev.tasko.IdleStrategy;
import dev.tasko.Loop;
import dev.tasko.ScheduledTask;
import dev.tasko.TaskBody;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;

/**
 * The original tasko's rate test on the real clock: 96 fixed-rate jobs, job i at 3(i+1)+5 Hz (8–293
 * Hz, 14,400 runs/s), for a window of S seconds.
 *
 * <p>Each run's lateness is measured in its own body: the clock reading at the start of the body
 * minus the run's intended start on the fixed grid {@code first + n × interval} (the first run
 * fixes {@code first} and is not counted as late or early). Runs that start before
 * {@code first + S} count; the first run at or after it stops the job. Count error is
 * {@code |runs − S × rate|} per job. A scheduler that falls two intervals behind may restart its
 * grid (tasko counts these as skipped runs; the executor never does, it replays): then lateness is
 * measured on the new grid. CPU is the process's CPU time over the whole run
 * (OperatingSystemMXBean: it includes threads that have exited, like the executor's worker; 10 ms
 * ticks are fine over seconds). On a virtual machine, {@code host_steal} is the time the hypervisor
 * kept this machine's processors from it during the run, and each grid reset is printed with the
 * steal just before it: a reset that follows tens of milliseconds of steal is the machine's.
 */
final class Accuracy {
  static final int JOBS = 96;
  private static final long NONE = Long.MIN_VALUE;

  private Accuracy() {}

  static double rate(int job) {
    return 3.0 * (job + 1) + 5;
  }

  /**
   * What the machine did around a stall: the host's steal time (see
   * {@link Measure#hostStealNanos()}) and, with {@code threadTimes}, how long each of this
   * process's threads ran and waited for a processor (see {@link Measure#threadTimes()}). A thread
   * of its own takes a reading eight times a second, so that a grid reset can be set beside the
   * readings from just before the stall: a stall the scheduler caused, or one the machine did. (A
   * reading of every thread takes about a millisecond: taken by a job, it made every job late.)
   */
  private static final class Stalls {
    private static final long SAMPLE_NANOS = 125_000_000;
    private static final long SAME_STALL_NANOS = 200_000_000;
    final boolean threadTimes;
    final long start = Measure.hostStealNanos();
    long previous = start;
    long previousAt = System.nanoTime();
    Map<Integer, Measure.ThreadTimes> previousThreads;
    long last = previous;
    long lastAt = previousAt;
    Map<Integer, Measure.ThreadTimes> lastThreads;
    /** When a reset's report last read the threads: the resets of one stall share it. */
    long reportedAt;
    /** With threadTimes, what the threads did before each stall, numbered from 1. */
    private final List<String> threadReports = new ArrayList<>();

    private final Thread sampler;

    Stalls(boolean threadTimes) {
      this.threadTimes = threadTimes;
      lastThreads = previousThreads = threadTimes ? Measure.threadTimes() : Map.of();
      sampler = Thread.ofPlatform().daemon().name("stall-watch").start(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          LockSupport.parkNanos(SAMPLE_NANOS);
          sample();
        }
      });
    }

    private synchronized void sample() {
      previous = last;
      previousAt = lastAt;
      previousThreads = lastThreads;
      last = Measure.hostStealNanos();
      lastAt = System.nanoTime();
      if (threadTimes) {
        lastThreads = Measure.threadTimes();
      }
    }

    /**
     * What changed since the latest reading taken before {@code since}, for the report of a reset
     * seen at {@code now}, {@code when} in the window.
     */
    synchronized String before(long since, long now, double when) {
      boolean lastIsBefore = lastAt - since <= 0;
      long from = lastIsBefore ? last : previous;
      long fromAt = lastIsBefore ? lastAt : previousAt;
      long steal = Measure.hostStealNanos();
      StringBuilder b = new StringBuilder();
      if (from >= 0 && steal >= 0) {
        b.append(String.format(Locale.ROOT, "; host steal %.0f ms in the %.0f ms before",
            (steal - from) / 1e6, (now - fromAt) / 1e6));
      }
      if (threadTimes) {
        if (threadReports.isEmpty() || now - reportedAt >= SAME_STALL_NANOS) {
          reportedAt = now; // one reading per stall: reading every thread takes a while
          threadReports.add(String.format(Locale.ROOT, "stall %d (first reset at %.3f s)%s",
              threadReports.size() + 1, when,
              threadsSince(lastIsBefore ? lastThreads : previousThreads, (now - fromAt) / 1e6)));
        }
        b.append("; stall ").append(threadReports.size());
      }
      return b.toString();
    }

    /** The threads that ran, and that waited for a processor, a millisecond or more since. */
    private static String threadsSince(Map<Integer, Measure.ThreadTimes> from, double millis) {
      List<String> ran = new ArrayList<>();
      List<String> waited = new ArrayList<>();
      List<Map.Entry<Integer, Measure.ThreadTimes>> now =
          new ArrayList<>(Measure.threadTimes().entrySet());
      now.sort(Comparator.comparingLong(e -> -e.getValue().runNanos()));
      for (var e : now) {
        Measure.ThreadTimes was = from.getOrDefault(e.getKey(),
            new Measure.ThreadTimes(e.getValue().name(), 0, 0));
        long run = e.getValue().runNanos() - was.runNanos();
        long wait = e.getValue().waitNanos() - was.waitNanos();
        String who = e.getValue().name() + " (" + e.getKey() + ")";
        if (run >= 1_000_000) {
          ran.add(String.format(Locale.ROOT, "%s %.1f", who, run / 1e6));
        }
        if (wait >= 1_000_000) {
          waited.add(String.format(Locale.ROOT, "%s %.1f", who, wait / 1e6));
        }
      }
      return String.format(Locale.ROOT, ", in the %.0f ms before: ran (ms): ", millis)
          + (ran.isEmpty() ? "none" : String.join(", ", ran))
          + "; waited for a processor (ms): " + (waited.isEmpty() ? "none"
          : String.join(", ", waited));
    }

    synchronized List<String> threadReports() {
      return List.copyOf(threadReports);
    }

    /**
     * Stops the readings; returns the steal since this measurement began as a result, or null
     * where it cannot be read.
     */
    synchronized Result end(String impl) {
      sampler.interrupt();
      long steal = Measure.hostStealNanos();
      return start < 0 || steal < 0 ? null
          : new Result(impl, "accuracy", "host_steal", (steal - start) / 1e6, "ms");
    }
  }

  /** The bookkeeping of one job; touched only by the thread running that job's body. */
  private static final class Job {
    final double rate;
    long interval;
    long first = NONE;
    long target;
    long runs;
    long reset;
    /** When the previous run's body returned: where a scheduler that restarts its grid starts. */
    long lastEnd;
    /** When each grid reset was seen and how late the run was: for the report. */
    final List<String> resets = new ArrayList<>();
    /**
     * Asked only when a run is two intervals late: did the scheduler skip runs and restart its
     * grid?
     */
    BooleanSupplier gridRestarted = () -> false;

    /** What the reset report says about the machine. */
    final Stalls stalls;

    Job(int index, Stalls stalls) {
      this.rate = rate(index);
      this.stalls = stalls;
    }

    /** Records one run starting at {@code now}; returns false once the window is over. */
    boolean run(long now, long window, Histogram lateness) {
      if (first == NONE) {
        first = now;
        target = now;
      }
      if (now - first >= window) {
        return false;
      }
      long late = now - target;
      if (runs > 0) {
        lateness.recordValue(Math.max(0, late));
      }
      if (late >= 2 * interval && gridRestarted.getAsBoolean()) {
        // The scheduler dropped runs and restarted its grid (tasko may; the executor never) where
        // the previous, late run ended, and this run is the new grid's first. Taking this run's
        // start instead would put the grid later than the scheduler's by the wait for this run,
        // and every later run of the job would look early (lateness 0).
        reset++;
        resets.add(String.format(Locale.ROOT, "at %.3f s, %.1f intervals late%s",
            (now - first) / 1e9, late / (double) interval,
            stalls.before(now - late, now, (now - first) / 1e9)));
        target = lastEnd;
      }
      runs++;
      target += interval;
      lastEnd = System.nanoTime(); // the clock both tasko's system ticker and the executor read
      return true;
    }
  }

  /**
   * The scenario on tasko: each job a schedule, or with {@code callbacks} a callback schedule
   * ({@link Loop#scheduleCallback}), whose runs the loop calls without a thread switch. With
   * {@code threadTimes}, each grid reset also lists the threads that ran or waited around it.
   */
  static List<Result> tasko(String impl, IdleStrategy idle, double seconds, boolean callbacks,
      boolean threadTimes) {
    long window = (long) (seconds * 1e9);
    // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
    Loop loop = Loop.builder().name(impl).idleStrategy(idle).noStallWarning().build();
    Histogram lateness = new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
    Job[] jobs = new Job[JOBS];
    ScheduledTask[] schedules = new ScheduledTask[JOBS];
    Stalls stalls = new Stalls(threadTimes);
    long[] ctx0 = Measure.contextSwitches();
    long cpu0 = Measure.processCpuNanos();
    long wall0 = System.nanoTime();
    for (int i = 0; i < JOBS; i++) {
      Job job = jobs[i] = new Job(i, stalls);
      int k = i;
      TaskBody body = () -> {
        if (!job.run(loop.nanoTime(), window, lateness)) {
          schedules[k].stop();
        }
      };
      schedules[i] = callbacks ? loop.scheduleCallback("job-" + i, hz(job.rate), body)
          : loop.schedule("job-" + i, hz(job.rate), body);
      job.interval = schedules[i].interval().toNanos();
      long[] skipped = {0};
      job.gridRestarted = () -> { // the core counts skipped runs when it restarts the grid
        long now = schedules[k].stats().skippedRuns();
        boolean restarted = now != skipped[0];
        skipped[0] = now;
        return restarted;
      };
    }
    loop.run(); // ends when every job has stopped itself
    long wall = System.nanoTime() - wall0;
    long cpu = Measure.processCpuNanos() - cpu0;
    long[] ctx = Measure.contextSwitches();
    List<Result> out = results(impl, seconds, jobs, lateness, cpu, wall, ctx0, ctx, stalls);
    // Cross-check with the core's own statistics (log-linear histogram, ~6% precise).
    long coreP99 = 0;
    long coreMax = 0;
    long coreSkipped = 0;
    for (ScheduledTask s : schedules) {
      ScheduledTask.Stats st = s.stats();
      coreP99 = Math.max(coreP99, st.latenessP99().toNanos());
      coreMax = Math.max(coreMax, st.latenessMax().toNanos());
      coreSkipped += st.skippedRuns();
    }
    out.add(new Result(impl, "accuracy", "core_p99_worst_job", coreP99 / 1e3, "us"));
    out.add(new Result(impl, "accuracy", "core_lateness_max", coreMax / 1e3, "us"));
    out.add(new Result(impl, "accuracy", "core_skipped", coreSkipped, "runs"));
    out.add(new Result(impl, "accuracy", "switches", loop.stats().switches(), "count"));
    return out;
  }

  static List<Result> executor(double seconds, boolean threadTimes) throws InterruptedException {
    String impl = "stpe";
    long window = (long) (seconds * 1e9);
    Histogram lateness = new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
    Job[] jobs = new Job[JOBS];
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
    CountDownLatch done = new CountDownLatch(JOBS);
    Stalls stalls = new Stalls(threadTimes);
    long[] ctx0 = Measure.contextSwitches();
    long[] ctx;
    long cpu0 = Measure.processCpuNanos();
    long wall0 = System.nanoTime();
    try {
      for (int i = 0; i < JOBS; i++) {
        Job job = jobs[i] = new Job(i, stalls);
        job.interval = Math.round(1e9 / job.rate); // the same rounding as tasko's hertz
        job.first = System.nanoTime(); // the executor's grid starts at the call (initial delay 0)
        job.target = job.first;
        executor.scheduleAtFixedRate(() -> {
          if (!job.run(System.nanoTime(), window, lateness)) {
            done.countDown();
            throw new IllegalStateException("window over"); // ends a periodic task, as documented
          }
        }, 0, job.interval, TimeUnit.NANOSECONDS);
      }
      done.await();
      ctx = Measure.contextSwitches(); // before the worker thread exits with its counts
    } finally {
      executor.shutdownNow();
    }
    long wall = System.nanoTime() - wall0;
    long cpu = Measure.processCpuNanos() - cpu0;
    return results(impl, seconds, jobs, lateness, cpu, wall, ctx0, ctx, stalls);
  }

  private static List<Result> results(String impl, double seconds, Job[] jobs, Histogram lateness,
      long cpuNanos, long wallNanos, long[] ctx0, long[] ctx1, Stalls stalls) {
    double worst = 0;
    int offByMoreThanOne = 0;
    long runs = 0;
    long resets = 0;
    for (int i = 0; i < jobs.length; i++) {
      Job j = jobs[i];
      for (String r : j.resets) {
        // Which schedule restarted its grid and when: set it beside a stall the executor saw too
        // (the machine) or one only tasko saw (the loop).
        System.out.println(impl + ": grid reset of job-" + i + " (" + j.rate + " Hz) " + r);
      }
      double err = Math.abs(j.runs - seconds * j.rate);
      worst = Math.max(worst, err);
      if (err > 1) {
        offByMoreThanOne++;
      }
      runs += j.runs;
      resets += j.reset;
    }
    for (String r : stalls.threadReports()) {
      System.out.println(impl + ": " + r);
    }
    List<Result> out = new ArrayList<>();
    out.add(new Result(impl, "accuracy", "count_error_max", worst, "runs"));
    out.add(new Result(impl, "accuracy", "jobs_off_by_more_than_1", offByMoreThanOne, "jobs"));
    out.add(new Result(impl, "accuracy", "runs", runs, "runs"));
    out.add(new Result(impl, "accuracy", "grid_resets", resets, "count"));
    out.add(new Result(impl, "accuracy", "lateness_p50", lateness.getValueAtPercentile(50) / 1e3,
        "us"));
    out.add(new Result(impl, "accuracy", "lateness_p99", lateness.getValueAtPercentile(99) / 1e3,
        "us"));
    out.add(new Result(impl, "accuracy", "lateness_max", lateness.getMaxValue() / 1e3, "us"));
    out.add(new Result(impl, "accuracy", "cpu", cpuNanos / 1e9, "s"));
    out.add(new Result(impl, "accuracy", "cpu_per_10s", cpuNanos / 1e9 * 10 / seconds, "s"));
    out.add(new Result(impl, "accuracy", "wall", wallNanos / 1e9, "s"));
    Result hostSteal = stalls.end(impl);
    if (hostSteal != null) {
      out.add(hostSteal); // the hypervisor's share of the window: stalls no scheduler can avoid
    }
    if (ctx0[0] >= 0 && runs > 0) {
      // Each voluntary switch is a thread going to sleep, so it counts the OS wake-ups too.
      out.add(new Result(impl, "accuracy", "voluntary_switches_per_run",
          (ctx1[0] - ctx0[0]) / (double) runs, "count"));
      out.add(new Result(impl, "accuracy", "involuntary_switches_per_run",
          (ctx1[1] - ctx0[1]) / (double) runs, "count"));
    }
    return out;
  }
}
