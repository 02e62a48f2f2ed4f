package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.tasko.testsupport.EventLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A stack overflow at any point of a switch loses no task and never lets two tasks run at once.
 * A task recurses to a given depth and suspends there; the program tries every depth around the
 * one where its stack runs out, so that the overflow strikes at each call of the switch in turn.
 * It runs in a JVM of its own that only interprets ({@code -Xint}), where every frame has the
 * same size on every run, with small thread stacks ({@code -Xss256k}) that overflow quickly.
 */
class RunnerHandOffOverflowTest {
  /** Long enough for any of these loops; a loop that lost its processor would wait forever. */
  private static final Duration HUNG = Duration.ofSeconds(30);

  private final EventLog log = new EventLog();

  /**
   * A loop on virtual time whose tasks' second thread is {@code second}; the others are the usual
   * virtual threads.
   */
  private static Loop loopWithSecondThread(java.util.function.Function<Runnable, Thread> second) {
    return builderWithSecondThread(second).build();
  }

  /** The builder of {@link #loopWithSecondThread}, for a test that sets more. */
  private static Loop.Builder builderWithSecondThread(
      java.util.function.Function<Runnable, Thread> second) {
    Loop.Builder b = Loop.builder().virtualTime();
    AtomicInteger made = new AtomicInteger();
    b.taskThreads = body -> made.getAndIncrement() == 1 ? second.apply(body)
        : Thread.ofVirtual().unstarted(body);
    return b;
  }

  /** A thread whose start throws, as when there is no memory for a thread. */
  static Thread threadThatCannotStart(Runnable body) {
    return new Thread(body) {
      @Override
      public void start() {
        throw new OutOfMemoryError("no thread for this test");
      }
    };
  }

