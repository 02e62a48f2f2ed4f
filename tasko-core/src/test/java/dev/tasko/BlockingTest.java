package dev.tasko;

import dev.tasko.testsupport.EventLog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class BlockingTest {
  private final Loop loop = Loop.builder().virtualTime().build();
  private final EventLog log = new EventLog();

  private String now() {
    return Duration.ofNanos(loop.nanoTime()).toString();
  }

  private static void awaitState(Task<?> t, Task.State state) {
    while (t.state() != state) {
      Thread.onSpinWait();
    }
  }

  @Test
  void blocking_resultComesBack_otherTasksRunMeanwhile() {
    CountDownLatch released = new CountDownLatch(1);
    Task<Integer> reader = loop.addTask("reader", () -> Tasko.blocking(() -> {
      released.await(); // blocks its own thread, not the loop
      return 42;
    }));
    loop.addTask("other", () -> {
      log.add("other runs");
      released.countDown();
    });

    loop.run();

    log.assertTaken("other runs");
    assertThat(reader.join()).isEqualTo(42);
  }

  @Test
  void blocking_onVirtualTime_clockStandsStillWhileWorkIsInFlight() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    loop.addTask("sleeper", () -> {
      Tasko.sleep(Duration.ofSeconds(1));
      log.add("sleeper woke@" + now());
    });
    Task<Void> worker = loop.addTask("worker", () -> {
      Tasko.blocking(() -> {
        release.await();
        log.add("work done@" + now());
        return null;
      });
      log.add("worker back@" + now());
    });
    Thread outside = Thread.ofPlatform().start(() -> {
      awaitState(worker, Task.State.WAITING);
      release.countDown();
    });

    loop.run();

    outside.join();
    log.assertTaken("work done@PT0S", "worker back@PT0S", "sleeper woke@PT1S");
  }

  @Test
  void blocking_workThrows_uncheckedPassesThrough_checkedWrapped() {
    IllegalStateException boom = new IllegalStateException("bus stuck");
    loop.addTask("reader", () -> {
      try {
        Tasko.blocking(() -> {
          throw boom;
        });
      } catch (IllegalStateException e) {
        log.add("same exception: " + (e == boom));
      }
      try {
        Tasko.blocking(() -> {
          throw new IOException("no card");
        });
      } catch (TaskFailedException e) {
        log.add("wrapped: " + e.getCause().getMessage());
      }
    });

    loop.run();

    log.assertTaken("same exception: true", "wrapped: no card");
  }

  @Test
  void blocking_checkedExceptionEscapesTheTask_loopSaysOnceThatTheTaskFailed() {
    IOException noCard = new IOException("no card");
    loop.addTask("reader", () -> {
      Tasko.blocking(() -> {
        throw noCard;
      });
    });

    assertThatThrownBy(loop::run)
        .isInstanceOf(TaskFailedException.class)
        .hasMessage("task 'reader' failed: java.io.IOException: no card")
        .cause() // the work's wrapper stays in the chain
        .isInstanceOf(TaskFailedException.class)
        .hasCause(noCard);
  }

  @Test
  void cancel_interruptsTheWork_andTheTaskWaitsForItToEnd() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    CountDownLatch mayEnd = new CountDownLatch(1);
    Task<?>[] reader = new Task<?>[1];
    reader[0] = loop.addTask("reader", () -> {
      try {
        Tasko.blocking(() -> {
          started.countDown();
          try {
            new CountDownLatch(1).await(); // a read that never returns by itself
          } catch (InterruptedException e) {
            interrupted.countDown();
          }
          mayEnd.await(); // slow clean-up: the task must wait for it
          log.add("work ends");
          return null;
        });
      } catch (CancellationException e) {
        log.add("task cancelled");
        throw e;
      }
    });
    Thread outside = Thread.ofPlatform().start(() -> {
      try {
        started.await();
        awaitState(reader[0], Task.State.WAITING);
        reader[0].cancel(); // from another thread
        interrupted.await();
        while (reader[0].state() != Task.State.WAITING && !reader[0].isDone()) {
          Thread.onSpinWait(); // until it waits for the work's end, or (wrongly) ends
        }
        log.add("task done while its work runs: " + reader[0].isDone());
        mayEnd.countDown();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    });

    loop.run();

    outside.join();
    log.assertTaken("task done while its work runs: false", "work ends", "task cancelled");
    assertThat(reader[0].state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void cancel_workStillQueuedInTheExecutor_isSkipped_taskEndsAtOnce() {
    List<Runnable> queued = new ArrayList<>();
    AtomicBoolean ran = new AtomicBoolean();
    Task<Void> reader = loop.addTask("reader", () -> {
      Tasko.blocking(queued::add, () -> {
        ran.set(true);
        return null;
      });
    });
    loop.addTask("canceller", reader::cancel);

    loop.run();

    assertThat(reader.state()).isEqualTo(Task.State.CANCELLED);
    queued.get(0).run(); // the executor gets round to it at last
    assertThat(ran).isFalse();
  }

  @Test
  void blocking_onAGivenExecutor_runsThere() throws Exception {
    ExecutorService driver = Executors.newSingleThreadExecutor(r -> new Thread(r, "uart-driver"));
    try {
      Task<String> reader = loop.addTask(() -> Tasko.blocking(driver,
          () -> Thread.currentThread().getName()));
      loop.run();
      assertThat(reader.join()).isEqualTo("uart-driver");
    } finally {
      driver.shutdown();
    }
  }

  @Test
  void blocking_executorRefuses_throws_andTimeStillMoves() {
    loop.addTask("reader", () -> {
      try {
        Tasko.blocking(r -> {
          throw new RejectedExecutionException("pool shut down");
        }, () -> 1);
      } catch (RejectedExecutionException e) {
        log.add("refused");
      }
      Tasko.sleep(Duration.ofSeconds(1));
      log.add("slept@" + now());
    });

    loop.run();

    log.assertTaken("refused", "slept@PT1S");
  }

  @Test
  void withTimeout_aroundBlockingWork_onAManualClock_interruptsAndTimesOut() throws Exception {
    ManualTicker ticker = new ManualTicker();
    Loop manual = Loop.builder().ticker(ticker).build();
    CountDownLatch started = new CountDownLatch(1);
    Task<Void> reader = manual.addTask("reader", () -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(2), () -> Tasko.blocking(() -> {
          try {
            started.countDown();
            new CountDownLatch(1).await();
          } catch (InterruptedException e) {
            log.add("work interrupted");
          }
          return null;
        }));
      } catch (TimeoutException e) {
        log.add("timed out");
      }
    });
    Thread clock = Thread.ofPlatform().start(() -> {
      // The work must have started: a timeout that passes while it is still queued skips it, and
      // then nothing is interrupted.
      try {
        started.await();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      awaitState(reader, Task.State.WAITING);
      ticker.advance(Duration.ofSeconds(2));
    });

    manual.run();

    clock.join();
    log.assertTaken("work interrupted", "timed out");
  }

  @Test
  void waitingTask_toStringSaysBlockingWork() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Task<Void> reader = loop.addTask("reader", () -> {
      Tasko.blocking(() -> {
        release.await();
        return null;
      });
    });
    Thread outside = Thread.ofPlatform().start(() -> {
      awaitState(reader, Task.State.WAITING);
      log.add(reader.toString());
      release.countDown();
    });

    loop.run();

    outside.join();
    log.assertTaken("Task[reader WAITING for blocking work]");
  }

  @Test
  void badInput_clearExceptions() {
    assertThatThrownBy(() -> Tasko.blocking(() -> 1)).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("blocking() must be called from a task of a running loop");
    assertThatThrownBy(() -> Tasko.blocking(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("work == null");
    assertThatThrownBy(() -> Tasko.blocking(null, () -> 1))
        .isInstanceOf(NullPointerException.class).hasMessage("executor == null");
  }
  @Test
  void isRunningBlockingWorkOn_onlyTheTasksOwnWorkWhileItRuns() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor(); // one thread, reused by both works
    try {
      Task<?>[] tasks = new Task<?>[2];
      Thread[] workThread = new Thread[1];
      tasks[0] = loop.addTask("holder", () -> {
        Tasko.blocking(pool, () -> {
          workThread[0] = Thread.currentThread();
          log.add("own work: " + tasks[0].isRunningBlockingWorkOn(Thread.currentThread()));
          log.add("other task: " + tasks[1].isRunningBlockingWorkOn(Thread.currentThread()));
          return null;
        });
        log.add("after its end: " + tasks[0].isRunningBlockingWorkOn(workThread[0]));
        log.add("the task's own thread: "
            + tasks[0].isRunningBlockingWorkOn(Thread.currentThread()));
        Tasko.sleep(Duration.ofSeconds(1)); // let the other task's work run on the same thread
      });
      tasks[1] = loop.addTask("other", () -> {
        Tasko.sleep(Duration.ofMillis(500)); // after the holder's work has ended
        Tasko.blocking(pool, () -> {
          log.add("holder, from other's work on the same thread: "
              + tasks[0].isRunningBlockingWorkOn(Thread.currentThread()));
          return null;
        });
      });

      loop.run();

      log.assertTaken(
          "own work: true",
          "other task: false",
          "after its end: false",
          "the task's own thread: false",
          "holder, from other's work on the same thread: false");
      assertThat(tasks[0].isRunningBlockingWorkOn(null)).isFalse();
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void currentBlockingWorkTask_onlyOnTheThreadOfTheWorkWhileItRuns() {
    Task<?>[] worker = new Task<?>[1];
    worker[0] = loop.addTask("worker", () -> {
      log.add("in the task: " + Tasko.currentBlockingWorkTask());
      Tasko.blocking(() -> {
        log.add("in its work: " + (Tasko.currentBlockingWorkTask() == worker[0])
            + ", currentTask " + Tasko.currentTask());
        return null;
      });
      log.add("after the work: " + Tasko.currentBlockingWorkTask());
    });

    loop.run();

    log.assertTaken(
        "in the task: null",
        "in its work: true, currentTask null",
        "after the work: null");
    assertThat(Tasko.currentBlockingWorkTask()).isNull(); // the test's thread
  }

  @Test
  void currentBlockingWorkTask_inPlaceWorkAfterANestedOneEnds_stillNamesTheTask() {
    // Work run in place runs on the task's thread, which may call blocking() again; the inner
    // work's end must hand the thread back to the outer work, not to no work at all.
    Task<?>[] worker = new Task<?>[1];
    worker[0] = loop.addTask("worker", () -> {
      Tasko.blocking(Runnable::run, () -> {
        Tasko.blocking(Runnable::run, () -> null);
        log.add("outer work after the inner: " + (Tasko.currentBlockingWorkTask() == worker[0]));
        return null;
      });
      log.add("after the work: " + Tasko.currentBlockingWorkTask());
    });

    loop.run();

    log.assertTaken("outer work after the inner: true", "after the work: null");
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void run_fromTheBlockingWorkOfATaskOfThatLoop_refusedAndTheLoopRunsOn() throws Exception {
    Loop real = Loop.create();
    CountDownLatch firstRunReturned = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicReference<Throwable> refused =
        new java.util.concurrent.atomic.AtomicReference<>();
    real.addTask("worker", () -> {
      real.stop(); // run() below returns after this pass, while the work waits
      Tasko.blocking(() -> {
        firstRunReturned.await();
        try {
          real.run(); // nobody drives the loop now
        } catch (IllegalStateException e) {
          refused.set(e);
        }
        return null;
      });
      log.add("worker done");
    });
    real.run();
    firstRunReturned.countDown();

    real.run(); // before: the work's thread had taken the loop and waited in it for ever

    assertThat(refused.get()).hasMessageStartingWith(
        "run() called from the blocking work of task 'worker' of loop '");
    log.assertTaken("worker done");
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void join_ofTheTaskFromItsOwnBlockingWork_refusedAndTheTaskGoesOn() {
    java.util.concurrent.atomic.AtomicReference<Throwable> refused =
        new java.util.concurrent.atomic.AtomicReference<>();
    loop.addTask("reader", () -> {
      Task<?> me = Tasko.currentTask();
      String got = Tasko.blocking(() -> {
        try {
          me.join(); // before: waited for ever for the task, which waits for this work
        } catch (IllegalStateException e) {
          refused.set(e);
        }
        return "read";
      });
      log.add("reader got " + got);
    });

    loop.run();

    assertThat(refused.get()).hasMessage("join() called from the blocking work of task 'reader'"
        + " itself: the task waits for this work to end; return the value from the work, and let"
        + " the task go on with it");
    log.assertTaken("reader got read");
  }

  @Test
  void sleepOrBlocking_fromBlockingWork_refusedWithAdviceThatFits() {
    // From a hostile test: the advice was to run the code in a task, which it already is part of.
    List<String> refusals = new ArrayList<>();
    loop.addTask("reader", () -> Tasko.blocking(() -> {
      for (Runnable call : List.<Runnable>of(() -> Tasko.sleep(Duration.ofMillis(1)),
          () -> Tasko.blocking(() -> 1))) {
        try {
          call.run();
        } catch (IllegalStateException e) {
          refusals.add(e.getMessage().replaceAll("current thread: .*?\\. ", ""));
        }
      }
      return null;
    }));

    loop.run();

    String advice = "This thread runs the blocking work of task 'reader', off the loop: it may"
        + " block as any thread does (Thread.sleep, a plain call where blocking() was meant);"
        + " suspend in the task, once blocking() has returned";
    assertThat(refusals).containsExactly(
        "sleep() must be called from a task of a running loop; " + advice,
        "blocking() must be called from a task of a running loop; " + advice);
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void cancel_workFailsAfterTheInterrupt_failureGoesToTheHandler() {
    // From a hostile test: the task ended cancelled and the work's failure reached no one.
    CountDownLatch started = new CountDownLatch(1);
    Task<Object> reader = loop.addTask("reader", () -> Tasko.blocking(() -> {
      started.countDown();
      try {
        new CountDownLatch(1).await();
      } catch (InterruptedException e) {
        throw new AssertionError("cleanup failed"); // not the interrupt's echo: a failure
      }
      return null;
    }));
    Task<Object> sleeper = loop.addTask("sleeper", () -> Tasko.blocking(() -> {
      started.await();
      new CountDownLatch(1).await(); // the interrupt's echo: nothing to report
      return null;
    }));
    loop.addTask("canceller", () -> {
      Tasko.blocking(() -> {
        started.await();
        return null;
      });
      reader.cancel();
      sleeper.cancel();
    });

    assertThatThrownBy(loop::run).isInstanceOf(TaskFailedException.class)
        .hasMessageContaining("'reader'").cause().hasMessage("cleanup failed");
    assertThat(reader.state()).isEqualTo(Task.State.CANCELLED);
    loop.run(); // the rest ends quietly
    assertThat(sleeper.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void cancel_workJoinedATaskThatFailsMeanwhile_thatFailureGoesToTheHandler() {
    // From a hostile test: the joined task counted on the join to deliver its failure, and the
    // cancelled task's work, which received it, dropped it.
    Event go = Event.create("go");
    Task<Void> sensor = loop.addTask("sensor", () -> {
      go.await();
      throw new IllegalStateException("sensor broke");
    });
    java.util.concurrent.atomic.AtomicReference<Thread> work =
        new java.util.concurrent.atomic.AtomicReference<>();
    Task<Object> reader = loop.addTask("reader", () -> Tasko.blocking(() -> {
      work.set(Thread.currentThread());
      return sensor.join(); // waits on, uninterrupted, after the reader's cancel
    }));
    loop.addTask("canceller", () -> {
      Tasko.blocking(() -> {
        while (work.get() == null || work.get().getState() == Thread.State.RUNNABLE) {
          Thread.onSpinWait(); // until the work waits in join()
        }
        return null;
      });
      reader.cancel();
      go.set();
    });

    assertThatThrownBy(loop::run).isInstanceOf(TaskFailedException.class)
        .hasMessageContaining("'reader'").cause().isInstanceOf(TaskFailedException.class)
        .cause().hasMessage("sensor broke");
    assertThat(reader.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(sensor.state()).isEqualTo(Task.State.FAILED);
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void blocking_executorRunsTheWorkInline_aSleepInItEndsOnVirtualTime() {
    // From a hostile test: the work, counted as blocking work, held the virtual clock still while
    // it slept on it, for ever.
    Task<Integer> t = loop.addTask("t", () -> Tasko.blocking(Runnable::run, () -> {
      Tasko.sleep(Duration.ofSeconds(1));
      return 42;
    }));

    loop.run();

    assertThat(t.join()).isEqualTo(42);
    assertThat(now()).isEqualTo("PT1S");
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void run_joinCycleThroughBlockingWork_throwsDeadlockNamingBoth() {
    // From a hostile test: a task's work joined a task that joined the first; the loop counted
    // the work as a wait another thread could end, and idled for ever.
    Task<?>[] reader = new Task<?>[1];
    Task<Object> logger = loop.addTask("logger", () -> {
      Tasko.yieldNow();
      return reader[0].join();
    });
    reader[0] = loop.addTask("reader", () -> Tasko.blocking(() -> logger.join()));

    assertThatThrownBy(loop::run).isInstanceOf(DeadlockException.class)
        .hasMessageContaining("task 'logger' waits for task 'reader' to finish (join)")
        .hasMessageContaining("task 'reader' waits for blocking work, which waits for task"
            + " 'logger' to finish (join)");

    loop.shutdown(); // the loop stays usable: the cancels end both
    assertThat(logger.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(reader[0].isDone()).isTrue();
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void run_blockingWorkJoinsATaskThatEnds_noDeadlock() {
    Event go = Event.create("go");
    Task<String> sensor = loop.addTask("sensor", () -> {
      go.await();
      return "21.5";
    });
    Task<String> reader = loop.addTask("reader", () -> Tasko.blocking(() -> sensor.join()));
    loop.addTask("starter", () -> {
      Tasko.blocking(() -> {
        while (!reader.toString().contains("which waits for task 'sensor'")) {
          Thread.onSpinWait(); // until the reader's work waits in the join
        }
        return null;
      });
      go.set();
    });

    loop.run();

    assertThat(reader.join()).isEqualTo("21.5");
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void blocking_workJoinsASleepingTaskOnVirtualTime_theClockMovesForIt() {
    // From a hostile review: blocking work held the virtual clock still while it waited for a
    // task that only the clock could wake: the loop idled for ever.
    Task<String> sensor = loop.addTask("sensor", () -> {
      Tasko.sleep(Duration.ofSeconds(1));
      return "21.5";
    });
    Task<String> reader = loop.addTask("reader", () -> Tasko.blocking(() -> sensor.join()));

    loop.run();

    assertThat(reader.join()).isEqualTo("21.5");
    assertThat(now()).isEqualTo("PT1S");
  }

  /**
   * Adds to {@code l} a task "reader" whose blocking work, once interrupted, fails with "cleanup
   * failed", and a task that cancels it once the work has started. Returns the reader.
   */
  private static Task<Object> readerCancelledFailingInItsWorksCleanup(Loop l) {
    CountDownLatch started = new CountDownLatch(1);
    Task<Object> reader = l.addTask("reader", () -> Tasko.blocking(() -> {
      started.countDown();
      try {
        new CountDownLatch(1).await();
      } catch (InterruptedException e) {
        throw new IllegalStateException("cleanup failed"); // not the interrupt's echo: a failure
      }
      return null;
    }));
    l.addTask("canceller", () -> {
      Tasko.blocking(() -> {
        started.await();
        return null;
      });
      reader.cancel();
    });
    return reader;
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void cancel_workFailsAfterTheInterrupt_aHandlerThatSleepsStillEnds() {
    // From a review: the failure was reported while the ended work still counted, holding the
    // virtual clock still for the handler's sleep, for ever.
    List<String> seen = new ArrayList<>();
    Loop sleepyHandler = Loop.builder().virtualTime().failureHandler((task, failure) -> {
      Tasko.sleep(Duration.ofMillis(1)); // a handler may suspend
      seen.add(task.name() + ": " + failure.getMessage());
    }).build();
    Task<Object> reader = readerCancelledFailingInItsWorksCleanup(sleepyHandler);

    sleepyHandler.run();

    assertThat(seen).containsExactly("reader: cleanup failed");
    assertThat(reader.state()).isEqualTo(Task.State.CANCELLED);
  }
}
