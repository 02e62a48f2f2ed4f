package dev.tasko.bench;

import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.Rate;
import dev.tasko.ManagedResource;
import dev.tasko.ScheduledTask;
import dev.tasko.Suspension;
import dev.tasko.Task;
import dev.tasko.Tasko;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The soak: a loop on the real clock carrying 1,000 tasks of mixed work for a given time, to show
 * that nothing accumulates or gets stuck over hours — flat heap, rates held, nothing stuck.
 *
 * <ul>
 *   <li>a tenth of the tasks are schedules at 1–500 Hz (spread evenly on a log scale); every
 *       fourth run of each takes a shared bus ({@link ManagedResource}) for one yield;
 *   <li>three tenths wait, in turn, for a {@link Suspension} that a foreign thread resumes at
 *       random (about 2,000 resumes a second in all), with a 1 s timeout;
 *   <li>the rest are short-lived: a spawner keeps that many alive, each sleeping 0–1 s, a quarter
 *       of them taking the bus once, then ending.
 * </ul>
 *
 * <p>Every {@code --report-every} it prints the heap after a full GC, the live tasks, the
 * schedules' runs against their rates and their lateness since the last report, and the tasks
 * stuck (a waiter that has not come back for 5 s, a short-lived task alive for more than 5 s); at
 * the end, machine lines {@code tasko-java.soak <metric> <value> <unit>} like the harness's.
 *
 * <pre>
 * java -cp tasko-bench/target/benchmarks.jar dev.tasko.bench.Soak --duration 1h --report-every 1m
 * Soak [--duration D] [--report-every D] [--tasks N] [--smoke]    (D: 30s, 5m, 1h or PT1H)
 * </pre>
 */
public final class Soak {
  private static final long STUCK_NANOS = Duration.ofSeconds(5).toNanos();

