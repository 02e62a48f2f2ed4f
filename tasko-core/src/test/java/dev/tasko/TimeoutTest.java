package dev.tasko;

import dev.tasko.testsupport.EventLog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;

/** Tasko.withTimeout: deadlines of their own, nested, told apart from an outside cancel. */
class TimeoutTest {
  private final Loop loop = Loop.builder().virtualTime().build();
  private final EventLog log = new EventLog();

  private String now() {
    return Duration.ofNanos(loop.nanoTime()).toString();
  }

  /**
   * {@code depth} timeouts of an hour, one inside the other, around a long sleep; each level's
   * cleanup suspends (a device put back in a safe state), and so meets the cancellation again.
   */
  private void nestedWithCleanup(int depth) throws Exception {
    if (depth == 0) {
      Tasko.sleep(Duration.ofHours(2));
      return;
    }
    Tasko.withTimeout(Duration.ofHours(1), () -> {
      try {
        nestedWithCleanup(depth - 1);
      } finally {
        log.add("cleanup " + depth + "@" + now());
        Tasko.yieldNow(); // throws the pending cancellation again
      }
      return null;
    });
  }

  @Test
  void withTimeout_expires_causePrintedAsACancellationException() {
    // The cause printed as dev.tasko.CancelScope$Cancelled, a class no user can catch or look up.
    Task<TimeoutException> t = loop.addTask(() -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> Tasko.sleep(Duration.ofSeconds(2)));
        return null;
      } catch (TimeoutException e) {
        return e;
      }
    });

    loop.run();

    java.io.StringWriter trace = new java.io.StringWriter();
    t.join().printStackTrace(new java.io.PrintWriter(trace));
    assertThat(trace.toString()).contains("Caused by: java.util.concurrent.CancellationException:"
        + " task '" + t.name() + "': timeout of PT1S passed")
        .doesNotContain("CancelScope$Cancelled");
  }

  @Test
  void withTimeout_fiveNestedOuterExpires_cleanupsMeetItAgainWithoutSwallowWarning() {
    loop.addTask("owner", () -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> {
          nestedWithCleanup(5);
          return null;
        });
      } catch (TimeoutException e) {
        log.add("timed out@" + now());
      }
    });

    try (LogCapture logs = new LogCapture(java.util.logging.Level.WARNING, r -> {})) {
      loop.run();

      assertThat(logs.messages(java.util.logging.Level.WARNING)).isEmpty();
    }
    log.assertTaken("cleanup 1@PT1S", "cleanup 2@PT1S", "cleanup 3@PT1S", "cleanup 4@PT1S",
        "cleanup 5@PT1S", "timed out@PT1S");
  }

  @Test
  void withTimeout_manyHandledTimeoutsInARow_noWaitBeforeTheNext() {
    // Each expiry is thrown into the task and caught by withTimeout: a handled outcome, not a
    // swallowed cancellation, so no later one waits before it is thrown.
    Task<Integer> t = loop.addTask(() -> {
      int timedOut = 0;
      for (int i = 0; i < 8; i++) {
        try {
          Tasko.withTimeout(Duration.ofMillis(10), () -> Tasko.sleep(Duration.ofSeconds(1)));
        } catch (TimeoutException e) {
          timedOut++;
        }
      }
      return timedOut;
    });

    loop.run();

    assertThat(t.join()).isEqualTo(8);
    assertThat(now()).isEqualTo("PT0.08S");
  }

  @Test
  void withTimeout_timeoutsThrownTwiceEachOnTheWayOut_noWaitBeforeTheNextAndNoWarning() {
    // A task group closed on the way out meets the expiry again: two deliveries per timeout, all
    // of them handled by the withTimeout that catches its own.
    try (LogCapture warnings = new LogCapture(java.util.logging.Level.WARNING, r -> {})) {
      Task<Integer> t = loop.addTask(() -> {
        int timedOut = 0;
        for (int i = 0; i < 8; i++) {
          try {
            Tasko.withTimeout(Duration.ofMillis(10), () -> {
              try (TaskGroup reads = TaskGroup.open("reads")) {
                reads.add("slow", () -> Tasko.sleep(Duration.ofSeconds(1)));
                Tasko.sleep(Duration.ofSeconds(1));
              }
            });
          } catch (TimeoutException e) {
            timedOut++;
          }
        }
        return timedOut;
      });

      loop.run();

      assertThat(t.join()).isEqualTo(8);
      assertThat(now()).isEqualTo("PT0.08S");
      assertThat(warnings.messages(java.util.logging.Level.WARNING)).isEmpty();
    }
  }

  @Test
  void withTimeout_bodyCatchesItsTimeoutAndReturns_noWaitBeforeTheNextNorBeforeACancel() {
    Task<Void> t = loop.addTask(() -> {
      for (int i = 0; i < 16; i++) {
        int r = Tasko.withTimeout(Duration.ofMillis(10), () -> {
          try {
            Tasko.sleep(Duration.ofSeconds(1));
            return 1;
          } catch (CancellationException e) {
            return -1; // allowed: withTimeout returns the body's value
          }
        });
        log.add(r + "@" + now());
      }
      Tasko.sleep(Duration.ofSeconds(1)); // then a real cancel, which must take effect at once
    });
    loop.runLater(Duration.ofMillis(200), t::cancel);

    loop.run();

    assertThat(log.take()).hasSize(16).last().isEqualTo("-1@PT0.16S");
    assertThat(t.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(now()).isEqualTo("PT0.2S");
  }

  @Test
  void withTimeout_bodySwallowsItsTimeoutOverAndOver_namedInAWarningAndTheLoopStops() {
    // Inside the scope, a timeout caught and met again and again is a swallowed cancellation,
    // as an outside cancel would be: thrown again after a growing wait, with a warning.
    try (LogCapture warnings = new LogCapture(java.util.logging.Level.WARNING, r -> {})) {
      int[] swallowed = {0};
      loop.addTask("swallower", () -> Tasko.withTimeout(Duration.ofMillis(10), () -> {
        for (int i = 0; i < 1_000; i++) {
          try {
            Tasko.sleep(Duration.ofSeconds(1));
          } catch (CancellationException e) {
            swallowed[0]++;
          }
        }
        return null;
      }));
      loop.runLater(Duration.ofSeconds(2), loop::stop);

      loop.run(); // returns: the swallower waits longer and longer, and stop() works

      assertThat(warnings.messages(java.util.logging.Level.WARNING))
          .filteredOn(m -> m.contains("'swallower'") && m.contains("swallowed the"))
          .hasSize(1);
      assertThat(swallowed[0]).isBetween(4, 20); // three at once, then 1 ms, 2 ms, 4 ms, ...
    }
  }

  @Test
  void withTimeout_innerScopesSwallowAnExpiredOuterOne_stillMeetTheBackOff() {
    // Each inner withTimeout that the outer expiry passes through is left, but the expiry is the
    // outer scope's, still pending: leaving the inner scope must not take its deliveries back.
    try (LogCapture warnings = new LogCapture(java.util.logging.Level.WARNING, r -> {})) {
      int[] swallowed = {0};
      loop.addTask("swallower", () -> Tasko.withTimeout(Duration.ofMillis(50), () -> {
        for (int i = 0; i < 1_000; i++) {
          try {
            Tasko.withTimeout(Duration.ofMillis(100), () -> Tasko.sleep(Duration.ofMillis(10)));
          } catch (RuntimeException e) {
            swallowed[0]++; // the outer expiry too, on purpose
          }
        }
        return null;
      }));
      loop.runLater(Duration.ofSeconds(2), loop::stop);

      loop.run();

      assertThat(warnings.messages(java.util.logging.Level.WARNING))
          .filteredOn(m -> m.contains("'swallower'") && m.contains("swallowed the"))
          .hasSize(1);
      assertThat(swallowed[0]).isBetween(4, 40); // not the thousand of a task never held back
    }
  }

  @Test
  void withTimeout_bodyFinishesInTime_returnsItsValueAndLeavesNoTimer() {
    Task<Integer> t = loop.addTask(() -> Tasko.withTimeout(Duration.ofHours(1), () -> {
      Tasko.sleep(Duration.ofSeconds(1));
      return 42;
    }));

    loop.run();

    assertThat(t.join()).isEqualTo(42);
    // A timer left behind would have made the loop jump its clock to the hour before ending.
    assertThat(now()).isEqualTo("PT1S");
  }

  @Test
  void withTimeout_manySleepsWithinTheTimeout_sleepTimerAndTimeoutAreIndependent() {
    loop.addTask(() -> Tasko.withTimeout(Duration.ofSeconds(5), () -> {
      for (int i = 0; i < 4; i++) {
        Tasko.sleep(Duration.ofSeconds(1));
        log.add("tick@" + now());
      }
    }));

    loop.run();

    log.assertTaken("tick@PT1S", "tick@PT2S", "tick@PT3S", "tick@PT4S");
  }

  @Test
  void withTimeout_bodySleepsTooLong_sleepThrowsAtTheDeadline_finallyRuns_timeoutException() {
    loop.addTask(() -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(2), () -> {
          try {
            Tasko.sleep(Duration.ofSeconds(10));
            log.add("woke");
          } catch (CancellationException e) {
            log.add("sleep threw " + e.getClass().getSuperclass().getSimpleName() + "@" + now());
            throw e;
          } finally {
            log.add("finally@" + now());
          }
        });
      } catch (TimeoutException e) {
        log.add("timed out after " + e.timeout() + "@" + now());
      }
    });

    loop.run();

    log.assertTaken("sleep threw CancellationException@PT2S", "finally@PT2S",
        "timed out after PT2S@PT2S");
  }

  @Test
  void withTimeout_timeoutException_isNotACancellation_andTheTaskFails() {
    Task<Void> t = loop.addTask("reader", () -> Tasko.withTimeout(Duration.ofSeconds(1),
        () -> Tasko.sleep(Duration.ofSeconds(5))));
    Loop lenient = loop; // the default handler stops run() with the failure
    assertThatThrownBy(lenient::run).isInstanceOf(TaskFailedException.class)
        .cause().isInstanceOf(TimeoutException.class)
        .isNotInstanceOf(CancellationException.class)
        .hasMessage("task 'reader' timed out after PT1S");
    assertThat(t.state()).isEqualTo(Task.State.FAILED);
    assertThat(t.isCancelled()).isFalse();
  }

  @Test
  void withTimeout_innerExpires_onlyInnerThrowsTimeout_outerBodyGoesOn() {
    Task<String> t = loop.addTask(() -> Tasko.withTimeout(Duration.ofSeconds(10), () -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> Tasko.sleep(Duration.ofSeconds(5)));
      } catch (TimeoutException e) {
        log.add("inner timed out@" + now());
      }
      Tasko.sleep(Duration.ofSeconds(2)); // the outer scope is still good
      return "outer done@" + now();
    }));

    loop.run();

    log.assertTaken("inner timed out@PT1S");
    assertThat(t.join()).isEqualTo("outer done@PT3S");
  }

  @Test
  void withTimeout_outerExpires_innerLetsItThrough_onlyOuterThrowsTimeout() {
    loop.addTask(() -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> {
          try {
            Tasko.withTimeout(Duration.ofSeconds(10), () -> Tasko.sleep(Duration.ofSeconds(5)));
            log.add("inner returned");
          } catch (TimeoutException e) {
            log.add("inner threw TimeoutException");
          } catch (CancellationException e) {
            log.add("inner passed the cancellation on@" + now());
            throw e;
          }
        });
      } catch (TimeoutException e) {
        log.add("outer timed out after " + e.timeout());
      }
    });

    loop.run();

    log.assertTaken("inner passed the cancellation on@PT1S", "outer timed out after PT1S");
  }

  @Test
  void withTimeout_bothExpireAtOnce_theOuterWins() {
    loop.addTask(() -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> {
          try {
            Tasko.withTimeout(Duration.ofSeconds(1), () -> Tasko.sleep(Duration.ofSeconds(5)));
          } catch (TimeoutException e) {
            log.add("inner threw TimeoutException");
          }
          Tasko.sleep(Duration.ofSeconds(5));
          log.add("outer body went on");
        });
      } catch (TimeoutException e) {
        log.add("outer timed out@" + now());
      }
    });

    loop.run();

    log.assertTaken("outer timed out@PT1S");
  }

  @Test
  void withTimeout_taskCancelledFromOutside_staysACancellation() {
    Task<Void> victim = loop.addTask("victim", () -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(5), () -> Tasko.sleep(Duration.ofSeconds(10)));
      } catch (TimeoutException e) {
        log.add("TimeoutException");
      } catch (CancellationException e) {
        log.add("CancellationException@" + now());
        throw e;
      }
    });
    loop.runLater(Duration.ofSeconds(1), victim::cancel);

    loop.run();

    log.assertTaken("CancellationException@PT1S");
    assertThat(victim.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void withTimeout_cancelledWhileUnwindingFromTheTimeout_theCancelWins() {
    Task<?>[] self = new Task<?>[1];
    Task<Void> victim = loop.addTask("victim", () -> {
      self[0] = Tasko.currentTask();
      Tasko.withTimeout(Duration.ofSeconds(1), () -> {
        try {
          Tasko.sleep(Duration.ofSeconds(10));
        } finally {
          self[0].cancel(); // as if another task cancelled it while it unwinds
        }
      });
    });

    loop.run();

    assertThat(victim.state()).isEqualTo(Task.State.CANCELLED);
    assertThatThrownBy(victim::join).isExactlyInstanceOf(CancellationException.class);
  }

  @Test
  void withTimeout_bodyThrows_passesThroughUnchanged_checkedOnesWrapped() {
    IllegalStateException boom = new IllegalStateException("boom");
    loop.addTask(() -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> {
          throw boom;
        });
      } catch (IllegalStateException e) {
        log.add("same exception: " + (e == boom));
      }
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> {
          throw new IOException("no sensor");
        });
      } catch (TaskFailedException e) {
        log.add("wrapped: " + e.getCause());
      }
    });

    loop.run();

    log.assertTaken("same exception: true", "wrapped: java.io.IOException: no sensor");
  }

  @Test
  void withTimeout_bodyCatchesTheExpiryAndReturns_valueIsReturned() {
    Task<String> t = loop.addTask(() -> Tasko.withTimeout(Duration.ofSeconds(1), () -> {
      try {
        Tasko.sleep(Duration.ofSeconds(5));
        return "slept";
      } catch (CancellationException e) {
        return "gave up@" + now();
      }
    }));

    loop.run();

    assertThat(t.join()).isEqualTo("gave up@PT1S");
  }

  @Test
  void withTimeout_zero_expiresAtTheFirstSuspensionPoint_bodyWithoutOneCompletes() {
    Task<String> quick = loop.addTask(() -> Tasko.withTimeout(Duration.ZERO, () -> "no wait"));
    Task<Void> slow = loop.addTask(() -> {
      try {
        Tasko.withTimeout(Duration.ZERO, () -> Tasko.yieldNow());
        log.add("yielded");
      } catch (TimeoutException e) {
        log.add("timed out@" + now());
      }
    });

    loop.run();

    assertThat(quick.join()).isEqualTo("no wait");
    log.assertTaken("timed out@PT0S");
    assertThat(slow.state()).isEqualTo(Task.State.SUCCEEDED);
  }

  @Test
  void withTimeout_zero_clockMovedSinceThePassReadIt_expiresAtTheFirstSuspensionPoint() {
    ManualTicker clock = new ManualTicker();
    Loop manual = Loop.builder().name("manual").ticker(clock).build();
    manual.addTask("sleeper", () -> {
      Tasko.sleep(Duration.ofMillis(1)); // woken in the timer phase of a pass, which read the time
      clock.advance(Duration.ofNanos(1)); // as a real clock moves on while the task runs
      try {
        Tasko.withTimeout(Duration.ZERO, () -> {
          Tasko.yieldNow();
          log.add("passed a suspension point");
        });
      } catch (TimeoutException e) {
        log.add("timed out");
      }
    });
    manual.addTask("clock", () -> clock.advance(Duration.ofMillis(1)));

    manual.run();

    // Before: the timeout was a timer at the time read in the body, later than the pass's, so the
    // yield came back first and only the second suspension point would have thrown.
    log.assertTaken("timed out");
  }

  @Test
  void withTimeout_expiresWhileAwaitingASuspension_waitEnds_lateResumeIsRefused() {
    Suspension[] s = new Suspension[1];
    loop.addTask(() -> {
      s[0] = Tasko.suspend("a reply");
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> s[0].await());
      } catch (TimeoutException e) {
        log.add("timed out@" + now());
      }
    });
    loop.runLater(Duration.ofSeconds(2), () -> log.add("late resume: " + s[0].resume()));

    loop.run();

    log.assertTaken("timed out@PT1S", "late resume: false");
  }

  @Test
  void withTimeout_expiresWhileWaitingForAResource_leavesTheQueue_nextWaiterServed() {
    ManagedResource<String, Object> bus = ManagedResource.of("bus");
    Handle<String> h = bus.handle(null);
    loop.addTask("holder", () -> {
      try (Lease<String> l = h.acquire()) {
        Tasko.sleep(Duration.ofSeconds(3));
      }
    });
    loop.addTask("impatient", () -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> h.acquire().close());
      } catch (TimeoutException e) {
        log.add("impatient gave up@" + now());
      }
    });
    loop.addTask("patient", () -> {
      try (Lease<String> l = h.acquire()) {
        log.add("patient got it@" + now());
      }
    });

    loop.run();

    log.assertTaken("impatient gave up@PT1S", "patient got it@PT3S");
  }

  @Test
  void withTimeout_aroundJoin_timesOut_theJoinedTaskGoesOn() {
    Task<String> worker = loop.addTask("worker", () -> {
      Tasko.sleep(Duration.ofSeconds(5));
      return "done@" + now();
    });
    loop.addTask(() -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), worker::join);
      } catch (TimeoutException e) {
        log.add("join timed out@" + now());
      }
    });

    loop.run();

    log.assertTaken("join timed out@PT1S");
    assertThat(worker.join()).isEqualTo("done@PT5S");
  }

  @Test
  void withTimeout_badInput_clearExceptions() {
    loop.addTask(() -> {
      assertThatThrownBy(() -> Tasko.withTimeout(null, () -> 1))
          .isInstanceOf(NullPointerException.class).hasMessageContaining("timeout");
      assertThatThrownBy(() -> Tasko.withTimeout(Duration.ofSeconds(-1), () -> 1))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("timeout < 0: PT-1S");
      assertThatThrownBy(() -> Tasko.withTimeout(Duration.ofSeconds(1), (TaskBody) null))
          .isInstanceOf(NullPointerException.class).hasMessage("body == null");
      log.add("checked");
    });
    loop.run();
    log.assertTaken("checked");

    assertThatThrownBy(() -> Tasko.withTimeout(Duration.ofSeconds(1), () -> 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("withTimeout() must be called from a task of a running loop")
        .hasMessageEndingWith(". Run the code in a task (loop.addTask), or later on the loop "
            + "(loop.runLater)");
  }

  @Test
  void withTimeout_longerThanALongOfNanoseconds_neverPasses() {
    loop.addTask(() -> log.add(Tasko.withTimeout(ChronoUnit.FOREVER.getDuration(), () -> {
      Tasko.sleep(Duration.ofDays(365L * 200));
      return "returned";
    })));

    loop.run();

    log.assertTaken("returned");
  }
}
