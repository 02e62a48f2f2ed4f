package dev.tasko.bench;

import dev.tasko.Loop;
import dev.tasko.Tasko;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;

/**
 * N tasks, each sleeping once for a random 0–1 s (fixed seed) and then finishing.
 *
 * <p>Two runs per implementation. The <b>timing run</b> (real clock, no forced GC) reports the
 * creation time (adding the N tasks / starting the N threads), the total time from the first
 * creation until the last task has finished, and the process CPU time over the same span (all
 * threads: the JVM's own, such as the garbage collector's, too). The <b>memory run</b> puts all
 * N to sleep at once and, when the last one has gone to sleep, collects garbage and reads the
 * heap: {@code heap_peak} is the heap in use after GC at that moment and {@code bytes_per_task} is
 * its growth over the baseline before creation, divided by N. The memory run is done twice, first
 * with at most {@link #WARM_UP} sleepers whose figure is dropped: a sleeper's frozen stack keeps
 * the frames of the code it parked in, interpreted or compiled, and without that first round
 * the figure is mostly the JIT's progress. tasko's memory run uses virtual
 * time (all N tasks are started in the first pass, before any timer can fire); the virtual
 * threads sleep an extra hour and are interrupted once measured.
 */
final class Scale {
  static final long SEED = 20240601;
  /**
   * Tasks or threads of the memory run that is done first and dropped: a sleeper keeps the frames
   * of the code it parked in, and the run measured next parks in code the JIT has compiled for it.
   */
  static final int WARM_UP = 100_000;

  private Scale() {}

  static long[] delays(int n) {
    SplittableRandom random = new SplittableRandom(SEED);
    long[] d = new long[n];
    for (int i = 0; i < n; i++) {
      d[i] = random.nextLong(1_000_000_000L);
    }
    return d;
  }

  static List<Result> tasko(int n) {
    long[] delays = delays(n);
    String impl = "tasko-java";
    // Timing run.
    long cpu0 = Measure.processCpuNanos();
    long t0 = System.nanoTime();
    // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
    Loop loop = Loop.builder().name("scale").noStallWarning().build();
    for (int i = 0; i < n; i++) {
      Duration d = Duration.ofNanos(delays[i]);
      loop.addTask(() -> Tasko.sleep(d));
    }
    long created = System.nanoTime();
    loop.run();
    long done = System.nanoTime();
    long cpu = Measure.processCpuNanos() - cpu0;
    // Memory run: once with at most WARM_UP tasks, whose figure is dropped, then measured.
    taskoMemory(delays, Math.min(n, WARM_UP));
    long[] memory = taskoMemory(delays, n);
    return results(impl, n, created - t0, done - t0, cpu, memory[0], memory[1]);
  }

  /** Puts the first {@code n} of {@code delays} to sleep; returns the heap before and at peak. */
  private static long[] taskoMemory(long[] delays, int n) {
    long baseline = Measure.heapAfterGc();
    // One task measures the heap (System.gc) on the loop, holding it on purpose: no stall warning.
    Loop vloop = Loop.builder().name("scale-memory").virtualTime().noStallWarning().build();
    int[] asleep = new int[1];
    long[] peak = new long[1];
    for (int i = 0; i < n; i++) {
      Duration d = Duration.ofNanos(delays[i]);
      vloop.addTask(() -> {
        if (++asleep[0] == n) {
          peak[0] = Measure.heapAfterGc(); // every other task is asleep; this one is about to be
        }
        Tasko.sleep(d);
      });
    }
    vloop.run();
    return new long[] {baseline, peak[0]};
  }

  static List<Result> virtualThreads(int n) throws InterruptedException {
    long[] delays = delays(n);
    String impl = "vthreads";
    // Timing run.
    long cpu0 = Measure.processCpuNanos();
    long t0 = System.nanoTime();
    Thread[] threads = new Thread[n];
    for (int i = 0; i < n; i++) {
      Duration d = Duration.ofNanos(delays[i]);
      threads[i] = Thread.ofVirtual().start(() -> {
        try {
          Thread.sleep(d);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    long created = System.nanoTime();
    for (Thread t : threads) {
      t.join();
    }
    long done = System.nanoTime();
    long cpu = Measure.processCpuNanos() - cpu0;
    // Memory run: once with at most WARM_UP threads, whose figure is dropped, then measured.
    threads = null;
    threadMemory(delays, Math.min(n, WARM_UP));
    long[] memory = threadMemory(delays, n);
    return results(impl, n, created - t0, done - t0, cpu, memory[0], memory[1]);
  }

  /**
   * The timing run on {@link SerialSleepers}: plain virtual threads that sleep one at a time, as
   * tasko's tasks do, with no library on top. No memory run: its sleepers hold what plain virtual
   * threads hold, and less than a task.
   */
  static List<Result> serialVirtualThreads(int n) {
    long[] delays = delays(n);
    long cpu0 = Measure.processCpuNanos();
    long t0 = System.nanoTime();
    SerialSleepers.run(delays); // creates each thread as its turn comes, as tasko's loop does
    long done = System.nanoTime();
    long cpu = Measure.processCpuNanos() - cpu0;
    List<Result> out = new ArrayList<>();
    String impl = "vthreads-serial";
    out.add(new Result(impl, "scale", "tasks", n, "tasks"));
    out.add(new Result(impl, "scale", "total_time", (done - t0) / 1e9, "s"));
    out.add(new Result(impl, "scale", "cpu", cpu / 1e9, "s"));
    return out;
  }

  /** Puts the first {@code n} of {@code delays} to sleep; returns the heap before and at peak. */
  private static long[] threadMemory(long[] delays, int n) throws InterruptedException {
    long baseline = Measure.heapAfterGc();
    CountDownLatch asleep = new CountDownLatch(n);
    Thread[] sleepers = new Thread[n];
    for (int i = 0; i < n; i++) {
      Duration d = Duration.ofNanos(delays[i]).plusHours(1);
      sleepers[i] = Thread.ofVirtual().start(() -> {
        asleep.countDown();
        try {
          Thread.sleep(d);
        } catch (InterruptedException e) {
          // measured: end now
        }
      });
    }
    asleep.await();
    Thread.sleep(50); // the last ones to count down reach their sleep
    // includes the array of N threads, as tasko's includes its queues
    long peak = Measure.heapAfterGc();
    for (Thread t : sleepers) {
      t.interrupt();
    }
    for (Thread t : sleepers) {
      t.join();
    }
    return new long[] {baseline, peak};
  }

  private static List<Result> results(String impl, int n, long create, long total, long cpu,
      long baseline, long peak) {
    List<Result> out = new ArrayList<>();
    out.add(new Result(impl, "scale", "tasks", n, "tasks"));
    out.add(new Result(impl, "scale", "create_time", create / 1e9, "s"));
    out.add(new Result(impl, "scale", "total_time", total / 1e9, "s"));
    out.add(new Result(impl, "scale", "cpu", cpu / 1e9, "s"));
    out.add(new Result(impl, "scale", "heap_peak", peak, "bytes"));
    out.add(new Result(impl, "scale", "bytes_per_task", (double) (peak - baseline) / n, "bytes"));
    return out;
  }
}
