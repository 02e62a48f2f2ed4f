package dev.tasko;

import dev.tasko.testsupport.EventLog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class LoopShutdownTest {
  private final EventLog log = new EventLog();
  private final Loop loop = Loop.builder().name("loop").virtualTime().build();

  @Test
  void shutdown_afterRunThrew_parkedHolderReleasesAndCleansUp() {
    // run() ends early because one task failed; another is parked holding the bus.
    ManagedResource<String, String> bus = ManagedResource.of("spi", "spi",
        cs -> log.add(cs + " low"), cs -> log.add(cs + " high"));
    Handle<String> sd = bus.handle("sd");
    Task<Void> holder = loop.addTask("holder", () -> {
      try (Lease<String> lease = sd.acquire()) {
        try {
          Tasko.sleep(Duration.ofHours(1));
        } finally {
          log.add("holder cleans up");
        }
      }
    });
    loop.runLater("failing", Duration.ofMillis(5), () -> {
      throw new IllegalStateException("boom");
    });
    assertThatThrownBy(loop::run).isInstanceOf(TaskFailedException.class);
    log.assertTaken("sd low");

    loop.shutdown();

    log.assertTaken("holder cleans up", "sd high");
    assertThat(holder.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(loop.taskCount()).isZero();
    assertThat(loop.nanoTime()).isEqualTo(Duration.ofMillis(5).toNanos()); // woken, not waited for
  }

  @Test
  // The old code drove the deadlock again and again, for ever; shutdown() keeps an interrupt, so
  // the test runs on a thread of its own, which the timeout abandons.
  @org.junit.jupiter.api.Timeout(value = 30,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void shutdown_handlerWaitsForABusItsGroupOpenerHolds_cancelledAgainAndEnds() {
    // A child fails in its cleanup after the cancel; the handler, its cancellation held back,
    // waits for the bus, which the opener holds while it waits in the group's close().
    ManagedResource<String, String> bus = ManagedResource.of("i2c", "i2c", cs -> {}, cs -> {});
    Loop withHandler = Loop.builder().name("loop").virtualTime().failureHandler((t, f) -> {
      try (Lease<String> l = bus.handle("log").acquire()) {
        log.add("logged " + f.getMessage());
      }
    }).build();
    withHandler.addTask("opener", () -> {
      try (Lease<String> l = bus.handle("ctl").acquire(); TaskGroup g = TaskGroup.open()) {
        g.add("worker", () -> {
          try {
            Tasko.sleep(Duration.ofHours(1));
          } finally {
            throw new IllegalStateException("power-down failed");
          }
        });
        Tasko.sleep(Duration.ofHours(1));
      }
    });
    withHandler.runLater(Duration.ofSeconds(1), withHandler::stop);
    withHandler.run();

    // Cancelled again, the handler's wait throws, carrying the failure it was handling.
    assertThatThrownBy(withHandler::shutdown).isInstanceOf(
        java.util.concurrent.CancellationException.class).satisfies(e ->
            assertThat(e.getSuppressed()).extracting(Throwable::getMessage)
                .contains("power-down failed"));
    assertThat(withHandler.taskCount()).isZero();
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 30,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void shutdown_aSecondDeadlockAfterTheFirstWasBroken_cancelledAgainAndEnds() {
    // Two nested groups, each with a child that failed before the cancel; the handler logs over
    // a bus the outer opener holds, and falls back when cut off. Each cancel ends one handler's
    // wait, and the next group's close() then reports its child under a new hold.
    ManagedResource<String, String> bus = ManagedResource.of("i2c", "i2c", cs -> {}, cs -> {});
    Loop withHandler = Loop.builder().name("loop").virtualTime().failureHandler((t, f) -> {
      try (Lease<String> l = bus.handle("log").acquire()) {
        log.add("logged " + f.getMessage());
      } catch (java.util.concurrent.CancellationException e) {
        log.add("fallback " + f.getMessage());
      }
    }).build();
    withHandler.addTask("opener", () -> {
      try (Lease<String> l = bus.handle("ctl").acquire(); TaskGroup g = TaskGroup.open()) {
        g.add("p", () -> {
          try (TaskGroup g2 = TaskGroup.open()) {
            g2.add("c2", () -> {
              throw new IllegalStateException("c2 failed");
            });
            try (TaskGroup g1 = TaskGroup.open()) {
              g1.add("c1", () -> {
                throw new IllegalStateException("c1 failed");
              });
              Tasko.sleep(Duration.ofHours(1));
            }
          }
        });
        Tasko.sleep(Duration.ofHours(1));
      }
    });
    withHandler.runLater(Duration.ofSeconds(1), withHandler::stop);
    withHandler.run();

    withHandler.shutdown(); // a version that gave up at the second deadlock threw it here

    log.assertTaken("fallback c1 failed", "fallback c2 failed");
    assertThat(withHandler.taskCount()).isZero();
  }

  @Test
  void shutdown_forgottenLease_isReleased() {
    ManagedResource<String, String> bus = ManagedResource.of("spi", "spi",
        cs -> log.add(cs + " low"), cs -> log.add(cs + " high"));
    Handle<String> sd = bus.handle("sd");
    loop.addTask(() -> {
      sd.acquire(); // never closed
      Tasko.sleep(Duration.ofHours(1));
    });
    loop.step();

    loop.shutdown();

    log.assertTaken("sd low", "sd high");
  }

  @Test
  void shutdown_tasksNotStartedAndSchedules_neverRunAgain() {
    Task<Void> added = loop.addTask(() -> log.add("added ran"));
    Task<Void> later = loop.runLater(Duration.ofSeconds(1), () -> log.add("later ran"));
    ScheduledTask poll = loop.schedule(Duration.ofMillis(10), () -> log.add("poll"));

    loop.shutdown();

    log.assertTaken();
    assertThat(added.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(later.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(poll.isScheduled()).isFalse();
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  void shutdown_registeredResources_closedNewestFirstAfterTasksEnded() {
    loop.closeOnShutdown(() -> log.add("first registered closed"));
    loop.closeOnShutdown(() -> log.add("second registered closed"));
    AutoCloseable dropped = () -> log.add("unregistered closed");
    loop.closeOnShutdown(dropped);
    assertThat(loop.cancelCloseOnShutdown(dropped)).isTrue();
    loop.addTask(() -> {
      try {
        Tasko.sleep(Duration.ofHours(1));
      } finally {
        log.add("task cleaned up");
      }
    });
    loop.step();

    loop.shutdown();

    log.assertTaken("task cleaned up", "second registered closed", "first registered closed");
  }

  @Test
  void shutdown_thenNewWork_refusedWithClearMessage() {
    ScheduledTask poll = loop.schedule(Duration.ofMillis(10), () -> {});
    loop.shutdown();

    assertThat(loop.isShutdown()).isTrue();
    assertThatThrownBy(() -> loop.addTask(() -> {})).isInstanceOf(IllegalStateException.class)
        .hasMessage("loop 'loop' is shut down: it takes no new task");
    assertThatThrownBy(() -> loop.runLater(Duration.ZERO, () -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("loop 'loop' is shut down: it takes no new task");
    assertThatThrownBy(() -> loop.schedule(Duration.ofMillis(1), () -> {}))
        .isInstanceOf(IllegalStateException.class).hasMessage("loop 'loop' is shut down: it starts"
            + " no new schedule");
    assertThatThrownBy(poll::start).isInstanceOf(IllegalStateException.class)
        .hasMessage("loop 'loop' is shut down: schedule 'schedule-1' cannot start");
    assertThatThrownBy(() -> loop.closeOnShutdown(() -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("loop 'loop' is shut down: it closes nothing more (closeOnShutdown)");
    assertThat(loop.taskCount()).as("refused work is not counted").isZero();
    loop.run(); // nothing left: returns at once
    assertThat(loop.step()).isFalse();
    loop.shutdown(); // idempotent
  }

  @Test
  void shutdown_fromTask_throwsAndLoopGoesOn() {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    loop.addTask(() -> {
      try {
        loop.shutdown();
      } catch (IllegalStateException e) {
        thrown.set(e);
      }
    });

    loop.run();

    assertThat(thrown.get()).hasMessage("shutdown() called from task 'task-1' of loop 'loop': call"
        + " stop() from a task, and shutdown() once run() has returned");
    assertThat(loop.isShutdown()).isFalse();
  }

  @Test
  void shutdown_cleanupFailsAndCloseThrows_everythingDoneThenFirstFailureThrown() {
    loop.closeOnShutdown(() -> {
      throw new java.io.IOException("port stuck");
    });
    loop.closeOnShutdown(() -> log.add("other closed"));
    loop.addTask("bad", () -> {
      try {
        Tasko.sleep(Duration.ofHours(1));
      } finally {
        throw new IllegalStateException("cleanup failed");
      }
    });
    loop.addTask("good", () -> {
      try {
        Tasko.sleep(Duration.ofHours(1));
      } finally {
        log.add("good cleaned up");
      }
    });
    loop.step();

    assertThatThrownBy(loop::shutdown).isInstanceOf(TaskFailedException.class)
        .hasRootCauseMessage("cleanup failed")
        .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
            .satisfies(s -> assertThat(s).hasMessageStartingWith("shutdown(): closing ")
                .hasRootCauseMessage("port stuck")));
    log.assertTaken("good cleaned up", "other closed");
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  void shutdown_twoClosesThrowTheSameException_everyResourceClosedAndItThrownOnce() {
    // A library that keeps one exception for "device gone" throws that same object each time.
    IllegalStateException gone = new IllegalStateException("device gone");
    loop.closeOnShutdown(() -> log.add("first registered closed"));
    loop.closeOnShutdown(() -> {
      log.add("second registered closed");
      throw gone;
    });
    loop.closeOnShutdown(() -> {
      log.add("third registered closed");
      throw gone;
    });

    assertThatThrownBy(loop::shutdown).isSameAs(gone);
    log.assertTaken("third registered closed", "second registered closed",
        "first registered closed");
    assertThat(gone.getSuppressed()).isEmpty();
  }

  @Test
  void shutdown_twoCleanupsThrowTheSameExceptionThroughHandler_allDrivenAndClosed() {
    IllegalStateException gone = new IllegalStateException("device gone");
    Loop rethrowing = Loop.builder().name("rethrowing").virtualTime()
        .failureHandler((task, failure) -> {
          throw failure instanceof RuntimeException r ? r : new IllegalStateException(failure);
        })
        .build();
    for (String name : List.of("a", "b", "c")) {
      rethrowing.addTask(name, () -> {
        try {
          Tasko.sleep(Duration.ofHours(1));
        } finally {
          log.add(name + " cleans up");
          if (!name.equals("c")) {
            throw gone;
          }
        }
      });
    }
    rethrowing.closeOnShutdown(() -> log.add("closed"));
    rethrowing.step();

    assertThatThrownBy(rethrowing::shutdown).isSameAs(gone);
    log.assertTaken("a cleans up", "b cleans up", "c cleans up", "closed");
    assertThat(rethrowing.taskCount()).isZero();
  }

  @Test
  void shutdown_firstFailureWithoutSuppression_laterFailureLogged() {
    // Made without suppression (as some libraries make exceptions for speed): what shutdown()
    // would add to it is dropped, so it is logged instead of lost.
    RuntimeException bare = new RuntimeException("bus stuck", null, false, false) { };
    loop.closeOnShutdown(() -> {
      throw new IllegalStateException("port stuck");
    });
    loop.closeOnShutdown(() -> {
      throw bare;
    });

    List<Throwable> logged = new CopyOnWriteArrayList<>();
    try (LogCapture logs = new LogCapture(Level.WARNING, r -> logged.add(r.getThrown()))) {
      assertThatThrownBy(loop::shutdown).isSameAs(bare);
      assertThat(logs.messages(Level.WARNING)).singleElement().asString()
          .contains("loop 'loop'", "shutdown()");
    }
    assertThat(logged).singleElement().satisfies(t -> assertThat(t).hasMessage("port stuck"));
  }

  @Test
  void shutdown_closeableWhoseToStringThrows_everyResourceClosed() {
    loop.closeOnShutdown(() -> log.add("older closed"));
    loop.closeOnShutdown(new AutoCloseable() {
      @Override
      public void close() throws Exception {
        log.add("unprintable closed");
        throw new java.io.IOException("close failed");
      }

      @Override
      public String toString() {
        throw new IllegalStateException("no toString today");
      }
    });

    // Before: naming it in the message threw, and the older one was never closed.
    assertThatThrownBy(loop::shutdown).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("its toString() threw").hasRootCauseMessage("close failed");
    log.assertTaken("unprintable closed", "older closed");
  }

  @Test
  void shutdown_cleanupAddsTask_refusedAndShutdownCompletes() {
    AtomicReference<Throwable> refused = new AtomicReference<>();
    loop.addTask("worker", () -> {
      try {
        Tasko.sleep(Duration.ofHours(1));
      } finally {
        try {
          loop.addTask(() -> log.add("must not run"));
        } catch (IllegalStateException e) {
          refused.set(e);
        }
      }
    });
    loop.step();

    loop.shutdown();

    assertThat(refused.get()).hasMessage("loop 'loop' is shut down: it takes no new task");
    log.assertTaken();
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  void shutdown_scheduleCancelledMidRunHoldingLease_leaseReleased() {
    ManagedResource<String, String> bus = ManagedResource.of("spi", "spi",
        cs -> log.add(cs + " low"), cs -> log.add(cs + " high"));
    Handle<String> sensor = bus.handle("sensor");
    loop.schedule("poll", Duration.ofMillis(10), () -> {
      try (Lease<String> lease = sensor.acquire()) {
        Tasko.sleep(Duration.ofMillis(5)); // the run is suspended here when the loop shuts down
      }
    });
    loop.step();

    loop.shutdown();

    log.assertTaken("sensor low", "sensor high");
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  @Tag("realtime") // blocking work on a real thread
  @Timeout(60) // a hang fails instead of holding up the build
  void shutdown_whileBlockingWorkRuns_waitsForItWithoutSpinning() throws Exception {
    Loop real = Loop.create();
    CountDownLatch working = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    real.addTask("reader", () -> {
      try {
        Tasko.blocking(() -> {
          working.countDown();
          for (;;) { // work that ignores the cancel's interrupt
            try {
              release.await();
              return null;
            } catch (InterruptedException e) {
              // ignored on purpose
            }
          }
        });
      } finally {
        log.add("reader cleans up");
      }
    });
    real.step(); // the work is handed to its thread
    working.await();
    long passesBefore = real.stats().passes();
    Thread releaser = Thread.ofPlatform().start(() -> {
      // The work ends once the shutdown waits for it idling, as run() does, or once it has spun
      // through a hundred thousand passes instead.
      while (real.stats().idleTime().isZero()
          && real.stats().passes() - passesBefore < 100_000) {
        Thread.onSpinWait();
      }
      release.countDown();
    });

    real.shutdown();

    releaser.join();
    log.assertTaken("reader cleans up");
    // Waiting for the work is idling: a few passes, where a shutdown that polled spun through
    // hundreds of thousands.
    assertThat(real.stats().passes() - passesBefore).isLessThan(100);
  }

  // ---- A second shutdown(), shutdown() from blocking work, a group's child during shutdown ----

  @Test
  @Tag("realtime") // blocking work and two shutdown() calls on real threads
  @Timeout(60) // a hang fails instead of holding up the build
  void shutdown_secondCallWhileTheFirstDrivesTheCleanup_returnsAtOnce_awaitShutdownWaits()
      throws Exception {
    // From a hostile test: the second call (a shutdown hook's, say) threw "is driven by".
    Loop real = Loop.create();
    CountDownLatch working = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean cleanedUp = new AtomicBoolean();
    real.addTask("reader", () -> {
      try {
        Tasko.blocking(() -> {
          working.countDown();
          for (;;) { // work that takes a while to stop once interrupted
            try {
              release.await();
              return null;
            } catch (InterruptedException e) {
              interrupted.countDown();
            }
          }
        });
      } finally {
        cleanedUp.set(true);
      }
    });
    real.step(); // the work is handed to its thread
    // Once it runs: a work still queued when its task is cancelled is skipped, never interrupted.
    working.await();
    Thread first = Thread.ofPlatform().start(real::shutdown);
    interrupted.await(); // the first shutdown drives the cancelled task

    real.shutdown(); // returns at once: waiting could wait for a thread the cleanup waits for
    assertThat(real.awaitShutdown(Duration.ZERO)).isFalse();
    release.countDown();

    assertThat(real.awaitShutdown(Duration.ofMinutes(1))).isTrue();
    assertThat(cleanedUp).isTrue();
    first.join();
  }

  @Test
  @Tag("realtime") // a thread that calls shutdown() while the cleanup waits for it
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a deadlock fails
  void shutdown_cleanupWaitsForAThreadThatCallsShutdown_bothReturn() throws Exception {
    // From a review: a failure handler that calls System.exit, whose hook calls shutdown(),
    // while the cleanup waits for the hook. A second call that waited for the first never ended.
    AtomicReference<String> hook = new AtomicReference<>();
    loop.addTask("app", () -> {
      try {
        Tasko.sleep(Duration.ofHours(1));
      } finally {
        Thread t = Thread.ofPlatform().start(() -> {
          loop.shutdown();
          hook.set("returned");
        });
        t.join(); // System.exit waits for its hooks
      }
    });
    loop.step();

    loop.shutdown();

    assertThat(hook.get()).isEqualTo("returned");
  }

  @Test
  void awaitShutdown_fromATask_throwsNamingIt() {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    loop.addTask("t", () -> {
      try {
        loop.awaitShutdown(Duration.ofSeconds(1));
      } catch (IllegalStateException e) {
        thrown.set(e);
      }
    });
    loop.run();

    assertThat(thrown.get()).hasMessageStartingWith("awaitShutdown() called from task 't' of loop"
        + " 'loop'");
    assertThatThrownBy(() -> loop.awaitShutdown(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT-1S");
  }

  @Test
  void shutdown_fromARegisteredResourcesClose_returnsAtOnce() {
    loop.closeOnShutdown(() -> {
      loop.shutdown(); // the shutdown's own thread: no wait for itself
      log.add("closed");
    });

    loop.shutdown();

    log.assertTaken("closed");
  }

  @Test
  @Tag("realtime") // blocking work on a real thread
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hang fails
  void shutdown_fromItsTasksBlockingWork_throwsInsteadOfWaitingForEver() throws Exception {
    // From a hostile test: with run() returned, the shutdown waited for the task, which waited
    // for the work that called it, for ever.
    Loop real = Loop.create();
    CountDownLatch inWork = new CountDownLatch(1);
    CountDownLatch runReturned = new CountDownLatch(1);
    CountDownLatch workDone = new CountDownLatch(1);
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    real.addTask("io", () -> Tasko.blocking(() -> {
      inWork.countDown();
      runReturned.await();
      try {
        real.shutdown(); // a fatal I/O error, say
      } catch (IllegalStateException e) {
        thrown.set(e);
      } finally {
        workDone.countDown();
      }
      return null;
    }));
    real.addTask("stopper", () -> {
      Tasko.blocking(() -> {
        inWork.await();
        return null;
      });
      real.stop();
    });
    real.run(); // stopped while the work runs
    runReturned.countDown();
    workDone.await();

    assertThat(thrown.get()).hasMessageStartingWith("shutdown() called from the blocking work of "
        + "task 'io' of loop '" + real.name() + "'");
    assertThat(real.isShutdown()).isFalse();
    real.shutdown(); // from outside, once run() has returned
    assertThat(real.isShutdown()).isTrue();
  }

  @Test
  @Tag("realtime") // blocking work on a real thread
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hang fails
  void shutdown_fromBlockingWorkWhileAShutdownIsUnderWay_returnsAtOnce() throws Exception {
    Loop real = Loop.create();
    CountDownLatch working = new CountDownLatch(1);
    AtomicReference<Object> second = new AtomicReference<>();
    real.addTask("io", () -> Tasko.blocking(() -> {
      working.countDown();
      try {
        new CountDownLatch(1).await(); // a blocking call the shutdown's interrupt ends
      } catch (InterruptedException e) {
        try {
          real.shutdown(); // under way already: nothing to wait for
          second.set("returned");
        } catch (Throwable t) {
          second.set(t);
        }
      }
      return null;
    }));
    real.step(); // the work is handed to its thread
    working.await();

    real.shutdown();

    assertThat(second.get()).isEqualTo("returned");
  }

  @Test
  void shutdown_cleanupOpensATaskGroup_addRefusedAndNothingRunsUncancelled() {
    // From a hostile test: a child added during shutdown was never cancelled and ran for hours.
    AtomicReference<Throwable> refused = new AtomicReference<>();
    loop.addTask("owner", () -> {
      try {
        Tasko.sleep(Duration.ofHours(1));
      } finally {
        try (TaskGroup g = TaskGroup.open("cleanup")) {
          g.add("child", () -> {
            log.add("child ran");
            Tasko.sleep(Duration.ofHours(5));
          });
        } catch (IllegalStateException e) {
          refused.set(e);
        }
      }
    });
    loop.step();

    loop.shutdown();

    assertThat(refused.get()).hasMessage("loop 'loop' is shut down: it takes no new task "
        + "(add(\"child\") to task group 'cleanup' (0 children running))");
    assertThat(loop.nanoTime()).isZero();
    log.assertTaken();
  }

  // ---- The caller's interrupt and the registered resources ----

  @Test
  void shutdown_callerInterrupted_resourcesCloseUninterruptedAndFlagSetAfter() {
    // From a hostile test: the interrupt, kept for after the tasks' cleanup, was put back before
    // the resources were closed; a close() that waits (here for a flush already done) threw, and
    // the interrupt it used up was gone when shutdown() returned.
    CountDownLatch flushed = new CountDownLatch(0);
    loop.closeOnShutdown(() -> {
      flushed.await();
      log.add("log file closed");
    });
    Thread.currentThread().interrupt();
    boolean interruptedAfter;
    try {
      loop.shutdown();
    } finally {
      interruptedAfter = Thread.interrupted(); // cleared, so as not to leak into other tests
    }

    log.assertTaken("log file closed");
    assertThat(interruptedAfter).isTrue();
  }

  @Test
  void shutdown_closeThrowsInterruptedException_rethrownWrappedWithTheFlagSet() {
    loop.closeOnShutdown(() -> {
      throw new InterruptedException("flush interrupted");
    });

    boolean interruptedAfter;
    try {
      assertThatThrownBy(loop::shutdown).isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("shutdown(): closing ")
          .hasCauseInstanceOf(InterruptedException.class);
    } finally {
      interruptedAfter = Thread.interrupted();
    }

    assertThat(interruptedAfter).isTrue(); // the interrupt the exception stood for is not lost
  }

  @Test
  void cancelCloseOnShutdown_fromANewerResourcesClose_olderOneClosedOnce() {
    // From a hostile test: the shutdown had taken every registration off before the first close,
    // so the take-back returned false, and the sensor was closed a second time, after its device.
    AutoCloseable sensor = () -> log.add("sensor closed");
    loop.closeOnShutdown(sensor);
    loop.closeOnShutdown(() -> { // a device that closes its sensor itself, and says so
      sensor.close();
      log.add("taken back: " + loop.cancelCloseOnShutdown(sensor));
    });

    loop.shutdown();

    log.assertTaken("sensor closed", "taken back: true");
  }

  @Test
  void shutdown_fromATaskOfAnotherLoop_throwsNamingBothLoopsAndTheWayThatWorks() {
    // From a hostile test: the refusal named only the caller's loop and told it to call stop()
    // and shut down once run() had returned, which never works from a task: this loop had
    // returned from run() already.
    loop.addTask("motor", () -> Tasko.sleep(Duration.ofHours(1)));
    loop.step();
    Loop supervisor = Loop.builder().name("supervisor").virtualTime().build();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    supervisor.addTask("watchdog", () -> {
      try {
        loop.shutdown();
      } catch (IllegalStateException e) {
        thrown.set(e);
      }
      Tasko.blocking(() -> { // the way the message gives
        loop.shutdown();
        return null;
      });
    });

    supervisor.run();

    assertThat(thrown.get()).hasMessage("shutdown() of loop 'loop' called from task 'watchdog' "
        + "of loop 'supervisor': a task must never drive a loop; shut it down from the task's "
        + "blocking work (Tasko.blocking(() -> { loop.shutdown(); return null; })) or another "
        + "thread");
    assertThat(loop.isShutdown()).isTrue();
    assertThat(loop.taskCount()).isZero();
  }
}
