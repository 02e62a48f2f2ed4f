package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The engine on the real clock: a task that hands the baton back with a timer pending may leave
 * the driver asleep until that timer; work and stops sent from other threads meanwhile must still
 * wake it at once. The later timer is 10 s away, so a lost wake-up shows as a run that waits for
 * it.
 */
@Tag("realtime")
class RunnerTest {
  private static final Duration FAR = Duration.ofSeconds(10);

  /**
   * A task body that holds the baton until the driver has gone to sleep until the far timer, so
   * that its hand-back is the one that leaves the driver asleep; then lets the test go on.
   */
  private static TaskBody handBackToSleepingDriver(Loop loop, CountDownLatch handingBack) {
    return () -> {
      long giveUp = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (!loop.runner.driverSleepsUntilTimer() && System.nanoTime() - giveUp < 0) {
        Thread.onSpinWait();
      }
      assertThat(loop.runner.driverSleepsUntilTimer()).as("driver asleep until the far timer")
          .isTrue();
      handingBack.countDown();
    };
  }

  /**
   * Waits (on a thread outside the loop) until a hand-back has left the driver asleep, so that
   * what the test sends next reaches a sleeping driver; the test checks afterwards that one did.
   */
  private static void awaitQuietHandBack(Loop loop) {
    long giveUp = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (loop.runner.counters.quietHandBacks() == 0 && System.nanoTime() - giveUp < 0) {
      Thread.onSpinWait();
    }
  }

  /**
   * Has a task at 50 ms hand back to a driver asleep until the far timer, and starts a thread
   * outside the loop that calls {@code send} once that hand-back has left the driver asleep.
   */
  private static Thread sendAfterQuietHandBack(Loop loop, Runnable send) {
    CountDownLatch handingBack = new CountDownLatch(1);
    loop.runLater(Duration.ofMillis(50), handBackToSleepingDriver(loop, handingBack));
    return Thread.ofPlatform().start(() -> {
      try {
        handingBack.await();
      } catch (InterruptedException e) {
        return;
      }
      awaitQuietHandBack(loop);
      send.run();
    });
  }

  @Test
  void run_driverLeftAsleepAfterHandBack_foreignTaskRunsBeforeNextTimer() throws Exception {
    Loop loop = Loop.builder().noStallWarning().build();
    AtomicLong ranAt = new AtomicLong(-1);
    loop.runLater(FAR, loop::stop); // the pending timer the driver sleeps until
    Thread foreign = sendAfterQuietHandBack(loop, () -> loop.addTask(() -> {
      ranAt.set(loop.nanoTime());
      loop.stop();
    }));
    long start = loop.nanoTime();

    loop.run();
    foreign.join();

    assertThat(loop.runner.counters.quietHandBacks()).as("hand-backs that left the driver asleep")
        .isEqualTo(1);
    assertThat(ranAt.get()).isNotNegative();
    assertThat(Duration.ofNanos(ranAt.get() - start)).isLessThan(FAR.dividedBy(2));
  }

  @Test
  void stop_fromAnotherThreadWhileDriverSleepsAfterHandBack_runReturnsBeforeNextTimer()
      throws Exception {
    Loop loop = Loop.builder().noStallWarning().build();
    loop.runLater(FAR, () -> {});
    Thread foreign = sendAfterQuietHandBack(loop, loop::stop);
    long start = loop.nanoTime();

    loop.run();
    foreign.join();

    assertThat(loop.runner.counters.quietHandBacks()).as("hand-backs that left the driver asleep")
        .isEqualTo(1);
    assertThat(Duration.ofNanos(loop.nanoTime() - start)).isLessThan(FAR.dividedBy(2));
    assertThat(loop.taskCount()).isEqualTo(1); // the far timer's task is still there
  }

  @Test
  @Timeout(20)
  void run_loneSchedule_handsBackWithoutWakingTheDriver_everyRunArrives() {
    Loop loop = Loop.builder().noStallWarning().build();
    int[] runs = {0};
    int[] sawDriverAsleep = {0};
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = loop.schedule(Rate.hz(20), () -> {
      if (++runs[0] == 12) {
        s[0].stop();
      } else if (runs[0] >= 2) {
        // Holds the run (for at most 40 of its 50 ms) until the driver sleeps until the next one,
        // so that this run's hand-back is one that may leave it asleep. Before, the driver waited
        // with no deadline: never asleep. A run that starts late on a busy machine may miss it,
        // hence several tries.
        long giveUp = System.nanoTime() + Duration.ofMillis(40).toNanos();
        while (!loop.runner.driverSleepsUntilTimer() && System.nanoTime() - giveUp < 0) {
          Thread.onSpinWait();
        }
        if (loop.runner.driverSleepsUntilTimer()) {
          sawDriverAsleep[0]++;
        }
      }
    });

    loop.run();

    assertThat(runs[0]).isEqualTo(12);
    assertThat(sawDriverAsleep[0]).as("runs during which the driver slept until the next one")
        .isPositive();
    assertThat(loop.runner.counters.quietHandBacks()).as("hand-backs that left the driver asleep")
        .isPositive();
  }

  @Test
  @Timeout(20)
  void run_loneScheduleSpeedsUpWhileTheDriverSleeps_nextRunComesAtTheNewRate() {
    Loop loop = Loop.builder().noStallWarning().build();
    long[] at = new long[4];
    int[] runs = {0};
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = loop.schedule(Rate.hz(1), () -> {
      at[runs[0]] = loop.nanoTime();
      if (++runs[0] == 2) {
        s[0].changeRate(Rate.hz(1000)); // the driver sleeps until the old rate's next run
      } else if (runs[0] == 4) {
        s[0].stop();
      }
    });

    loop.run();

    assertThat(Duration.ofNanos(at[2] - at[1])).isLessThan(Duration.ofMillis(500));
    assertThat(Duration.ofNanos(at[3] - at[2])).isLessThan(Duration.ofMillis(500));
  }