  @Test
  void takeTurn_threadFailsToStart_handOffTakenBackAndTheTaskRunsNext() {
    Loop loop = loopWithSecondThread(RunnerHandOffOverflowTest::threadThatCannotStart);
    loop.addTask("a", () -> {
      log.add("a starts");
      try {
        Tasko.yieldNow(); // hands the processor to b, whose thread does not start
      } catch (OutOfMemoryError e) {
        log.add("a: " + e.getMessage());
      }
      log.add("a ends");
    });
    Task<Void> b = loop.addTask("b", () -> log.add("b runs"));

    assertTimeoutPreemptively(HUNG, loop::run);

    // The old code left b out of every queue, its turn given to a thread that never started.
    log.assertTaken("a starts", "a: no thread for this test", "a ends", "b runs");
    assertThat(b.state()).isEqualTo(Task.State.SUCCEEDED);
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  void handTo_threadFailsToStart_switchNotCounted() {
    Loop loop = loopWithSecondThread(RunnerHandOffOverflowTest::threadThatCannotStart);
    loop.addTask("a", () -> {
      try {
        Tasko.yieldNow(); // hands the processor to b, whose thread does not start
      } catch (OutOfMemoryError e) {
        log.add("a: " + e.getMessage());
      }
    });
    loop.addTask("b", () -> log.add("b runs"));

    assertTimeoutPreemptively(HUNG, loop::run);

    log.assertTaken("a: no thread for this test", "b runs");
    // driver -> a, a -> b (on a thread made anew), b -> driver; the old code counted the hand-off
    // to the thread that never started as a fourth
    assertThat(loop.stats().switches()).isEqualTo(3);
  }

  @Test
  void takeTurn_threadCannotBeMade_taskStaysNewAndRunsNext() {
    Loop loop = loopWithSecondThread(body -> {
      throw new OutOfMemoryError("no thread object for this test");
    });
    AtomicReference<Task.State> seen = new AtomicReference<>();
    List<Task<Void>> b = new ArrayList<>();
    loop.addTask("a", () -> {
      try {
        Tasko.yieldNow(); // hands the processor to b, whose thread cannot be made
      } catch (OutOfMemoryError e) {
        seen.set(b.get(0).state()); // the old code: RUNNING, for a task that never ran
      }
    });
    b.add(loop.addTask("b", () -> log.add("b runs")));

    assertTimeoutPreemptively(HUNG, loop::run);

    assertThat(seen.get()).isEqualTo(Task.State.NEW);
    log.assertTaken("b runs");
  }

  @Test
  void handTo_threadFailsToStart_stallWatchdogWatchesTheTaskThatHoldsTheProcessor() {
    Loop loop = loopWithSecondThread(RunnerHandOffOverflowTest::threadThatCannotStart);
    StallWatchdog watchdog = loop.runner.watchdog;
    AtomicReference<Task<?>> watched = new AtomicReference<>();
    Task<Void> a = loop.addTask("a", () -> {
      try {
        Tasko.yieldNow();
      } catch (OutOfMemoryError e) {
        watched.set(watchdog.holder); // the old code: b, whose hand-off was taken back
      }
    });
    loop.addTask("b", () -> {});

    assertTimeoutPreemptively(HUNG, loop::run);

    assertThat(watched.get()).isSameAs(a);
  }

  @Test
  void park_threadFailsToStart_timelineShowsTheTaskThatGotTheErrorRunningOn() {
    Timeline timeline = Timeline.ofLast(1000);
    Loop loop = builderWithSecondThread(RunnerHandOffOverflowTest::threadThatCannotStart)
        .timeline(timeline).build();
    loop.addTask("a", () -> {
      try {
        Tasko.yieldNow(); // hands the processor to b, whose thread does not start
      } catch (OutOfMemoryError e) {
        Tasko.sleep(Duration.ofSeconds(1)); // a runs on, then sleeps: a turn of its own
      }
    });
    loop.addTask("b", () -> {});

    assertTimeoutPreemptively(HUNG, loop::run);

    // a ran, ran on after the failed hand-off, and after its sleep. The old code showed only its
    // first turn, its sleep and its last turn: nothing of a between the hand-off and the sleep.
    List<Timeline.Slice> a = timeline.slices(new ArrayList<>()).stream()
        .filter(s -> "a".equals(s.lane())).toList();
    assertThat(a).extracting(Timeline.Slice::name).containsExactly("run", "yield", "run",
        "sleep", "run");
  }

  @Test
  void takeTurn_startThrowsAfterTheThreadTookItsTurn_handOffStands() {
    CountDownLatch bRuns = new CountDownLatch(1);
    Loop loop = loopWithSecondThread(body -> {
      Thread t = new Thread(body) {
        @Override
        public void start() {
          super.start();
          try {
            bRuns.await(HUNG.toSeconds(), TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          throw new OutOfMemoryError("thrown after the start");
        }
      };
      t.setDaemon(true);
      return t;
    });
    loop.addTask("a", () -> {
      log.add("a starts");
      try {
        Tasko.yieldNow();
      } catch (OutOfMemoryError e) {
        log.add("a: " + e.getMessage()); // the old code: a ran on while b ran
      }
      log.add("a ends");
    });
    loop.addTask("b", () -> {
      bRuns.countDown();
      log.add("b runs");
    });

    assertTimeoutPreemptively(HUNG, loop::run);

    log.assertTaken("a starts", "b runs", "a ends");
  }

  @Test
  void exit_nextTaskThreadFailsToStart_runThrowsAndTheNextRunRunsTheTask() {
    Loop loop = loopWithSecondThread(RunnerHandOffOverflowTest::threadThatCannotStart);
    loop.addTask("a", () -> log.add("a runs")); // ends, and hands the processor to b
    Task<Void> b = loop.addTask("b", () -> log.add("b runs"));

    // The old code: a's thread ended with the error while it held the processor; run() hung.
    assertTimeoutPreemptively(HUNG, () -> assertThatThrownBy(loop::run)
        .isInstanceOf(OutOfMemoryError.class).hasMessage("no thread for this test"));
    assertThat(b.state()).isEqualTo(Task.State.NEW);
    assertTimeoutPreemptively(HUNG, loop::run);

    log.assertTaken("a runs", "b runs");
    assertThat(b.state()).isEqualTo(Task.State.SUCCEEDED);
  }

  @Test
  void handTo_stackOverflowAtEveryCallOfTheSwitch_losesNoTaskAndRunsOneTaskAtATime()
      throws Exception {
    // Two carriers even on a one-processor machine, so that the sweep covers the early wake-up
    // of the task after the next, which the loop makes only with two or more.
    String out = ChildJvm.run(List.of("-Xint", "-Xss256k",
        "-Djdk.virtualThreadScheduler.parallelism=2"), DeepSwitches.class);

    for (Mode mode : Mode.values()) {
      // The control: the overflow did strike inside the switch, at some depths.
      assertThat(count(out, mode, "overflows in the switch")).as(out).isPositive();
      // The old code lost the task it was handing the processor to: a deadlock report.
      assertThat(count(out, mode, "failures")).as(out).isZero();
    }
  }

  private static long count(String out, Mode mode, String what) {
    String prefix = mode + " " + what + ": ";
    return out.lines()
        .filter(l -> l.startsWith(prefix))
        .mapToLong(l -> Long.parseLong(l.substring(prefix.length())))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no count of " + what + " for " + mode + ":\n"
            + out));
  }

  /** What the deep task's switch hands the processor to. */
  enum Mode {
    /** A task whose thread has not started yet: the switch starts it. */
    NEW_TASK,
    /**
     * As {@link #NEW_TASK}, and the task that overflowed then cancels the others: one whose
     * start failed must be as it was before, a task never started, which ends at once.
     */
    NEW_TASK_CANCELLED,
    /** A task parked after its own earlier turn: the switch wakes it. */
    PARKED_TASK,
    /** The driving thread, on the system clock, while the other tasks sleep. */
    DRIVER
  }

  /**
   * For each mode, runs a loop per depth and prints how many depths overflowed inside the
   * switch, and how many ended in a failure: an exception from run(), a task left over, a run()
   * that had not returned after ten seconds, or two tasks seen running at once.
   */
  static final class DeepSwitches {
    /** Tasks between two suspension points: only ever 0 or 1. */
    private static volatile int running;
    private static volatile boolean overlapped;
    /** Set by the deep task just before it suspends, to tell its overflows apart. */
    private static volatile boolean suspending;

    public static void main(String[] args) throws Exception {
      for (Mode mode : Mode.values()) {
        int top = firstDepthOverflowingBeforeTheSwitch(mode);
        int inSwitch = 0;
        int failures = 0;
        // Near the top, the overflow moves call by call through the switch (further down, the
        // stack is too deep to be frozen, and the overflow comes from the park itself).
        for (int depth = top - 300; depth <= top; depth++) {
          String outcome = runAt(mode, depth);
          if (outcome.equals("overflow in the switch")) {
            inSwitch++;
          } else if (!outcome.equals("ok") && !outcome.startsWith("overflow")) {
            failures++;
            System.out.println(mode + " at depth " + depth + ": " + outcome);
          }
        }
        System.out.println(mode + " overflows in the switch: " + inSwitch);
        System.out.println(mode + " failures: " + failures);
      }
    }

    /** The least depth at which the deep task overflows before it even begins to suspend. */
    private static int firstDepthOverflowingBeforeTheSwitch(Mode mode) throws Exception {
      int low = 0; // overflows later, or not at all
      int high = 1 << 16; // overflows before
      while (high - low > 1) {
        int mid = (low + high) >>> 1;
        if (runAt(mode, mid).equals("overflow before the switch")) {
          high = mid;
        } else {
          low = mid;
        }
      }
      return high;
    }

    /**
     * Runs one loop: a task that suspends at {@code depth} frames, and three others that
     * suspend now and then. Returns "ok", where the deep task's stack overflow came from, or what
     * went wrong.
     */
    private static String runAt(Mode mode, int depth) throws Exception {
      Loop.Builder builder = Loop.builder().noStallWarning();
      if (mode != Mode.DRIVER) {
        builder.virtualTime();
      }
      Loop loop = builder.build();
      AtomicReference<String> overflow = new AtomicReference<>("ok");
      List<Task<Void>> others = new ArrayList<>();
      running = 0;
      overlapped = false;
      suspending = false;
      loop.addTask("deep", () -> {
        enter();
        if (mode == Mode.PARKED_TASK || mode == Mode.DRIVER) {
          pause(mode, 1); // the others start, and park (or sleep for longer than this task)
        }
        try {
          recurse(depth, mode);
        } catch (StackOverflowError e) {
          // Thrown here, the error leaves the task holding the processor: it counts as running.
          overflow.set(!suspending ? "overflow before the switch"
              : inSwitch(e) ? "overflow in the switch" : "overflow in the park");
          if (mode == Mode.NEW_TASK_CANCELLED) {
            others.forEach(Task::cancel);
          }
        }
        leave();
      });
      for (int i = 0; i < 3; i++) {
        others.add(loop.addTask("other-" + i, () -> {
          enter();
          try {
            for (int k = 0; k < 3; k++) {
              pause(mode, 5);
            }
          } finally {
            leave(); // a cancellation ends the task here
          }
        }));
      }
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      Thread driver = Thread.ofPlatform().start(() -> {
        try {
          loop.run();
        } catch (Throwable e) {
          thrown.set(e);
        }
      });
      if (!driver.join(Duration.ofSeconds(10))) {
        System.out.println(mode + " at depth " + depth + ": run() has not returned");
        System.exit(1); // a hung loop: nothing more can run in this JVM
      }
      if (thrown.get() != null) {
        return "run() threw " + thrown.get();
      }
      if (loop.taskCount() != 0) {
        return loop.taskCount() + " tasks left";
      }
      if (overlapped) {
        return "two tasks ran at once";
      }
      return overflow.get();
    }

    private static void recurse(int depth, Mode mode) {
      if (depth > 0) {
        recurse(depth - 1, mode);
        return;
      }
      // No calls but the suspension itself: the stack is nearly exhausted here.
      suspending = true;
      running--;
      try {
        if (mode == Mode.DRIVER) {
          Tasko.sleep(Duration.ofMillis(1)); // the others sleep still: nothing else to run
        } else {
          Tasko.yieldNow();
        }
      } finally {
        // Returned or thrown, the task holds the processor again.
        if (running++ != 0) {
          overlapped = true;
        }
      }
    }

    /** Yields, or on the system clock sleeps for {@code millis}. */
    private static void pause(Mode mode, int millis) {
      leave();
      try {
        if (mode == Mode.DRIVER) {
          Tasko.sleep(Duration.ofMillis(millis));
        } else {
          Tasko.yieldNow();
        }
      } finally {
        enter();
      }
    }

    private static void enter() {
      if (running++ != 0) {
        overlapped = true;
      }
    }

    private static void leave() {
      running--;
    }

    /** Whether the overflow came from the loop's hand-off rather than from the park after it. */
    private static boolean inSwitch(StackOverflowError e) {
      return Arrays.stream(e.getStackTrace()).limit(40).anyMatch(f ->
          f.getClassName().equals(Runner.class.getName()) && (f.getMethodName().equals("handTo")
              || f.getMethodName().equals("next") || f.getMethodName().equals("handBack")
              || f.getMethodName().equals("switchAway"))
          || f.getClassName().equals(Task.class.getName())
              && f.getMethodName().equals("takeTurn"));
    }
  }
}
