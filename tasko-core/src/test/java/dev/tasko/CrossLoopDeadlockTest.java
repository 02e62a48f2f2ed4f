package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.tasko.testsupport.EventLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Joins across loops, each loop run on a thread of its own: a cycle of joins is reported by each
 * loop's {@code run()} as a {@link DeadlockException}, as a deadlock inside one loop is; a join
 * that something can still end is not. Before the fix, a cycle left every loop idle for ever.
 */
class CrossLoopDeadlockTest {
  /** How long a loop may take to report; the old code never did. */
  private static final Duration BOUND = Duration.ofSeconds(10);

  private final EventLog log = new EventLog();

  @Test
  void run_twoLoopsJoinEachOther_eachThrowsDeadlockNamingBothTasksAndLoops() throws Exception {
    Loop left = Loop.builder().name("left").virtualTime().build();
    Loop right = Loop.builder().name("right").virtualTime().build();
    Task<?>[] tasks = new Task<?>[2];
    tasks[0] = left.addTask("a", () -> tasks[1].join());
    tasks[1] = right.addTask("b", () -> {
      try {
        tasks[0].join();
      } catch (CancellationException e) {
        log.add("b saw: " + e.getMessage());
      }
    });

    List<Throwable> thrown = runEach(left, right);

    assertThat(thrown).allSatisfy(e -> assertThat(e).isInstanceOf(DeadlockException.class)
        .hasMessageContaining("task 'a' of loop 'left' waits for task 'b' of loop 'right' to "
            + "finish (join)")
        .hasMessageContaining("task 'b' of loop 'right' waits for task 'a' of loop 'left' to "
            + "finish (join)"));
    assertThat(thrown.get(0)).hasMessageStartingWith("loop 'left' is deadlocked with loop 'right'");
    assertThat(thrown.get(1)).hasMessageStartingWith("loop 'right' is deadlocked with loop 'left'");
    assertThat(((DeadlockException) thrown.get(0)).stuckTasks())
        .containsExactly(tasks[0], tasks[1]);
    assertThat(((DeadlockException) thrown.get(1)).stuckTasks())
        .containsExactly(tasks[1], tasks[0]);

    // Both loops are left as they were: cancelling one task frees the other.
    tasks[0].cancel();
    assertThat(runEach(left, right)).containsOnlyNulls();
    assertThat(tasks[0].state()).isEqualTo(Task.State.CANCELLED);
    log.assertTaken("b saw: task 'a' was cancelled");
  }

  @Test
  void run_threeLoopsJoinInACircle_eachThrowsDeadlock() throws Exception {
    Loop[] loops = new Loop[3];
    Task<?>[] tasks = new Task<?>[3];
    for (int i = 0; i < 3; i++) {
      loops[i] = Loop.builder().name("loop" + i).build(); // real time: no virtual clock needed
    }
    for (int i = 0; i < 3; i++) {
      int next = (i + 1) % 3;
      tasks[i] = loops[i].addTask("t" + i, () -> {
        Tasko.yieldNow();
        tasks[next].join();
      });
    }

    List<Throwable> thrown = runEach(loops);

    assertThat(thrown).allSatisfy(e -> assertThat(e).isInstanceOf(DeadlockException.class));
    assertThat(thrown.get(1)).hasMessageStartingWith(
            "loop 'loop1' is deadlocked with loops 'loop2', 'loop0': ")
        .hasMessageEndingWith(":"
            + "\n  task 't1' of loop 'loop1' waits for task 't2' of loop 'loop2' to finish (join)"
            + "\n  task 't2' of loop 'loop2' waits for task 't0' of loop 'loop0' to finish (join)"
            + "\n  task 't0' of loop 'loop0' waits for task 't1' of loop 'loop1' to finish (join)");
    assertThat(((DeadlockException) thrown.get(2)).stuckTasks())
        .containsExactly(tasks[2], tasks[0], tasks[1]);
  }

  @Test
  void run_cycleThroughBlockingWork_eachThrowsDeadlockSayingWhatTheWorkWaitsFor()
      throws Exception {
    Loop left = Loop.builder().name("left").virtualTime().build();
    Loop right = Loop.builder().name("right").virtualTime().build();
    Task<?>[] tasks = new Task<?>[2];
    Task<String> reader = left.addTask("reader", () -> Tasko.blocking(() -> {
      try {
        return "joined " + tasks[1].join();
      } catch (CancellationException e) {
        return "saw the logger cancelled";
      }
    }));
    tasks[1] = right.addTask("logger", () -> reader.join());

    List<Throwable> thrown = runEach(left, right);

    assertThat(thrown.get(0)).isInstanceOf(DeadlockException.class)
        .hasMessageContaining("task 'reader' of loop 'left' waits for blocking work, which waits "
            + "for task 'logger' of loop 'right' to finish (join)");
    assertThat(thrown.get(1)).isInstanceOf(DeadlockException.class)
        .hasMessageContaining("task 'reader' of loop 'left' waits for blocking work, which waits "
            + "for task 'logger' of loop 'right' to finish (join)");

    tasks[1].cancel(); // the work's join is not a task's: cancel the task it waits for
    assertThat(runEach(left, right)).containsOnlyNulls();
    assertThat(reader.join()).isEqualTo("saw the logger cancelled");
  }

