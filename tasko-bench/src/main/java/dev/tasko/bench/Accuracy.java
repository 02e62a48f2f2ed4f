package dev.tasko.bench;

import static dev.tasko.Rate.hz;

import dev.tasko.IdleStrategy;
import dev.tasko.Loop;
import dev.tasko.ScheduledTask;
import dev.tasko.TaskBody;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
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
 * ticks are fine over seconds), less the harness's stall sampler's own ({@code sampler_cpu}). On a
 * virtual machine, {@code host_steal} is the time the hypervisor kept this machine's processors
 * from it during the run. Each grid reset names its stall, and each stall is reported with the
 * steal around it: a stall with tens of milliseconds of steal is the machine's.
 */
final class Accuracy {
  static final int JOBS = 96;
  private static final long NONE = Long.MIN_VALUE;
  /**
   * The wait tasko's driving thread spins through after running callback schedules (see
   * {@code IdleStrategy}), for a timer thread that spins as it does.
   */
  static final long DRIVER_SHORT_WAIT_NANOS = 20_000;

  private Accuracy() {}

  static double rate(int job) {
    return 3.0 * (job + 1) + 5;
  }

  /**
   * What the machine did around a stall: the host's steal time (see
   * {@link Measure#hostStealNanos()}) and, with {@code threadTimes}, how long each of this
   * process's threads ran and waited for a processor (see {@link Measure#threadTimes()}). A thread
   * of its own takes a reading eight times a second. A grid reset only notes its stall, on the
   * job's thread, which holds the processor (a reading of every thread takes a few hundred
   * microseconds); the first reading after it is kept with the stall, and after the window the
   * stall's report compares it with the last one taken before the stall began: a stall the
   * scheduler caused, or one the machine did. Nothing is put into words while the jobs run: a
   * reset waits for this object's lock, which the sampler holds only to store a reading.
   */
  private static final class Stalls implements AutoCloseable {
    private static final long SAMPLE_NANOS = 125_000_000;
    /** Resets seen this close together are one stall's. */
    private static final long SAME_STALL_NANOS = 200_000_000;

    /** A reading: when, the host's steal so far (-1 if unknown), the threads' times if asked. */
    private record Reading(long at, long steal, Map<Integer, Measure.ThreadTimes> threads) {}

    /** A stall the resets saw, and the first reading taken after it (null until then). */
    private static final class Stall {
      final int number;
      final double when;
      final Reading before;
      final long seenAt;
      Reading after;

      Stall(int number, double when, Reading before, long seenAt) {
        this.number = number;
        this.when = when;
        this.before = before;
        this.seenAt = seenAt;
      }
    }

    private final boolean threadTimes;
    /** The sampler's own CPU time so far, as of its last reading. */
    private volatile long samplerCpu;
    /** What {@link #processCpuSince} left out: the sampler's CPU when it was called. */
    private long samplerCpuLeftOut;
    private final Reading first;
    /** The last two readings, and the stalls seen; guarded by this. */
    private Reading previous;
    private Reading last;
    private final List<Stall> stalls = new ArrayList<>();
    private final Thread sampler;

