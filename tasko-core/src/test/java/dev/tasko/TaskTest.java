package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tasko.testsupport.EventLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TaskTest {
  private final Loop loop = Loop.builder().name("test").virtualTime().build();
  private final EventLog log = new EventLog();

  @Test
  void name_notGiven_numberedInTheOrderTheLoopMadeThem() {
    Task<Void> first = loop.addTask(() -> {});
    Task<Void> named = loop.addTask("fan", () -> {});
    Task<Void> second = loop.runLater(Duration.ofSeconds(1), () -> {});

    assertThat(List.of(first.name(), named.name(), second.name()))
        .containsExactly("task-1", "fan", "task-2");
    assertThat(second.toString()).startsWith("Task[task-2 NEW");
  }

  @Test
  void isFailureJoined_trueOnlyOnceAJoinHasThrownOrWillThrowTheFailure() {
    Loop logging = Loop.builder().virtualTime().failureHandler((t, e) -> {}).build();
    Task<Void> joinedLater = logging.addTask("joined later", () -> {
      throw new IllegalStateException("a");
    });
    Task<Void> joinedWhileRunning = logging.addTask("joined while running", () -> {
      Tasko.sleep(Duration.ofSeconds(1));
      throw new IllegalStateException("b");
    });
    Task<Void> neverJoined = logging.addTask("never joined", () -> {
      throw new IllegalStateException("c");
    });
    Task<Void> succeeded = logging.addTask("succeeded", () -> {});
    Task<Void> cancelled = logging.addTask("cancelled", () -> Tasko.sleep(Duration.ofHours(1)));
    logging.addTask("joiner", () -> {
      try {
        joinedWhileRunning.join();
      } catch (TaskFailedException expected) {
        // seen
      }
      cancelled.cancel();
    });
    logging.run();

    assertThat(joinedLater.isFailureJoined()).isFalse();
    assertThatThrownBy(joinedLater::join).isInstanceOf(TaskFailedException.class);
    assertThat(List.of(joinedLater, joinedWhileRunning, neverJoined, succeeded, cancelled))
        .extracting(Task::isFailureJoined).containsExactly(true, true, false, false, false);
  }

  @Test
  void name_numberPastTheIntRange_stillCountsOn() {
    loop.taskNumbers.set(Integer.MAX_VALUE - 1);

    Task<Void> last = loop.addTask(() -> log.add(Thread.currentThread().getName()));
    Task<Void> past = loop.addTask(() -> log.add(Thread.currentThread().getName()));
    loop.run();

    assertThat(last.name()).isEqualTo("task-2147483647");
    assertThat(past.name()).isEqualTo("task-2147483648");
    log.assertTaken("task of test", "task of test");
  }

  @Test
  void thread_ofNamedTask_isNamedAfterIt_othersShareOneNameOfTheLoop() {
    // Unnamed tasks share one thread name, so that a task costs no string of its own.
    loop.addTask("fan", () -> log.add(Thread.currentThread().getName()));
    loop.addTask(() -> log.add(Thread.currentThread().getName()));
    loop.addTask(() -> log.add(Thread.currentThread().getName()));

    loop.run();

    log.assertTaken("fan", "task of test", "task of test");
  }

  @Test
  void threads_ofAllTasks_runOneRunnable() {
    // One body for every task's thread, found through the loop: no object per task for it.
    Set<Runnable> bodies = Collections.newSetFromMap(new IdentityHashMap<>());
    Loop.Builder b = Loop.builder().virtualTime();
    b.taskThreads = body -> {
      bodies.add(body);
      return Thread.ofVirtual().unstarted(body);
    };
    Loop counted = b.build();
    for (int i = 0; i < 3; i++) {
      counted.addTask(() -> log.add("ran"));
    }

    counted.run();

    log.assertTaken("ran", "ran", "ran");
    assertThat(bodies).hasSize(1);
  }

  /**
   * Every call between a task's thread start and its body is a frame that each sleeping task keeps
   * (and that counts towards the JIT's inlining depth): the body runs one call above the thread's
   * own {@code run}, as a plain virtual thread's does.
   */
  @Test
  void body_ofTaskOrCallable_runsOneFrameAboveTheThreadsRun() {
    List<String> callers = new ArrayList<>();
    TaskBody body = () -> {
      StackTraceElement[] stack = Thread.currentThread().getStackTrace();
      int run = 0;
      while (!(stack[run].getClassName().equals("java.lang.VirtualThread")
          && stack[run].getMethodName().equals("run"))) {
        run++;
      }
      callers.add(stack[run - 2].getClassName() + " <- " + stack[run - 1].getClassName());
    };
    loop.addTask(body);
    loop.addTask("callable", () -> {
      body.run(); // one frame more: the callable's own
      return 1;
    });

    loop.run();

    assertThat(callers).hasSize(2).allSatisfy(c -> assertThat(c)
        .startsWith(TaskTest.class.getName() + " <- " + Task.class.getName()));
  }

  /** A loop whose failure handler keeps what it is given, for the tests of a task's outcome. */
  private Loop reportingLoop(List<Throwable> reported) {
    return Loop.builder().name("reporting").virtualTime()
        .failureHandler((task, failure) -> reported.add(failure)).build();
  }

  /** A bus whose onRelease throws {@code e}: a lease its task forgets fails it at its end. */
  private static ManagedResource<String, String> busFailingOnRelease(RuntimeException e) {
    return ManagedResource.of("bus", "spi", cs -> {}, cs -> {
      throw e;
    });
  }

  @Test
  void run_bodyThrowsItsOwnCancellationException_failsWithIt() {
    List<Throwable> reported = new ArrayList<>();
    Loop l = reportingLoop(reported);
    CancellationException own = new CancellationException("not a cancel");
    Task<Void> t = l.addTask(() -> {
      throw own;
    });

    l.run();

    assertThat(t.state()).isEqualTo(Task.State.FAILED);
    assertThat(t.failure()).isSameAs(own);
    assertThat(reported).containsExactly(own);
    assertThatThrownBy(t::join).isInstanceOf(TaskFailedException.class).hasCause(own);
  }

  @Test
  void run_bodyFailsAndAForgottenLeaseThrowsOnRelease_releaseFailureSuppressedInIt() {
    List<Throwable> reported = new ArrayList<>();
    Loop l = reportingLoop(reported);
    IllegalStateException release = new IllegalStateException("release");
    ManagedResource<String, String> bus = busFailingOnRelease(release);
    RuntimeException body = new RuntimeException("body");
    Task<Void> t = l.addTask(() -> {
      bus.handle("cs0").acquire(); // never released
      throw body;
    });

    l.run();

    assertThat(t.failure()).isSameAs(body);
    assertThat(reported).containsExactly(body);
    assertThat(body.getSuppressed()).containsExactly(release);
  }

  @Test
  void run_bodyAndOnReleaseThrowTheSameException_failsWithItNotSuppressingItself() {
    List<Throwable> reported = new ArrayList<>();
    Loop l = reportingLoop(reported);
    RuntimeException same = new RuntimeException("same");
    ManagedResource<String, String> bus = busFailingOnRelease(same);
    Task<Void> t = l.addTask(() -> {
      bus.handle("cs0").acquire();
      throw same;
    });

    l.run();

    assertThat(t.state()).isEqualTo(Task.State.FAILED);
    assertThat(reported).containsExactly(same);
    assertThat(same.getSuppressed()).isEmpty();
  }

  @Test
  void join_callableSucceedsButOnReleaseThrows_failsWithTheReleaseFailure() {
    List<Throwable> reported = new ArrayList<>();
    Loop l = reportingLoop(reported);
    IllegalStateException release = new IllegalStateException("release");
    ManagedResource<String, String> bus = busFailingOnRelease(release);
    Task<String> t = l.addTask("reader", () -> {
      bus.handle("cs0").acquire();
      return "read";
    });

    l.run();

    assertThat(t.state()).isEqualTo(Task.State.FAILED);
    assertThat(t.failure()).isSameAs(release);
    assertThatThrownBy(t::join).isInstanceOf(TaskFailedException.class).hasCause(release);
  }

  @Test
  void join_fromTask_returnsValueOfCallable() {
    Task<Integer> answer = loop.addTask("answer", () -> {
      Tasko.sleep(Duration.ofSeconds(1));
      return 42;
    });
    loop.addTask(() -> log.add("joined " + answer.join()));

    loop.run();

    log.assertTaken("joined 42");
    assertThat(answer.state()).isEqualTo(Task.State.SUCCEEDED);
  }

  @Test
  void join_finishedTask_isStillASwitchPoint() {
    Task<String> done = loop.addTask(() -> "x");
    loop.addTask(() -> {
      Tasko.yieldNow();
      log.add("before join");
      done.join();
      log.add("after join");
    });
    loop.addTask(() -> {
      Tasko.yieldNow();
      log.add("other");
    });

    loop.run();

    log.assertTaken("before join", "other", "after join");
  }

  @Test
  void join_failedTask_throwsTaskFailedException_andFailureDoesNotStopRun() {
    IllegalStateException boom = new IllegalStateException("boom");
    Task<Void> bad = loop.addTask("bad", () -> {
      Tasko.yieldNow();
      throw boom;
    });
    loop.addTask(() -> {
      try {
        bad.join();
      } catch (TaskFailedException e) {
        log.add("caught " + e.getMessage());
        assertThat(e.getCause()).isSameAs(boom);
        assertThat(e.task()).isSameAs(bad);
      }
    });

    loop.run(); // the failure reached a joiner, so it does not stop run()

    log.assertTaken("caught task 'bad' failed: java.lang.IllegalStateException: boom");
    assertThat(bad.state()).isEqualTo(Task.State.FAILED);
  }

  @Test
  void join_itself_throwsIllegalState() {
    Task<?>[] self = new Task<?>[1];
    self[0] = loop.addTask(() -> {
      assertThatThrownBy(() -> self[0].join()).isInstanceOf(IllegalStateException.class)
          .hasMessage("task 'task-1' cannot join itself");
      log.add("checked");
    });

    loop.run();

    log.assertTaken("checked");
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void join_fromOutsideThread_blocksUntilDone() throws Exception {
    Loop real = Loop.create();
    Task<String> t = real.addTask(() -> {
      Tasko.sleep(Duration.ofMillis(1));
      return "done";
    });
    Thread driver = Thread.ofPlatform().start(real::run);

    assertThat(t.join()).isEqualTo("done");
    driver.join();
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void join_taskOfAnotherLoop_waitsWithoutBlockingOwnLoop() throws Exception {
    Loop other = Loop.create();
    Task<String> remote = other.addTask(() -> {
      Tasko.sleep(Duration.ofMillis(1));
      return "remote";
    });
    Loop real = Loop.create();
    real.addTask(() -> log.add("joined " + remote.join()));
    real.addTask(() -> log.add("not blocked"));
    Thread otherDriver = Thread.ofPlatform().start(other::run);

    real.run();

    otherDriver.join();
    assertThat(log.take()).containsExactly("not blocked", "joined remote");
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void join_taskOfAnotherLoopWhoseRunHasReturned_returnsInsteadOfHanging() {
    // Regression: a cross-loop join used to register through the target loop's inbox, which
    // nobody reads once that loop's run() has returned; the joiner waited forever (seen as a CI
    // hang when the other loop happened to finish first).
    Loop other = Loop.builder().virtualTime().build();
    Task<String> remote = other.addTask(() -> "remote");
    other.run();
    Loop real = Loop.builder().virtualTime().build();
    real.addTask(() -> log.add("joined " + remote.join()));

    real.run();

    log.assertTaken("joined remote");
  }

  @Test
  void join_endedTaskOfAnotherLoopByACancelledTask_throwsCancellation() {
    Loop other = Loop.builder().virtualTime().build();
    Task<String> remote = other.addTask(() -> "remote");
    other.run();
    Loop here = Loop.builder().virtualTime().build();
    Task<Void> poller = here.addTask(() -> {
      Tasko.currentTask().cancel(); // the cancel comes before the join
      for (int i = 0; i < 3; i++) {
        log.add("joined " + remote.join());
      }
    });

    here.run();

    log.assertTaken();
    assertThat(poller.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void cancel_sleepingTask_throwsAtSleep_runsFinally_joinThrowsCancellation() {
    Task<Void> sleeper = loop.addTask("sleeper", () -> {
      try {
        Tasko.sleep(Duration.ofHours(1));
        log.add("not reached");
      } finally {
        log.add("finally");
      }
    });
    loop.addTask(() -> {
      Tasko.yieldNow();
      assertThat(sleeper.cancel()).isTrue();
      try {
        sleeper.join();
      } catch (CancellationException e) {
        log.add("join: " + e.getMessage());
      }
    });

    loop.run();

    log.assertTaken("finally", "join: task 'sleeper' was cancelled");
    assertThat(sleeper.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(sleeper.isCancelled()).isTrue();
    assertThat(loop.nanoTime()).as("no hour was waited").isZero();
  }

  @Test
  void cancel_beforeStart_taskNeverRuns() {
    Task<Void> t = loop.addTask(() -> log.add("ran"));
    t.cancel();

    loop.run();

    log.assertTaken();
    assertThat(t.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void cancel_runLaterBeforeDelay_neverRunsAndLoopEndsAtOnce() {
    Task<Void> t = loop.runLater(Duration.ofHours(1), () -> log.add("ran"));
    loop.addTask(t::cancel);

    loop.run();

    log.assertTaken();
    assertThat(t.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(loop.nanoTime()).isZero();
  }

  @Test
  void cancel_readyTask_throwsAtItsNextSuspensionPoint() {
    Task<?>[] victim = new Task<?>[1];
    victim[0] = loop.addTask(() -> {
      log.add("running");
      victim[0].cancel(); // cancelling itself: goes on until it suspends
      log.add("still running");
      try {
        Tasko.yieldNow();
      } catch (CancellationException e) {
        log.add("cancelled at yield");
        throw e;
      }
    });

    loop.run();

    log.assertTaken("running", "still running", "cancelled at yield");
    assertThat(victim[0].state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void cancel_whileJoining_joinerThrows_targetUnaffected() {
    Task<String> slow = loop.addTask(() -> {
      Tasko.sleep(Duration.ofSeconds(10));
      return "slow done";
    });
    Task<Void> joiner = loop.addTask(() -> {
      try {
        slow.join();
      } catch (CancellationException e) {
        log.add("joiner cancelled");
        throw e;
      }
    });
    loop.runLater(Duration.ofSeconds(1), joiner::cancel);

    loop.run();

    log.assertTaken("joiner cancelled");
    assertThat(joiner.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(slow.join()).isEqualTo("slow done");
  }

  @Test
  void cancel_afterCancelled_everySuspensionPointThrows() {
    Task<Void> t = loop.addTask(() -> {
      try {
        Tasko.sleep(Duration.ofSeconds(1));
      } catch (CancellationException e) {
        log.add("first");
      }
      try {
        Tasko.yieldNow();
      } catch (CancellationException e) {
        log.add("second");
      }
    });
    loop.addTask(t::cancel);

    loop.run();

    log.assertTaken("first", "second");
    assertThat(t.state()).as("the body returned normally").isEqualTo(Task.State.SUCCEEDED);
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void cancel_fromAnotherThread_takesEffect() throws Exception {
    Loop real = Loop.create();
    Task<Void> t = real.addTask(() -> Tasko.suspend("never").await());
    real.addTask(() -> {
      Thread.ofPlatform().start(t::cancel).join(); // blocks this loop briefly: fine in a test
    });

    real.run();

    assertThat(t.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void isCancelled_cancelFromOutside_trueFromTheLoopsNextPass() {
    Task<Void> sleeper = loop.addTask(() -> Tasko.sleep(Duration.ofSeconds(1)));
    loop.step(); // asleep; no thread drives the loop now, so this test's thread is outside it

    assertThat(sleeper.cancel()).isTrue();

    assertThat(sleeper.isCancelled()).as("before the loop's next pass").isFalse();
    loop.step();
    assertThat(sleeper.isCancelled()).isTrue();
    assertThat(sleeper.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void cancel_doneTask_returnsFalse() {
    Task<Void> t = loop.addTask(() -> {});
    loop.run();
    assertThat(t.cancel()).isFalse();
    assertThat(t.state()).isEqualTo(Task.State.SUCCEEDED);
  }

  @Test
  void state_followsTheTaskThroughItsLife() {
    Task<?>[] t = new Task<?>[1];
    t[0] = loop.addTask("life", () -> {
      log.add("inside: " + t[0].state());
      Tasko.sleep(Duration.ofSeconds(1));
    });
    assertThat(t[0].state()).isEqualTo(Task.State.NEW);
    loop.addTask(() -> {
      Tasko.yieldNow();
      log.add("while sleeping: " + t[0].state());
    });

    loop.run();

    log.assertTaken("inside: RUNNING", "while sleeping: WAITING");
    assertThat(t[0].state()).isEqualTo(Task.State.SUCCEEDED);
    assertThat(t[0].isDone()).isTrue();
    assertThat(t[0].name()).isEqualTo("life");
    assertThat(t[0].loop()).isSameAs(loop);
    assertThat(t[0]).hasToString("Task[life SUCCEEDED]");
  }

  @Test
  void currentTask_insideTask_isThatTask_outsideIsNull() {
    Task<?>[] t = new Task<?>[1];
    t[0] = loop.addTask(() -> assertThat(Tasko.currentTask()).isSameAs(t[0]));
    loop.run();
    assertThat(Tasko.currentTask()).isNull();
    assertThat(t[0].state()).isEqualTo(Task.State.SUCCEEDED);
  }

  @Test
  @Tag("realtime") // a 100 ms window of real time, and real threads
  @Timeout(30) // a hang fails instead of holding up the build
  void join_fromPlainThreadInterruptedOverAndOver_stillWarnsOnceNoThreadRunsTheLoop()
      throws Exception {
    // The old code timed the warning's window afresh after each interrupt: never warned.
    long before = Task.outsideJoinWarningNanos;
    Task.outsideJoinWarningNanos = Duration.ofMillis(100).toNanos();
    CountDownLatch warned = new CountDownLatch(1);
    try (LogCapture logs = new LogCapture(Level.WARNING, r -> warned.countDown())) {
      Task<String> t = loop.addTask("reading", () -> "done");
      AtomicReference<String> got = new AtomicReference<>();
      Thread waiter = Thread.ofPlatform().name("waiter").daemon().start(() -> got.set(t.join()));
      Thread interrupter = Thread.ofPlatform().daemon().start(() -> {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (warned.getCount() > 0 && System.nanoTime() - end < 0) {
          waiter.interrupt(); // over and over, far more often than the warning's window
        }
      });

      assertThat(warned.await(10, TimeUnit.SECONDS)).isTrue();
      interrupter.join();
      loop.run();
      waiter.join();

      assertThat(got.get()).isEqualTo("done");
      assertThat(logs.messages(Level.WARNING)).containsExactly(
          "loop 'test': thread 'waiter' has waited 100 ms in join() of task 'reading', which has "
              + "not ended, and no thread runs the loop. Run it (loop.run() on another thread), or "
              + "join after run() has returned.");
    } finally {
      Task.outsideJoinWarningNanos = before;
    }
  }
}