  @Test
  void run_joinsATaskOfALoopDeadlockedInItself_throwsDeadlockNamingThatLoopsTasks()
      throws Exception {
    Loop left = Loop.builder().name("left").virtualTime().build();
    Loop right = Loop.builder().name("right").virtualTime().build();
    Task<?>[] pair = new Task<?>[2];
    pair[0] = right.addTask("b1", () -> pair[1].join());
    pair[1] = right.addTask("b2", () -> pair[0].join());
    left.addTask("a", () -> pair[0].join());

    List<Throwable> thrown = runEach(left, right);

    assertThat(thrown.get(0)).isInstanceOf(DeadlockException.class)
        .hasMessageStartingWith("loop 'left' is deadlocked with loop 'right'")
        .hasMessageContaining("task 'a' of loop 'left' waits for task 'b1' of loop 'right' to "
            + "finish (join)")
        .hasMessageContaining("task 'b1' of loop 'right' waits for task 'b2' to finish (join)");
    assertThat(thrown.get(1)).isInstanceOf(DeadlockException.class) // as before: its own report
        .hasMessageStartingWith("loop 'right' is deadlocked: ");
  }

  @Test
  void run_joinsATaskOfALoopDeadlockedInItselfThroughBlockingWork_throwsDeadlock()
      throws Exception {
    // Found by CrossLoopDeadlockPropertyTest, about one try in a thousand: blocking work told its
    // loop of its join through the inbox. Once that loop had reported its deadlock, the word could
    // come after, and stay in the inbox of a loop no thread ran any more: the loop joining its
    // tasks took it for work to come, and waited for ever. Several rounds, for the race.
    for (int round = 0; round < 50; round++) {
      Loop left = Loop.builder().name("left").build();
      Loop right = Loop.builder().name("right").build();
      Task<?>[] pair = new Task<?>[2];
      pair[0] = right.addTask("b1", () -> Tasko.blocking(() -> pair[1].join()));
      pair[1] = right.addTask("b2", () -> Tasko.blocking(() -> pair[0].join()));
      left.addTask("a", () -> Tasko.blocking(() -> pair[1].join()));

      List<Throwable> thrown = runEach(left, right);

      assertThat(thrown.get(0)).isInstanceOf(DeadlockException.class)
          .hasMessageStartingWith("loop 'left' is deadlocked with loop 'right'");
      assertThat(thrown.get(1)).isInstanceOf(DeadlockException.class)
          .hasMessageStartingWith("loop 'right' is deadlocked: ");
    }
  }

  @Test
  void run_joinedTaskOfAnotherLoopEnds_noDeadlock() throws Exception {
    Loop left = Loop.builder().name("left").virtualTime().build();
    Loop right = Loop.builder().name("right").virtualTime().build();
    Task<String> sensor = right.addTask("sensor", () -> {
      Tasko.sleep(Duration.ofSeconds(5)); // on the other loop's clock: a timer, not stuck
      return "21.5";
    });
    Task<String> reader = left.addTask("reader", () -> "read " + sensor.join());

    assertThat(runEach(left, right)).containsOnlyNulls();

    assertThat(reader.join()).isEqualTo("read 21.5");
  }

