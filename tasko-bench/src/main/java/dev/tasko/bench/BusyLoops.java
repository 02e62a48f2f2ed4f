package dev.tasko.bench;

import dev.tasko.Loop;
import dev.tasko.Tasko;
import java.util.ArrayList;
import java.util.List;

/**
 * Switches when a loop is not alone on the JDK's carriers: {@code loops} loops in one JVM, each
 * run by a platform thread of its own, each with {@code tasks} tasks that yield in turn without
 * end; and, with {@code --ring}, a ring of 10 plain virtual threads passing a turn beside them
 * ({@link SwitchFloor}'s {@code park} ring).
 * After a warm-up of one window, it measures one window of {@code ms} milliseconds (longer if
 * nothing turned in it) and prints the time per switch over all the loops together (the window
 * divided by the switches of every loop) and, with a ring, the ring's time per hand-off.
 *
 * <pre>
 * java -cp benchmarks.jar dev.tasko.bench.BusyLoops loops tasks [ms] [--ring]
 * </pre>
 *
 * <p>Defaults: windows of 2,000 ms. Run it with nothing else running.
 */
public final class BusyLoops {
  private static final String WORKLOAD = "busy-loops";
  private static final int RING = 10;

  private BusyLoops() {}

  /** Runs it; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    List<String> rest = new ArrayList<>(List.of(args));
    boolean ring = rest.remove("--ring");
    if (rest.size() < 2 || rest.size() > 3) {
      System.err.println("usage: BusyLoops loops tasks [ms] [--ring]");
      System.exit(2);
      return;
    }
    try {
      int loops = WakeFloor.number("loops", rest.get(0));
      int tasks = WakeFloor.number("tasks", rest.get(1));
      int ms = rest.size() > 2 ? WakeFloor.number("ms", rest.get(2)) : 2_000;
      for (Result r : run(loops, tasks, ms, ring)) {
        System.out.println(r.line());
      }
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    }
  }

  /** Runs the loops (and the ring) for a warm-up window and a measured one; returns the figures. */
  static List<Result> run(int loops, int tasks, int ms, boolean ring) throws InterruptedException {
    if (loops < 1) {
      throw new IllegalArgumentException("loops < 1: " + loops);
    }
    if (tasks < 2) {
      // A lone task's yield gives the turn back to itself: no switch to measure.
      throw new IllegalArgumentException("tasks < 2: " + tasks);
    }
    if (ms <= 0) {
      throw new IllegalArgumentException("ms <= 0: " + ms);
    }
    Stop stop = new Stop();
    Loop[] all = new Loop[loops];
    Thread[] drivers = new Thread[loops];
    for (int l = 0; l < loops; l++) {
      all[l] = Loop.builder().name("busy-" + l).noStallWarning().build();
      for (int i = 0; i < tasks; i++) {
        all[l].addTask(() -> {
          while (!stop.now) {
            Tasko.yieldNow();
          }
        });
      }
    }
    SwitchFloor.Ring r = ring ? new SwitchFloor.Ring("park", RING, 1) : null;
    if (r != null) {
      r.start();
    }
    for (int l = 0; l < loops; l++) {
      // Daemons: should the caller give up on them (a test's time limit), they end with the JVM.
      drivers[l] = Thread.ofPlatform().name("busy-" + l).daemon().start(all[l]::run);
    }
    long switches0;
    long hand0;
    long t0;
    long t1;
    long switches1;
    long hand1;
    try {
      Thread.sleep(ms); // warm-up
      switches0 = switches(all);
      hand0 = r == null ? 0 : r.turns();
      t0 = System.nanoTime();
      Thread.sleep(ms);
      // On a machine busy with other work a short window can pass with no turn at all: the
      // window then lasts until the loops' switches and the ring's hand-offs have moved, so
      // that there is a figure to print (a window of the default length never needs it).
      while (true) {
        t1 = System.nanoTime();
        switches1 = switches(all);
        hand1 = r == null ? 0 : r.turns();
        if (switches1 > switches0 && (r == null || hand1 > hand0)) {
          break;
        }
        for (Thread d : drivers) {
          if (!d.isAlive()) { // its loop's run() threw: nothing will turn any more
            throw new IllegalStateException("loop driver '" + d.getName() + "' ended");
          }
        }
        Thread.sleep(1);
      }
    } finally {
      stop.now = true;
      for (Thread d : drivers) {
        d.join();
      }
      if (r != null) {
        r.stopAndJoin();
      }
    }
    List<Result> out = new ArrayList<>();
    String impl = "tasko-java";
    out.add(new Result(impl, WORKLOAD, "loops", loops, "count"));
    out.add(new Result(impl, WORKLOAD, "tasks_per_loop", tasks, "count"));
    out.add(new Result(impl, WORKLOAD, "switches", switches1 - switches0, "count"));
    out.add(new Result(impl, WORKLOAD, "switch_all_loops",
        (t1 - t0) / (double) (switches1 - switches0), "ns"));
    if (r != null) {
      out.add(new Result("vthreads", WORKLOAD, "ring_hand_offs", hand1 - hand0, "count"));
      out.add(new Result("vthreads", WORKLOAD, "ring_hand_off",
          (t1 - t0) / (double) (hand1 - hand0), "ns"));
    }
    return out;
  }

  private static long switches(Loop[] loops) {
    long sum = 0;
    for (Loop l : loops) {
      sum += l.stats().switches(); // any thread may read them
    }
    return sum;
  }

  /** The flag that ends every task. */
  private static final class Stop {
    volatile boolean now;
  }
}
