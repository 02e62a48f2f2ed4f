package dev.tasko.bench;

import dev.tasko.Loop;
import dev.tasko.Tasko;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * {@code Harness scale}'s timing run, one implementation per JVM, split at the first wake-up: the
 * same N one-shot sleepers of 0–1 s each (the same delays every run), on tasko or on plain virtual
 * threads that sleep one at a time, passing one baton ({@link SerialSleepers}, {@code
 * vthreads-serial} in the harness). Both start every sleeper before they wake any (a task not
 * started yet comes before a due timer), so the first wake-up marks the end of the first pass
 * (start each one, put it to sleep); the rest of the run is the wake-ups. The baton's run records
 * each sleeper's wake-up in two arrays of N longs (16 MB for a million), where tasko's records
 * only the first.
 *
 * <pre>
 * java -cp benchmarks.jar dev.tasko.bench.ScalePhases tasko|serial [N] [--collect-after]
 * </pre>
 *
 * <p>N defaults to 1,000,000. It prints machine lines: {@code create_time} (tasko only: adding
 * the tasks before {@code run()}), {@code first_wake}, {@code total_time} and the process
 * {@code cpu}, in seconds from the first creation; {@code wake_time}, the wake-ups' share
 * ({@code total_time - first_wake}); and {@code young_gc_time}, the time the JVM reports its young
 * collections took during the run (the wake-ups allocate almost nothing, so nearly all of it comes
 * before the first wake-up).
 *
 * <p>{@code --collect-after} then allocates short-lived arrays until the young generation has been
 * collected once more. The wake-ups allocate almost nothing, so without it no collection may come
 * after the first pass, and a collector log such as G1's {@code -Xlog:gc+refine+stats=debug}
 * (which reports at each young collection how many dirty cards the application's threads and the
 * collector's own threads refined since the last one) would say nothing of the wake-ups.
 */
public final class ScalePhases {
  private static final String WORKLOAD = "scale-phases";
  /** Where {@link #collectOnce} drops each array it makes. */
  private static volatile Object lastGarbage;

  private ScalePhases() {}

  /** Runs it; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    String impl = null;
    int n = 1_000_000;
    boolean collect = false;
    try {
      boolean sized = false;
      for (String a : args) {
        if (a.equals("--collect-after")) {
          collect = true;
        } else if (a.startsWith("--")) {
          throw new IllegalArgumentException("unknown option: " + a);
        } else if (impl == null) {
          impl = a;
        } else if (!sized) {
          sized = true;
          try {
            n = Integer.parseInt(a);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("N is not a whole number: " + a);
          }
        } else {
          throw new IllegalArgumentException("unexpected argument: " + a);
        }
      }
      if (impl == null) {
        throw new IllegalArgumentException("impl missing: expected tasko or serial");
      }
      checkImpl(impl);
      if (n <= 0) {
        throw new IllegalArgumentException("N <= 0: " + n);
      }
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println("usage: ScalePhases tasko|serial [N] [--collect-after]");
      System.exit(2);
      return;
    }
    for (Result r : run(impl, n, collect)) {
      System.out.println(r.line());
    }
  }

  /** Runs {@code n} sleepers of {@code impl} ("tasko" or "serial"); see the class comment. */
  static List<Result> run(String impl, int n, boolean collectAfter) {
    checkImpl(impl);
    long[] delays = Scale.delays(n);
    List<Result> out = impl.equals("tasko") ? tasko(delays) : serial(delays);
    if (collectAfter) {
      collectOnce();
    }
    return out;
  }

  private static void checkImpl(String impl) {
    if (!impl.equals("tasko") && !impl.equals("serial")) {
      throw new IllegalArgumentException("impl is neither tasko nor serial: " + impl);
    }
  }

  private static List<Result> tasko(long[] delays) {
    int n = delays.length;
    long[] firstWake = new long[1];
    boolean[] woken = new boolean[1];
    long gc0 = youngCollectionMillis();
    long cpu0 = Measure.processCpuNanos();
    long t0 = System.nanoTime();
    // No stall watchdog, as in Harness scale: it costs a clock read per switch.
    Loop loop = Loop.builder().name("scale-phases").noStallWarning().build();
    for (int i = 0; i < n; i++) {
      Duration d = Duration.ofNanos(delays[i]);
      loop.addTask(() -> {
        Tasko.sleep(d);
        if (!woken[0]) {
          woken[0] = true;
          firstWake[0] = System.nanoTime();
        }
      });
    }
    long created = System.nanoTime();
    loop.run();
    long done = System.nanoTime();
    long cpu = Measure.processCpuNanos() - cpu0;
    long gc = youngCollectionMillis() - gc0;
    List<Result> out = new ArrayList<>();
    String impl = "tasko-java";
    out.add(new Result(impl, WORKLOAD, "tasks", n, "tasks"));
    out.add(new Result(impl, WORKLOAD, "create_time", (created - t0) / 1e9, "s"));
    phases(out, impl, firstWake[0] - t0, done - t0, cpu, gc);
    return out;
  }

  private static List<Result> serial(long[] delays) {
    int n = delays.length;
    long[] deadlines = new long[n];
    long[] wokeAt = new long[n];
    long gc0 = youngCollectionMillis();
    long cpu0 = Measure.processCpuNanos();
    long t0 = System.nanoTime();
    SerialSleepers.run(delays, deadlines, wokeAt);
    long done = System.nanoTime();
    long cpu = Measure.processCpuNanos() - cpu0;
    long gc = youngCollectionMillis() - gc0;
    long firstWake = Long.MAX_VALUE;
    for (long w : wokeAt) {
      firstWake = Math.min(firstWake, w);
    }
    List<Result> out = new ArrayList<>();
    String impl = "vthreads-serial";
    out.add(new Result(impl, WORKLOAD, "tasks", n, "tasks"));
    phases(out, impl, firstWake - t0, done - t0, cpu, gc);
    return out;
  }

  /** The lines both implementations print, from nanoseconds since the first creation. */
  private static void phases(List<Result> out, String impl, long firstWake, long total, long cpu,
      long youngGcMillis) {
    out.add(new Result(impl, WORKLOAD, "first_wake", firstWake / 1e9, "s"));
    out.add(new Result(impl, WORKLOAD, "total_time", total / 1e9, "s"));
    out.add(new Result(impl, WORKLOAD, "wake_time", (total - firstWake) / 1e9, "s"));
    out.add(new Result(impl, WORKLOAD, "cpu", cpu / 1e9, "s"));
    out.add(new Result(impl, WORKLOAD, "young_gc_time", youngGcMillis / 1e3, "s"));
  }

  /**
   * Allocates short-lived arrays until the young generation has been collected once more.
   *
   * @throws IllegalStateException if 64 GB of arrays (more than any young generation holds) did
   *     not bring a collection
   */
  static void collectOnce() {
    long before = youngCollections();
    for (long allocated = 0; youngCollections() == before; allocated += 1 << 20) {
      if (allocated >= (64L << 30)) {
        throw new IllegalStateException("no young collection after " + (allocated >> 30)
            + " GB of garbage; collectors: " + collectorNames());
      }
      lastGarbage = new byte[1 << 20]; // stored, so that the JIT cannot leave it out
    }
    lastGarbage = null;
  }

  /**
   * Young collections so far: the count of each collector named for them (G1's "Young
   * Generation", Parallel's "Scavenge", Serial's "Copy", ZGC's "Minor"), or of every collector
   * when none is.
   */
  static long youngCollections() {
    return sumOverYoungCollectors(GarbageCollectorMXBean::getCollectionCount);
  }

  /**
   * Milliseconds the young collections took so far, as the JVM reports them (for G1, the pauses),
   * counted as {@link #youngCollections} counts them.
   */
  static long youngCollectionMillis() {
    return sumOverYoungCollectors(GarbageCollectorMXBean::getCollectionTime);
  }

  /**
   * {@code reading} summed over the collectors named for young collections (G1's "Young
   * Generation", Parallel's "Scavenge", Serial's "Copy", ZGC's "Minor"), or over every collector
   * when none is; a collector that reports -1 (unknown) counts 0.
   */
  private static long sumOverYoungCollectors(ToLongFunction<GarbageCollectorMXBean> reading) {
    long young = 0;
    long all = 0;
    boolean named = false;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      long value = Math.max(0, reading.applyAsLong(gc));
      all += value;
      String name = gc.getName();
      if (name.contains("Young") || name.contains("Scavenge") || name.equals("Copy")
          || name.contains("Minor")) {
        young += value;
        named = true;
      }
    }
    return named ? young : all;
  }

  private static List<String> collectorNames() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream()
        .map(GarbageCollectorMXBean::getName).toList();
  }
}