  @Test
  void run_busySchedulesWithTimersPending_everyRunArrives_idleTimeCounted() {
    Loop loop = Loop.builder().noStallWarning().build();
    int[] runs = new int[3];
    ScheduledTask[] s = new ScheduledTask[3];
    for (int i = 0; i < 3; i++) {
      int k = i;
      s[i] = loop.schedule(Rate.hz(200 + 50 * i), () -> {
        if (++runs[k] == 40) {
          s[k].stop();
        }
      });
    }

    loop.run();

    assertThat(runs).containsExactly(40, 40, 40);
    assertThat(loop.runner.counters.quietHandBacks()).as("hand-backs that left the driver asleep")
        .isPositive();
    assertThat(loop.stats().idleTime()).isPositive();
  }
  /**
   * Runs {@code tasks} tasks that yield {@code turns} times each, busy for {@code busyNanos} in
   * every turn of an even-numbered task; returns the order the turns ran in, by task number.
   */
  private static int[] yieldInTurn(Loop loop, int tasks, int turns, long busyNanos) {
    int[] order = new int[tasks * turns];
    int[] at = new int[1];
    for (int i = 0; i < tasks; i++) {
      int me = i;
      loop.addTask(() -> {
        for (int n = 0; n < turns; n++) {
          order[at[0]++] = me; // on the baton: one task at a time
          if (me % 2 == 0) {
            long end = System.nanoTime() + busyNanos;
            while (System.nanoTime() - end < 0) {
              Thread.onSpinWait();
            }
          }
          Tasko.yieldNow();
        }
      });
    }
    loop.run();
    return order;
  }

  private static void assertRoundRobin(int[] order, int tasks) {
    for (int i = 0; i < order.length; i++) {
      if (order[i] != i % tasks) {
        assertThat(order[i]).as("task of turn %d", i).isEqualTo(i % tasks);
      }
    }
  }

  @Test
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void handTo_tasksYieldingOnTwoCarriers_handsSomeTurnsToTasksStillSpinning() {
    assumeTrue(Runner.carriers() >= 2, "tasks are woken early only with two carriers or more");
    Runner.holdTurnNanosForTests = 0; // else, on two carriers, no task is woken early
    try {
      handsSomeTurnsToTasksStillSpinning();
    } finally {
      Runner.holdTurnNanosForTests = Runner.HOLD_TURN_NANOS;
    }
  }

  private static void handsSomeTurnsToTasksStillSpinning() {
    // A first loop compiles the switch: while it is interpreted, with the JIT's threads on the
    // same processors, spins often run out, and each one given up pauses waking ahead.
    yieldInTurn(Loop.builder().noStallWarning().build(), 4, 20_000, 0);
    // A task woken early spins on the other carrier only if that carrier is free: on a machine
    // busy with other processes, a whole run may catch none. Up to five runs, each checked.
    long spun = 0;
    for (int attempt = 0; attempt < 5 && spun == 0; attempt++) {
      Loop loop = Loop.builder().noStallWarning().build();

      int[] order = yieldInTurn(loop, 4, 20_000, 0);

      assertRoundRobin(order, 4);
      spun = loop.runner.counters.spunHandOffs();
    }
    assertThat(spun).as("hand-offs to a task still spinning").isPositive();
  }

  @Test
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void awaitTurn_turnBeforeLongerThanTheSpin_taskParksAndStillGetsItsTurn() {
    // Every other turn outlasts the spin of the task woken early, which gives up and parks: the
    // hand-off must still wake it (a lost wake-up would hang here).
    Loop loop = Loop.builder().noStallWarning().build();

    int[] order = yieldInTurn(loop, 5, 300, 100_000); // 100 µs

    assertRoundRobin(order, 5);
  }

  @Test
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void wakeAfterNext_taskGaveUpSpinning_pausesWakingAhead() {
    // A task woken early that spins in vain holds a carrier other threads may need (another
    // loop's tasks: two busy loops once ran thirty times slower than without it). Turns of
    // 100 µs outlast every spin, so the loop must notice and pause, and stay in order.
    assumeTrue(Runner.carriers() >= 2, "tasks are woken early only with two carriers or more");
    Loop loop = Loop.builder().noStallWarning().build();

    int[] order = yieldInTurn(loop, 5, 2_000, 100_000); // 100 µs

    assertRoundRobin(order, 5);
    assertThat(loop.runner.counters.wakeAheadPauses()).as("pauses after a spin given up")
        .isPositive();
  }

  @Test
  void carriers_propertySet_readsIt() {
    String before = System.getProperty("jdk.virtualThreadScheduler.parallelism");
    try {
      System.setProperty("jdk.virtualThreadScheduler.parallelism", "1");
      assertThat(Runner.carriers()).isEqualTo(1);
      System.setProperty("jdk.virtualThreadScheduler.parallelism", "many");
      assertThat(Runner.carriers()).isEqualTo(Runtime.getRuntime().availableProcessors());
    } finally {
      if (before == null) {
        System.clearProperty("jdk.virtualThreadScheduler.parallelism");
      } else {
        System.setProperty("jdk.virtualThreadScheduler.parallelism", before);
      }
    }
  }
}