    Stalls(boolean threadTimes) {
      this.threadTimes = threadTimes;
      first = previous = last = read();
      sampler = Thread.ofPlatform().daemon().name("stall-watch").start(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          LockSupport.parkNanos(SAMPLE_NANOS);
          took(read()); // read outside the lock, which a reset may be waiting for
          samplerCpu = Math.max(0, Measure.currentThreadCpuNanos()); // -1: not supported
        }
      });
    }

    private Reading read() {
      // /proc/stat opened afresh each time, through java.nio. Read instead from one file kept
      // open (a seek and a read, half the sampler's CPU), tasko's callback schedules stalled
      // 30-65 ms in 16 runs of 19 against 2 of 19 this way, in alternating runs on a busy 2-core
      // VM (1 of 6 when it was quieter); why was not found, so the reading stays as it was
      // measured with.
      return new Reading(System.nanoTime(), Measure.hostStealNanos(),
          threadTimes ? Measure.threadTimes() : Map.of());
    }

    private synchronized void took(Reading r) {
      previous = last;
      last = r;
      for (Stall st : stalls) {
        if (st.after == null && r.at - st.seenAt > 0) {
          st.after = r;
        }
      }
    }

    /**
     * Notes the stall behind a reset seen at {@code now}, {@code when} seconds into the window, of
     * a run due at {@code since}; returns the stall's number. No reading, no text: the caller
     * holds the processor.
     */
    synchronized int seen(long since, long now, double when) {
      Stall open = stalls.isEmpty() ? null : stalls.get(stalls.size() - 1);
      if (open == null || now - open.seenAt >= SAME_STALL_NANOS) {
        // The last reading taken before the run fell due; the one before it if the stall is so
        // long that the sampler read during it too (then the stretch starts earlier).
        open = new Stall(stalls.size() + 1, when, last.at - since <= 0 ? last : previous, now);
        stalls.add(open);
      }
      return open.number;
    }

    private String describe(Stall st) {
      Reading after = st.after;
      StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
          "stall %d (first reset at %.3f s): in the %.0f ms between the readings around it",
          st.number, st.when, (after.at - st.before.at) / 1e6));
      if (st.before.steal >= 0 && after.steal >= 0) {
        b.append(String.format(Locale.ROOT, ", host steal %.0f ms",
            (after.steal - st.before.steal) / 1e6));
      }
      if (threadTimes) {
        b.append(threads(st.before.threads, after.threads));
      }
      return b.toString();
    }

    /** The threads that ran, and that waited for a processor, a millisecond or more between. */
    private static String threads(Map<Integer, Measure.ThreadTimes> from,
        Map<Integer, Measure.ThreadTimes> to) {
      record Delta(String who, long run, long waited) {}
      List<Delta> deltas = new ArrayList<>();
      to.forEach((tid, now) -> {
        Measure.ThreadTimes was = from.getOrDefault(tid, new Measure.ThreadTimes(now.name(), 0, 0));
        deltas.add(new Delta(now.name() + " (" + tid + ")", now.runNanos() - was.runNanos(),
            now.waitNanos() - was.waitNanos()));
      });
      return "; ran (ms): " + largest(deltas, Delta::who, Delta::run)
          + "; waited for a processor (ms): " + largest(deltas, Delta::who, Delta::waited);
    }

    /** Each of {@code items} whose {@code nanos} is a millisecond or more, largest first. */
    private static <T> String largest(List<T> items, Function<T, String> who,
        ToLongFunction<T> nanos) {
      String listed = items.stream().filter(t -> nanos.applyAsLong(t) >= 1_000_000)
          .sorted(Comparator.comparingLong(nanos).reversed())
          .map(t -> String.format(Locale.ROOT, "%s %.1f", who.apply(t), nanos.applyAsLong(t) / 1e6))
          .collect(Collectors.joining(", "));
      return listed.isEmpty() ? "none" : listed;
    }

    /**
     * Stops the readings and takes a last one, which completes the report of any stall seen since
     * the one before. Returns each stall's report, in order.
     */
    List<String> end() throws InterruptedException {
      sampler.interrupt();
      sampler.join();
      took(read());
      synchronized (this) {
        return stalls.stream().map(this::describe).toList();
      }
    }

    /** The steal since this measurement began, as a result; null where it cannot be read. */
    synchronized Result hostSteal(String impl) {
      return first.steal < 0 || last.steal < 0 ? null
          : new Result(impl, "accuracy", "host_steal", (last.steal - first.steal) / 1e6, "ms");
    }

    /**
     * The process's CPU time since {@code cpu0} (a {@link Measure#processCpuNanos()} reading taken
     * after this was made, as {@link Start#now()} takes it), less what this sampler used: the
     * harness's readings are not the implementation's cost. On a 2-core VM that was 0.06-0.55 s in
     * every 10 s, more when the VM was busy (about half of it the cost of waking a cold thread
     * there, the rest code run too seldom for the JIT to compile); what the readings cost the
     * implementation's threads beyond that (a processor shared, caches) stays in. Called once, on
     * the measuring thread.
     */
    long processCpuSince(long cpu0) {
      samplerCpuLeftOut = samplerCpu;
      return Measure.processCpuNanos() - cpu0 - samplerCpuLeftOut;
    }

    /** What {@link #processCpuSince} left out of the implementation's CPU, as a result. */
    Result samplerCpu(String impl) {
      return new Result(impl, "accuracy", "sampler_cpu", samplerCpuLeftOut / 1e6, "ms");
    }

    /** Stops the readings, if {@link #end()} has not (the measurement failed). */
    @Override
    public void close() {
      sampler.interrupt();
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
    /**
     * When each grid reset was seen, how late the run was and its stall: numbers only, put into
     * words after the window. Text made here, on the job's thread while it is late, would make
     * it later still: the first formatted number of a JVM costs milliseconds (12.7-16.8 ms for 96
     * of them, measured in a cold JVM), enough to put other jobs two intervals behind.
     */
    final List<Reset> resets = new ArrayList<>();

    /** A grid reset: nanoseconds into the window, nanoseconds late, and its stall's number. */
    record Reset(long at, long late, int stall) {}
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
        resets.add(new Reset(now - first, late, stalls.seen(now - late, now, (now - first) / 1e9)));
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
   * {@code threadTimes}, the report of each stall that reset grids also lists the threads that ran
   * or waited for a processor around it.
   */
  static List<Result> tasko(String impl, IdleStrategy idle, double seconds, boolean callbacks,
      boolean threadTimes) throws InterruptedException {
    long window = (long) (seconds * 1e9);
    // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
    Loop loop = Loop.builder().name(impl).idleStrategy(idle).noStallWarning().build();
    Histogram lateness = new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
    Job[] jobs = new Job[JOBS];
    ScheduledTask[] schedules = new ScheduledTask[JOBS];
    try (Stalls stalls = new Stalls(threadTimes)) {
      Start start = Start.now();
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
      long wall = System.nanoTime() - start.wall();
      long cpu = stalls.processCpuSince(start.cpu());
      long[] ctx = Measure.contextSwitches();
      List<Result> out = results(impl, seconds, jobs, lateness, start, cpu, wall, ctx, stalls);
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
  }

  static List<Result> executor(double seconds, boolean threadTimes) throws InterruptedException {
    String impl = "stpe";
    long window = (long) (seconds * 1e9);
    Histogram lateness = new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
    Job[] jobs = new Job[JOBS];
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
    CountDownLatch done = new CountDownLatch(JOBS);
    try (Stalls stalls = new Stalls(threadTimes)) {
      Start start = Start.now();
      long[] ctx;
      try {
        for (int i = 0; i < JOBS; i++) {
          Job job = jobs[i] = new Job(i, stalls);
          job.interval = Math.round(1e9 / job.rate); // the same rounding as tasko's hertz
          job.first = System.nanoTime(); // its grid starts at the call (initial delay 0)
          job.target = job.first;
          executor.scheduleAtFixedRate(() -> {
            if (!job.run(System.nanoTime(), window, lateness)) {
              done.countDown();
              // ends a periodic task, as documented
              throw new IllegalStateException("window over");
            }
          }, 0, job.interval, TimeUnit.NANOSECONDS);
        }
        done.await();
        ctx = Measure.contextSwitches(); // before the worker thread exits: its last switches
      } finally {
        executor.shutdownNow();
      }
      long wall = System.nanoTime() - start.wall();
      long cpu = stalls.processCpuSince(start.cpu());
      return results(impl, seconds, jobs, lateness, start, cpu, wall, ctx, stalls);
    }
  }

  /**
   * The least a timer thread can do: the 96 jobs on one platform thread (the caller), which keeps
   * each job's next run in a binary heap, parks until the earliest ({@code LockSupport.parkNanos}),
   * and runs every job that is due. It never restarts a grid (like the executor, it replays late
   * runs), keeps no statistics and takes no commands: a floor for any scheduler that runs timers
   * on one thread with standard JDK APIs, as the bare baton is for the switch. A wait of at most
   * {@code spinNanos} is spun through instead of parked, as tasko's driving thread does after
   * callback schedules.
   */
  static List<Result> timerThread(String impl, double seconds, long spinNanos, boolean threadTimes)
      throws InterruptedException {
    long window = (long) (seconds * 1e9);
    Histogram lateness = new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
    Job[] jobs = new Job[JOBS];
    long[] due = new long[JOBS];
    int[] heap = new int[JOBS];
    try (Stalls stalls = new Stalls(threadTimes)) {
      Start start = Start.now();
      for (int i = 0; i < JOBS; i++) {
        Job job = jobs[i] = new Job(i, stalls);
        job.interval = Math.round(1e9 / job.rate); // the same rounding as tasko's hertz
        job.first = job.target = due[i] = System.nanoTime(); // first run due at once
        heap[i] = i; // in order of due time already
      }
      int size = JOBS;
      while (size > 0) {
        int j = heap[0];
        long wait = due[j] - System.nanoTime();
        if (wait > spinNanos) {
          LockSupport.parkNanos(wait);
          continue; // may return early: look again
        }
        while (System.nanoTime() - due[j] < 0) {
          Thread.onSpinWait();
        }
        Job job = jobs[j];
        if (job.run(System.nanoTime(), window, lateness)) {
          due[j] += job.interval;
        } else {
          heap[0] = heap[--size]; // the job's window is over
        }
        siftDown(heap, size, due);
      }
      long wall = System.nanoTime() - start.wall();
      long cpu = stalls.processCpuSince(start.cpu());
      long[] ctx = Measure.contextSwitches();
      return results(impl, seconds, jobs, lateness, start, cpu, wall, ctx, stalls);
    }
  }

  /**
   * The 96 jobs as a program without tasko would write them on virtual threads: each job a virtual
   * thread of its own that parks until its next run ({@code LockSupport.parkNanos}) and runs its
   * body. Like the executor, it replays late runs and never restarts a grid. Bodies of different
   * jobs may run at once, on both carriers.
   */
  static List<Result> virtualThreads(String impl, double seconds, boolean threadTimes)
      throws InterruptedException {
    long window = (long) (seconds * 1e9);
    Histogram lateness = new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
    Histogram[] perJob = new Histogram[JOBS]; // one each: the jobs record at once
    Job[] jobs = new Job[JOBS];
    Thread[] threads = new Thread[JOBS];
    try (Stalls stalls = new Stalls(threadTimes)) {
      Start start = Start.now();
      for (int i = 0; i < JOBS; i++) {
        Job job = jobs[i] = new Job(i, stalls);
        job.interval = Math.round(1e9 / job.rate); // the same rounding as tasko's hertz
        Histogram mine = perJob[i] = new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
        threads[i] = Thread.ofVirtual().start(() -> {
          long next = System.nanoTime(); // first run due at once
          while (true) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
              LockSupport.parkNanos(wait);
              continue; // may return early: look again
            }
            if (!job.run(System.nanoTime(), window, mine)) {
              return;
            }
            next += job.interval;
          }
        });
      }
      for (Thread t : threads) {
        t.join();
      }
      long wall = System.nanoTime() - start.wall();
      long cpu = stalls.processCpuSince(start.cpu());
      long[] ctx = Measure.contextSwitches();
      for (Histogram h : perJob) {
        lateness.add(h);
      }
      return results(impl, seconds, jobs, lateness, start, cpu, wall, ctx, stalls);
    }
  }

  /**
   * The least a loop that runs each job's body on a virtual thread of its own, one body at a
   * time, does with standard JDK APIs: tasko's task schedules with no library on top. The jobs'
   * next runs are kept in a binary heap, as {@link #timerThread} keeps them, by whoever holds the
   * one baton. The holder takes the earliest due run and hands the baton to that job's virtual
   * thread, which runs the body and does the same; when no run is due it lets the baton go, and a
   * platform thread (the caller), parked until the earliest run, takes it then. That thread is
   * woken by a holder only when it would otherwise sleep past the earliest run (or waits for the
   * baton). Late runs are replayed, never skipped; no statistics, no commands, no spinning.
   */
  static List<Result> handoff(String impl, double seconds, boolean threadTimes)
      throws InterruptedException {
    long window = (long) (seconds * 1e9);
    Histogram lateness = new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
    Jobs all = new Jobs(Thread.currentThread());
    try (Stalls stalls = new Stalls(threadTimes)) {
      Start start = Start.now();
      all.held = true; // the caller holds the baton until the first hand-off
      for (int i = 0; i < JOBS; i++) {
        Job job = all.jobs[i] = new Job(i, stalls);
        job.interval = Math.round(1e9 / job.rate); // the same rounding as tasko's hertz
        job.first = job.target = all.due[i] = System.nanoTime(); // first run due at once
        all.heap[i] = i; // in order of due time already
        all.threads[i] = all.start(i, window, lateness);
      }
      all.size = JOBS;
      all.handOn();
      all.driveTimer();
      long wall = System.nanoTime() - start.wall();
      long cpu = stalls.processCpuSince(start.cpu());
      long[] ctx = Measure.contextSwitches();
      return results(impl, seconds, all.jobs, lateness, start, cpu, wall, ctx, stalls);
    } finally {
      for (Thread t : all.threads) {
        if (t != null) {
          t.interrupt();
        }
      }
    }
  }

  /** The state of {@link #handoff}: what the baton guards, and the baton. */
  private static final class Jobs {
    final Job[] jobs = new Job[JOBS];
    final Thread[] threads = new Thread[JOBS];
    /** Set by the holder that hands a job its run, cleared by the job. */
    final AtomicIntegerArray turn = new AtomicIntegerArray(JOBS);
    /** Set by a job whose window is over; read by holders. */
    final AtomicIntegerArray over = new AtomicIntegerArray(JOBS);
    /** Each job's next run, and the heap of jobs by it: the baton's holder's alone. */
    final long[] due = new long[JOBS];
    final int[] heap = new int[JOBS];
    int size;
    final Thread timer;
    /** The baton: held by one thread at a time, passed on without being let go. */
    volatile boolean held;
    /** When the earliest run is due, as of the last holder that let the baton go. */
    volatile long wanted = Long.MAX_VALUE;
    /** When the timer thread will wake by itself: Long.MAX_VALUE when only a holder wakes it. */
    volatile long timerWakes = Long.MAX_VALUE;
    volatile boolean finished;

    Jobs(Thread timer) {
      this.timer = timer;
    }

    Thread start(int k, long window, Histogram lateness) {
      return Thread.ofVirtual().start(() -> {
        while (true) {
          while (turn.get(k) == 0) {
            LockSupport.park(this);
            if (Thread.currentThread().isInterrupted()) {
              return;
            }
          }
          turn.set(k, 0);
          boolean more = jobs[k].run(System.nanoTime(), window, lateness);
          if (!more) {
            over.set(k, 1);
          }
          handOn();
          if (!more) {
            return;
          }
        }
      });
    }

    /**
     * Called by the holder: hands the baton to the job whose run is due first, or lets it go and
     * makes sure the timer thread wakes when the earliest run falls due.
     */
    void handOn() {
      long now = System.nanoTime();
      while (size > 0) {
        int k = heap[0];
        if (over.get(k) == 1) {
          heap[0] = heap[--size]; // the job's window is over
          siftDown(heap, size, due);
          continue;
        }
        if (due[k] - now > 0) {
          break;
        }
        due[k] += jobs[k].interval;
        siftDown(heap, size, due);
        turn.set(k, 1);
        LockSupport.unpark(threads[k]);
        return;
      }
      long next = size == 0 ? Long.MAX_VALUE : due[heap[0]];
      if (size == 0) {
        finished = true;
      }
      wanted = next;
      held = false;
      if (timerWakes > next || size == 0) { // read after the writes: see driveTimer
        LockSupport.unpark(timer);
      }
    }

    /** The timer thread's part: sleep until the earliest run, then take the baton if free. */
    void driveTimer() {
      while (!finished) {
        long until = wanted;
        timerWakes = until;
        if (wanted != until) { // a holder let the baton go meanwhile: it may not have woken us
          continue;
        }
        long wait = until - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(this, wait);
          continue; // may return early, or woken for a new earliest run: look again
        }
        timerWakes = Long.MAX_VALUE;
        if (!held && !finished && compareAndSetHeld()) {
          handOn();
          continue;
        }
        // A job holds the baton and takes due runs itself; wait until it lets the baton go.
        while (held && !finished) {
          LockSupport.park(this);
        }
      }
    }

    private boolean compareAndSetHeld() {
      return HELD.compareAndSet(this, false, true);
    }

    private static final VarHandle HELD;

    static {
      try {
        HELD = MethodHandles.lookup().findVarHandle(Jobs.class, "held", boolean.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }
  }

  /** Restores the heap order of {@code heap[0..size)} by due time after its root changed. */
  private static void siftDown(int[] heap, int size, long[] due) {
    int i = 0;
    int moving = heap[0];
    while (true) {
      int child = 2 * i + 1;
      if (child >= size) {
        break;
      }
      if (child + 1 < size && due[heap[child + 1]] - due[heap[child]] < 0) {
        child++;
      }
      if (due[heap[child]] - due[moving] >= 0) {
        break;
      }
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = moving;
  }

  /**
   * What a measurement starts from, read in this order once its stall sampler runs: the process's
   * context switches, its CPU time and the clock.
   */
  private record Start(long[] contextSwitches, long cpu, long wall) {
    static Start now() {
      long[] ctx = Measure.contextSwitches();
      long cpu = Measure.processCpuNanos();
      return new Start(ctx, cpu, System.nanoTime());
    }
  }

  private static List<Result> results(String impl, double seconds, Job[] jobs, Histogram lateness,
      Start start, long cpuNanos, long wallNanos, long[] ctx1, Stalls stalls)
      throws InterruptedException {
    double worst = 0;
    int offByMoreThanOne = 0;
    long runs = 0;
    long resets = 0;
    for (int i = 0; i < jobs.length; i++) {
      Job j = jobs[i];
      for (Job.Reset r : j.resets) {
        // Which schedule restarted its grid and when: set it beside a stall the executor saw too
        // (the machine) or one only tasko saw (the loop).
        System.out.println(impl + ": grid reset of job-" + i + " (" + j.rate + " Hz) "
            + String.format(Locale.ROOT, "at %.3f s, %.1f intervals late; stall %d", r.at() / 1e9,
                r.late() / (double) j.interval, r.stall()));
      }
      double err = Math.abs(j.runs - seconds * j.rate);
      worst = Math.max(worst, err);
      if (err > 1) {
        offByMoreThanOne++;
      }
      runs += j.runs;
      resets += j.reset;
    }
    for (String r : stalls.end()) {
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
    out.add(stalls.samplerCpu(impl));
    Result hostSteal = stalls.hostSteal(impl);
    if (hostSteal != null) {
      out.add(hostSteal); // the hypervisor's share of the window: stalls no scheduler can avoid
    }
    long[] ctx0 = start.contextSwitches();
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