  @Test
  void run_joinCycleUnderATimeout_theTimeoutEndsItWithoutDeadlock() throws Exception {
    Loop left = Loop.builder().name("left").virtualTime().build();
    Loop right = Loop.builder().name("right").virtualTime().build();
    Task<?>[] tasks = new Task<?>[2];
    tasks[0] = left.addTask("a", () -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> tasks[1].join());
      } catch (TimeoutException e) {
        log.add("a timed out");
      }
    });
    tasks[1] = right.addTask("b", () -> tasks[0].join());

    assertThat(runEach(left, right)).containsOnlyNulls();

    log.assertTaken("a timed out");
    assertThat(tasks[1].state()).isEqualTo(Task.State.SUCCEEDED);
  }

  @Test
  void run_cycleWhoseLastTaskWaitsOnAnEventAnotherThreadSets_noDeadlock() throws Exception {
    Loop left = Loop.builder().name("left").virtualTime().build();
    Loop right = Loop.builder().name("right").virtualTime().build();
    Event go = Event.create("go");
    Task<?>[] tasks = new Task<?>[2];
    tasks[0] = left.addTask("a", () -> tasks[1].join());
    tasks[1] = right.addTask("b", () -> {
      go.await(); // another thread may set it: the loop waits rather than report
      log.add("b went");
    });
    Drivers drivers = start(left, right);
    awaitTrue(() -> published(left) && tasks[1].toString().contains("WAITING for event 'go'"));

    go.set();

    assertThat(drivers.join()).containsOnlyNulls();
    log.assertTaken("b went");
  }

  @Test
  void run_joinsATaskOfALoopNotYetRun_waitsForIt() throws Exception {
    Loop left = Loop.builder().name("left").virtualTime().build();
    Loop right = Loop.builder().name("right").virtualTime().build();
    Task<?>[] tasks = new Task<?>[2];
    tasks[1] = right.addTask("b", () -> log.add("b ran"));
    tasks[0] = left.addTask("a", () -> {
      tasks[1].join();
      log.add("a joined b");
    });
    Drivers leftDriver = start(left);
    awaitTrue(() -> published(left)); // left has looked, and found right not run: it waits

    Drivers rightDriver = start(right);

    assertThat(leftDriver.join()).containsOnlyNulls();
    assertThat(rightDriver.join()).containsOnlyNulls();
    log.assertTaken("b ran", "a joined b");
  }

  @Test
  void run_commandWithdrawnUnreadFromALoopThatReported_joiningLoopStillThrowsDeadlock()
      throws Exception {
    // Loop.dump() sends its command to a loop it finds driven, and takes it back, unread, if the
    // driver has left meanwhile: here, right's run() leaving with its report. A loop that looked
    // while the command was there took right for a loop with work to come, and waited for ever.
    long warningBefore = Task.outsideJoinWarningNanos;
    Task.outsideJoinWarningNanos = Duration.ofMinutes(10).toNanos(); // no look at 10 s either
    try {
      Loop left = Loop.builder().name("left").virtualTime().build();
      Loop right = Loop.builder().name("right").virtualTime().build();
      Task<?>[] pair = new Task<?>[2];
      pair[0] = right.addTask("b1", () -> pair[1].join());
      pair[1] = right.addTask("b2", () -> pair[0].join());
      left.addTask("a", () -> pair[0].join());
      assertThat(runEach(right)).allSatisfy(e -> assertThat(e)
          .isInstanceOf(DeadlockException.class));
      Runnable dumpCommand = () -> {};
      right.runner.submit(dumpCommand); // as dump() does, seeing right's driver still there

      Drivers leftDriver = start(left);
      awaitTrue(() -> published(left)); // it has looked, and found right's command: it waits
      assertThat(right.runner.unsubmit(dumpCommand)).isTrue(); // as dump(), the driver gone

      assertThat(leftDriver.join().get(0)).isInstanceOf(DeadlockException.class)
          .hasMessageStartingWith("loop 'left' is deadlocked with loop 'right'");
    } finally {
      Task.outsideJoinWarningNanos = warningBefore;
    }
  }

  // ---- helpers ----

  /** Whether {@code loop} idles with only joins of other loops' tasks left, and has said so. */
  private static boolean published(Loop loop) {
    return CrossLoopDeadlocks.isPublished(loop.runner);
  }

  /**
   * Runs each loop on a thread of its own; what each run() threw, or null, in that order. Fails,
   * stopping the loops, if one is still running after {@link #BOUND}.
   */
  static List<Throwable> runEach(Loop... loops) throws InterruptedException {
    return start(loops).join();
  }

  /** Starts a daemon thread running each loop. */
  private static Drivers start(Loop... loops) {
    Drivers d = new Drivers(loops);
    for (Thread t : d.threads) {
      t.start();
    }
    return d;
  }

  /** The threads running some loops, and what each loop's run() threw. */
  private static final class Drivers {
    final Loop[] loops;
    final Thread[] threads;
    final AtomicReferenceArray<Throwable> thrown;

    Drivers(Loop... loops) {
      this.loops = loops;
      this.threads = new Thread[loops.length];
      this.thrown = new AtomicReferenceArray<>(loops.length);
      for (int i = 0; i < loops.length; i++) {
        int index = i;
        threads[i] = Thread.ofPlatform().daemon().name("driver of " + loops[i].name())
            .unstarted(() -> {
              try {
                loops[index].run();
              } catch (Throwable e) {
                thrown.set(index, e);
              }
            });
      }
    }

    /**
     * Waits up to {@link #BOUND} for every driver to leave run(); fails, stopping the loops, if
     * one has not. What each run() threw, or null, in the order of the loops.
     */
    List<Throwable> join() throws InterruptedException {
      long end = System.nanoTime() + BOUND.toNanos();
      for (Thread t : threads) {
        long left = end - System.nanoTime();
        if (left > 0) {
          t.join(Duration.ofNanos(left));
        }
      }
      List<Throwable> result = new ArrayList<>();
      for (int i = 0; i < threads.length; i++) {
        // Its state, not isAlive(): join(Duration) returns once the thread reads TERMINATED, a
        // moment before isAlive() turns false.
        if (threads[i].getState() != Thread.State.TERMINATED) {
          for (Loop l : loops) {
            l.stop();
          }
          fail("loop '" + loops[i].name() + "' still runs after " + BOUND
              + ": its run() neither returned nor reported a deadlock");
        }
        result.add(thrown.get(i));
      }
      return result;
    }
  }

  /** Spins (no sleep) until {@code condition} holds, for at most {@link #BOUND}. */
  private static void awaitTrue(BooleanSupplier condition) {
    long end = System.nanoTime() + BOUND.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        fail("condition not reached within " + BOUND);
      }
      Thread.onSpinWait();
    }
  }
}
