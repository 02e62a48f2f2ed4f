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
 */
final class SwitchLoop {
  static final int TASKS = 100;

  private SwitchLoop() {}

  static List<Result> tasko(double seconds, int rounds) {
    double[] ns = new double[rounds];
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
      long t0 = System.nanoTime();
      end[0] = t0 + roundNanos;
      loop.run();
      ns[r] = (double) (System.nanoTime() - t0) / loop.stats().switches();
    }
    return results("tasko-java", ns);
  }

  static List<Result> baton(double seconds, int rounds) throws InterruptedException {
    double[] ns = new double[rounds];
    long roundNanos = (long) (seconds * 1e9 / rounds);
    int switches = 100_000;
    long t = System.nanoTime();
    Baton.run(TASKS, switches); // calibrate the round size to the round's duration
    double perSwitch = (double) (System.nanoTime() - t) / switches;
    switches = (int) Math.max(10_000, Math.min(50_000_000, roundNanos / perSwitch));
    for (int r = 0; r < rounds; r++) {
      long t0 = System.nanoTime();
      long done = Baton.run(TASKS, switches);
      ns[r] = (double) (System.nanoTime() - t0) / done;
    }
    return results("vthreads", ns);
  }

  private static List<Result> results(String impl, double[] ns) {
    double[] sorted = ns.clone();
    Arrays.sort(sorted);
    List<Result> out = new ArrayList<>();
    out.add(new Result(impl, "switch", "switch_ns_median", sorted[sorted.length / 2], "ns"));
    out.add(new Result(impl, "switch", "switch_ns_min", sorted[0], "ns"));
    out.add(new Result(impl, "switch", "switch_ns_max", sorted[sorted.length - 1], "ns"));
    return out;
  }
}
