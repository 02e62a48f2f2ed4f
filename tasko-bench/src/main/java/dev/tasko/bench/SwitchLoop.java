package dev.tasko.bench;

import dev.tasko.Loop;
import dev.tasko.Tasko;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link SwitchBenchmark}'s 100-task yield workload in plain {@code main} form: rounds of S/rounds
 * seconds each, on a fresh loop; nanoseconds per switch (wall time over the loop's switch count);
 * the median, minimum and maximum over rounds. The peer is the virtual-thread baton ring
 * ({@link Baton}) with the same number of threads, timed the same way.
 *
 * <p>Each round also reads the process's CPU time and its context switches (summed over its
 * threads, from {@code /proc}) before and after, outside the timed window: CPU time per switch
 * above the wall time per switch means a second carrier was busy too, and voluntary context
 * switches per switch count the threads that went to sleep and had to be woken (see
 * {@link Measure#contextSwitches()}).
 */
final class SwitchLoop {
  static final int TASKS = 100;

  private SwitchLoop() {}

  static List<Result> tasko(double seconds, int rounds) {
    double[] ns = new double[rounds];
    double[] cpu = new double[rounds];
    long[] counted = new long[3]; // switches, voluntary, involuntary context switches
    long roundNanos = (long) (seconds * 1e9 / rounds);
    for (int r = 0; r < rounds; r++) {
      // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
      Loop loop = Loop.builder().noStallWarning().build();
      long[] end = {0};
      boolean[] over = {false};
      for (int t = 0; t < TASKS; t++) {
        loop.addTask(() -> {
          for (int i = 0; !over[0]; i++) {
            if ((i & 63) == 0 && System.nanoTime() - end[0] >= 0) {
              over[0] = true; // touched under the baton only
            }
            Tasko.yieldNow();
          }
        });
      }
      long[] ctx0 = Measure.contextSwitches();
      long cpu0 = Measure.processCpuPreciseNanos();
      long t0 = System.nanoTime();
      end[0] = t0 + roundNanos;
      loop.run();
      long t1 = System.nanoTime();
      long cpu1 = Measure.processCpuPreciseNanos();
      long switches = loop.stats().switches();
      ns[r] = (double) (t1 - t0) / switches;
      cpu[r] = (double) (cpu1 - cpu0) / switches;
      count(counted, switches, ctx0, Measure.contextSwitches());
    }
    return results("tasko-java", ns, cpu, counted);
  }

  static List<Result> baton(double seconds, int rounds) throws InterruptedException {
    double[] ns = new double[rounds];
    double[] cpu = new double[rounds];
    long[] counted = new long[3];
    long roundNanos = (long) (seconds * 1e9 / rounds);
    int switches = 100_000;
    long t = System.nanoTime();
    Baton.run(TASKS, switches); // calibrate the round size to the round's duration
    double perSwitch = (double) (System.nanoTime() - t) / switches;
    switches = (int) Math.max(10_000, Math.min(50_000_000, roundNanos / perSwitch));
    for (int r = 0; r < rounds; r++) {
      long[] ctx0 = Measure.contextSwitches();
      long cpu0 = Measure.processCpuPreciseNanos();
      long t0 = System.nanoTime();
      long done = Baton.run(TASKS, switches);
      long t1 = System.nanoTime();
      long cpu1 = Measure.processCpuPreciseNanos();
      ns[r] = (double) (t1 - t0) / done;
      cpu[r] = (double) (cpu1 - cpu0) / done;
      count(counted, done, ctx0, Measure.contextSwitches());
    }
    return results("vthreads", ns, cpu, counted);
  }

  /**
   * Adds one round's switches and context switches to {@code counted}; the context switches stay
   * at -1 once a reading was missing ({@code /proc} is Linux's).
   */
  private static void count(long[] counted, long switches, long[] ctx0, long[] ctx1) {
    counted[0] += switches;
    if (ctx0[0] < 0 || ctx1[0] < 0 || counted[1] < 0) {
      counted[1] = -1;
      counted[2] = -1;
    } else {
      counted[1] += ctx1[0] - ctx0[0];
      counted[2] += ctx1[1] - ctx0[1];
    }
  }

  private static List<Result> results(String impl, double[] ns, double[] cpu, long[] counted) {
    List<Result> out = new ArrayList<>();
    out.add(new Result(impl, "switch", "switch_ns_median", median(ns), "ns"));
    out.add(new Result(impl, "switch", "switch_ns_min", Arrays.stream(ns).min().orElseThrow(),
        "ns"));
    out.add(new Result(impl, "switch", "switch_ns_max", Arrays.stream(ns).max().orElseThrow(),
        "ns"));
    out.add(new Result(impl, "switch", "switch_cpu_ns_median", median(cpu), "ns"));
    if (counted[1] >= 0) {
      double per1000 = 1000.0 / counted[0];
      out.add(new Result(impl, "switch", "voluntary_switches_per_1000", counted[1] * per1000,
          "count"));
      out.add(new Result(impl, "switch", "involuntary_switches_per_1000", counted[2] * per1000,
          "count"));
    }
    return out;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