  /** Parsed command line. */
  record Options(Duration duration, Duration reportEvery, int tasks) {
    static Options parse(String... args) {
      Duration duration = Duration.ofMinutes(1);
      Duration every = null;
      int tasks = 1_000;
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--duration" -> duration = parseDuration(args[++i]);
          case "--report-every" -> every = parseDuration(args[++i]);
          case "--tasks" -> tasks = Integer.parseInt(args[++i].replace("_", "").replace(",", ""));
          case "--smoke" -> {
            duration = Duration.ofSeconds(3);
            every = Duration.ofSeconds(1);
            tasks = 200;
          }
          default -> throw new IllegalArgumentException("unknown argument: " + args[i]
              + "; usage: Soak [--duration D] [--report-every D] [--tasks N] [--smoke]");
        }
      }
      if (every == null) {
        every = duration.compareTo(Duration.ofMinutes(10)) >= 0 ? Duration.ofMinutes(1)
            : Duration.ofSeconds(Math.max(1, duration.toSeconds() / 10));
      }
      if (tasks < 20) {
        throw new IllegalArgumentException("tasks < 20: " + tasks);
      }
      return new Options(duration, every, tasks);
    }

    static Duration parseDuration(String s) {
      String t = s.trim().toLowerCase(Locale.ROOT);
      if (t.startsWith("pt")) {
        return Duration.parse(s);
      }
      long n = Long.parseLong(t.replaceAll("[a-z]+$", ""));
      return switch (t.replaceAll("^[0-9]+", "")) {
        case "ms" -> Duration.ofMillis(n);
        case "s", "" -> Duration.ofSeconds(n);
        case "m", "min" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> throw new IllegalArgumentException("duration: " + s + " (30s, 5m, 1h or PT1H)");
      };
    }
  }

  public static void main(String[] args) throws Exception {
    run(Options.parse(args), System.out);
  }

  private final Options o;
  private final PrintStream out;
  private final Loop loop;
  private final ManagedResource<long[], String> bus;
  private final List<ScheduledTask> schedules = new ArrayList<>();
  private final List<Double> rates = new ArrayList<>();
  private final AtomicReferenceArray<Suspension> slots;
  /** When each waiter last came back from its wait (System.nanoTime), for the stuck count. */
  private final AtomicLongArray waiterProgress;
  private final Map<Task<?>, Long> shortLived = new ConcurrentHashMap<>();
  private final AtomicLong resumesSent = new AtomicLong();
  private final AtomicLong resumesReceived = new AtomicLong();
  private final AtomicLong awaitTimeouts = new AtomicLong();
  private final AtomicLong spawned = new AtomicLong();
  private final AtomicLong ended = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong busUses = new AtomicLong();
  private final int shortLivedTarget;
  private volatile boolean ending;
  /** When the schedules were cancelled (System.nanoTime): their targets end there. */
  private volatile long schedulesEnd;

  private Soak(Options o, PrintStream out) {
    this.o = o;
    this.out = out;
    this.loop = Loop.builder().name("soak").failureHandler((task, failure) -> {
      failures.incrementAndGet();
      out.println("FAILURE in " + task.name() + ": " + failure);
    }).build();
    this.bus = ManagedResource.of("bus", new long[1], cs -> {}, cs -> {});
    int scheduleCount = o.tasks() / 10;
    int waiterCount = o.tasks() * 3 / 10;
    this.shortLivedTarget = o.tasks() - scheduleCount - waiterCount - 1; // the spawner is one
    this.slots = new AtomicReferenceArray<>(waiterCount);
    this.waiterProgress = new AtomicLongArray(waiterCount);
    for (int i = 0; i < scheduleCount; i++) {
      double hz = Math.pow(500, (double) i / (scheduleCount - 1)); // 1 Hz .. 500 Hz
      rates.add(hz);
      Handle<long[]> h = bus.handle("s" + i);
      long[] runs = {0};
      schedules.add(loop.schedule("s" + i, Rate.hz(hz), () -> {
        if (++runs[0] % 4 == 0) {
          useBus(h);
        }
      }));
    }
    for (int i = 0; i < waiterCount; i++) {
      int me = i;
      loop.addTask("w" + i, () -> waiter(me));
    }
    SplittableRandom random = new SplittableRandom(42);
    schedules.add(loop.schedule("spawner", Rate.hz(100), () -> {
      for (int n = 0; n < 30 && !ending && shortLived.size() < shortLivedTarget; n++) {
        long life = random.nextLong(1_000);
        boolean usesBus = random.nextInt(4) == 0;
        Handle<long[]> h = bus.handle("short");
        Task<Void> t = loop.addTask(() -> {
          Tasko.sleep(Duration.ofMillis(life));
          if (usesBus) {
            useBus(h);
          }
          shortLived.remove(Tasko.currentTask());
          ended.incrementAndGet();
        });
        shortLived.put(t, System.nanoTime());
        spawned.incrementAndGet();
      }
    }));
  }

  private void useBus(Handle<long[]> h) {
    try (Lease<long[]> lease = h.acquire()) {
      lease.resource()[0]++;
      Tasko.yieldNow(); // hold it across a switch: others queue behind
    }
    busUses.incrementAndGet();
  }

  private void waiter(int me) {
    while (!ending) {
      Suspension s = Tasko.suspend("an edge");
      slots.set(me, s);
      if (s.await(Duration.ofSeconds(1))) {
        resumesReceived.incrementAndGet();
      } else {
        awaitTimeouts.incrementAndGet();
      }
      slots.compareAndSet(me, s, null);
      waiterProgress.set(me, System.nanoTime());
    }
  }

  static List<Result> run(Options o, PrintStream out) throws Exception {
    return new Soak(o, out).soak();
  }

  private List<Result> soak() throws Exception {
    long start = System.nanoTime();
    for (int i = 0; i < waiterProgress.length(); i++) {
      waiterProgress.set(i, start);
    }
    Thread edges = Thread.ofPlatform().name("soak-edges").daemon().start(this::edges);
    long[] heapFirst = {-1};
    long[] heapMax = {0};
    long[] heapLast = {0};
    int[] stuckMax = {0};
    Thread reporter = Thread.ofPlatform().name("soak-reporter").daemon().start(() -> {
      long next = start;
      try {
        out.printf(Locale.ROOT, "soak: %d tasks for %s, a report every %s%n", o.tasks(),
            o.duration(), o.reportEvery());
        while (true) {
          next += o.reportEvery().toNanos();
          long wait = next - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(Duration.ofNanos(wait));
          }
          long heap = heapAfterGc();
          if (heapFirst[0] < 0) {
            heapFirst[0] = heap;
          }
          heapMax[0] = Math.max(heapMax[0], heap);
          heapLast[0] = heap;
          int stuck = stuckNow();
          stuckMax[0] = Math.max(stuckMax[0], stuck);
          report(start, heap, stuck);
          if (System.nanoTime() - start >= o.duration().toNanos()) {
            break;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        ending = true; // waiters and short-lived tasks finish within a second
        schedulesEnd = System.nanoTime();
        for (ScheduledTask s : schedules) {
          s.cancel();
        }
      }
    });
    loop.run(); // returns once every task has ended
    long elapsed = System.nanoTime() - start;
    reporter.join();
    edges.interrupt();
    edges.join();

    long runs = 0;
    long skipped = 0;
    double countErrorMax = 0;
    double p99Max = 0;
    double latenessMax = 0;
    for (int i = 0; i < rates.size(); i++) {
      ScheduledTask.Stats s = schedules.get(i).stats();
      runs += s.runs();
      skipped += s.skippedRuns();
      // Every target from the first run to the end of the soak is either run or skipped.
      double expected = Math.floor((schedulesEnd - start) / 1e9 * rates.get(i)) + 1;
      countErrorMax = Math.max(countErrorMax, Math.abs(s.runs() + s.skippedRuns() - expected));
      p99Max = Math.max(p99Max, s.latenessP99().toNanos() / 1e3);
      latenessMax = Math.max(latenessMax, s.latenessMax().toNanos() / 1e3);
    }
    List<Result> results = new ArrayList<>();
    String impl = "tasko-java";
    results.add(new Result(impl, "soak", "duration", elapsed / 1e9, "s"));
    results.add(new Result(impl, "soak", "tasks", o.tasks(), "tasks"));
    results.add(new Result(impl, "soak", "heap_after_gc_first", heapFirst[0] / 1e6, "MB"));
    results.add(new Result(impl, "soak", "heap_after_gc_last", heapLast[0] / 1e6, "MB"));
    results.add(new Result(impl, "soak", "heap_after_gc_max", heapMax[0] / 1e6, "MB"));
    results.add(new Result(impl, "soak", "schedule_runs", runs, "runs"));
    results.add(new Result(impl, "soak", "skipped_runs", skipped, "runs"));
    results.add(new Result(impl, "soak", "count_error_max", countErrorMax, "runs"));
    results.add(new Result(impl, "soak", "lateness_p99_max", p99Max, "us"));
    results.add(new Result(impl, "soak", "lateness_max", latenessMax, "us"));
    results.add(new Result(impl, "soak", "resumes_sent", resumesSent.get(), "resumes"));
    results.add(new Result(impl, "soak", "resumes_received", resumesReceived.get(), "resumes"));
    results.add(new Result(impl, "soak", "await_timeouts", awaitTimeouts.get(), "waits"));
    results.add(new Result(impl, "soak", "bus_uses", busUses.get(), "uses"));
    results.add(new Result(impl, "soak", "tasks_spawned", spawned.get(), "tasks"));
    results.add(new Result(impl, "soak", "tasks_ended", ended.get(), "tasks"));
    results.add(new Result(impl, "soak", "stuck_max", stuckMax[0], "tasks"));
    results.add(new Result(impl, "soak", "failures", failures.get(), "failures"));
    results.add(new Result(impl, "soak", "tasks_left", loop.taskCount(), "tasks"));
    for (Result r : results) {
      out.println(r.line());
    }
    return results;
  }

  /**
   * Heap in use after one full collection. One, not Measure's three: it stops the loop too, and
   * shows in the next report's lateness (its max, at least), so it is kept as short as it can be.
   */
  private static long heapAfterGc() {
    System.gc();
    return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** The foreign thread: resumes two random waiters every millisecond, as edges would. */
  private void edges() {
    SplittableRandom random = new SplittableRandom(7);
    while (!Thread.currentThread().isInterrupted()) {
      for (int k = 0; k < 2; k++) {
        Suspension s = slots.get(random.nextInt(slots.length()));
        if (s != null && s.resume()) {
          resumesSent.incrementAndGet();
        }
      }
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Waiters that have not come back for 5 s, and short-lived tasks alive for over 5 s. */
  private int stuckNow() {
    long now = System.nanoTime();
    int stuck = 0;
    for (int i = 0; i < waiterProgress.length(); i++) {
      if (now - waiterProgress.get(i) > STUCK_NANOS) {
        stuck++;
      }
    }
    for (long born : shortLived.values()) {
      if (now - born > STUCK_NANOS) {
        stuck++;
      }
    }
    return stuck;
  }

  private void report(long start, long heap, int stuck) {
    double runsPerSecond = 0;
    double expectedPerSecond = 0;
    long p99 = 0;
    long max = 0;
    double seconds = o.reportEvery().toNanos() / 1e9;
    for (int i = 0; i < rates.size(); i++) {
      ScheduledTask.Stats s = schedules.get(i).recentStats();
      runsPerSecond += (s.runs() + s.skippedRuns()) / seconds;
      expectedPerSecond += rates.get(i);
      p99 = Math.max(p99, s.latenessP99().toNanos());
      max = Math.max(max, s.latenessMax().toNanos());
    }
    out.printf(Locale.ROOT, "t=%6.0f s  heap after GC %7.1f MB  tasks %5d  runs/s %8.1f"
            + " (rate %8.1f)  lateness p99 %6.0f us max %7.0f us  stuck %d  spawned %d%n",
        (System.nanoTime() - start) / 1e9, heap / 1e6, loop.taskCount(), runsPerSecond,
        expectedPerSecond, p99 / 1e3, max / 1e3, stuck, spawned.get());
  }
}
