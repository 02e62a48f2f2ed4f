package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tasko.testsupport.EventLog;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults an ordinary program reaches — a restored interrupt, a swallowed cancellation, a deep
 * recursion, an Error in a callback, a failure handler that suspends — and what the loop does
 * with each: it neither hangs, nor spins a core, nor loses a failure. One test per fault found,
 * each of which hung or misbehaved before the fix.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LoopFaultTest {
  private final EventLog log = new EventLog();

  private static Loop virtualLoop(FailureHandler handler) {
    return Loop.builder().name("fault").virtualTime().failureHandler(handler).build();
  }

  // ---- A task's own interrupt flag ----

  @Test
  void await_interruptFlagSet_parksWithoutSpinningAndKeepsTheFlag() throws Exception {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    AtomicReference<Suspension> edge = new AtomicReference<>();
    AtomicBoolean flagAfter = new AtomicBoolean();
    Task<Void> t = loop.addTask("restores-interrupt", () -> {
      Thread.currentThread().interrupt(); // the usual catch (InterruptedException e) idiom
      Suspension s = Tasko.suspend("edge");
      edge.set(s);
      s.await();
      flagAfter.set(Thread.currentThread().isInterrupted());
    });

    loop.step(); // the task runs and suspends: the baton comes back here

    // A suspended task's thread is parked (WAITING), not spinning in the park loop (RUNNABLE).
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (t.thread.getState() != Thread.State.WAITING && System.nanoTime() < until) {
      Thread.onSpinWait();
    }
    assertThat(t.thread.getState()).isEqualTo(Thread.State.WAITING);
    edge.get().resume();
    loop.run();
    assertThat(flagAfter).isTrue();
    assertThat(t.state()).isEqualTo(Task.State.SUCCEEDED);
  }

  // ---- Errors raised on a task's stack inside the loop's own code ----

  static void walk(int n) {
    Tasko.yieldNow();
    walk(n + 1);
  }

  @Test
  void yieldNow_stackOverflowInDeepRecursion_failsTheTaskAndTheLoopGoesOn() {
    List<Throwable> failures = new ArrayList<>();
    Loop loop = virtualLoop((task, failure) -> failures.add(failure));
    Task<Void> deep = loop.addTask("deep", () -> walk(0));
    // Alone in the ready queue, the deep task never switches (its turn comes straight back), so
    // its stack stays on the carrier thread and overflows inside the loop's own code.
    AtomicInteger otherTurns = new AtomicInteger();
    loop.addTask("other", () -> {
      while (!deep.isDone()) {
        otherTurns.incrementAndGet();
        Tasko.sleep(Duration.ofSeconds(1));
      }
    });

    loop.run();

    assertThat(failures).singleElement().isInstanceOf(StackOverflowError.class);
    assertThat(deep.state()).isEqualTo(Task.State.FAILED);
    assertThat(loop.taskCount()).isZero();
    assertThat(otherTurns).hasPositiveValue();
    // The loop is still usable.
    loop.addTask(() -> log.add("after"));
    loop.run();
    log.assertTaken("after");
  }

  @Test
  void exit_onReleaseThrowsErrorForForgottenLease_failsTheTaskInsteadOfHanging() {
    ManagedResource<String, String> bus = ManagedResource.of("bus", "spi",
        cs -> {}, cs -> {
          throw new AssertionError("chip select stuck: " + cs);
        });
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    Task<Void> forgetful = loop.addTask("forgetful", () -> {
      bus.handle("cs0").acquire(); // never closed: the loop closes it when the task ends
    });

    assertThatThrownBy(loop::run).isInstanceOf(TaskFailedException.class)
        .hasCauseInstanceOf(AssertionError.class);
    assertThat(forgetful.state()).isEqualTo(Task.State.FAILED);
    assertThat(loop.taskCount()).isZero();
  }

  // ---- The driver's interrupt ----

  @Test
  void run_driverInterruptedWhileTasksStayBusy_returnsAfterThePass() throws Exception {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    for (int i = 0; i < 2; i++) {
      loop.addTask(() -> {
        while (true) {
          Tasko.yieldNow();
        }
      });
    }
    AtomicBoolean flagKept = new AtomicBoolean();
    Thread driver = Thread.ofPlatform().start(() -> {
      loop.run();
      flagKept.set(Thread.currentThread().isInterrupted());
    });
    while (loop.stats().switches() < 100) {
      Thread.onSpinWait();
    }

    driver.interrupt();
    driver.join(TimeUnit.SECONDS.toMillis(20));

    assertThat(driver.isAlive()).as("run() returned").isFalse();
    assertThat(flagKept).isTrue();
  }

  // ---- A failure handler that suspends ----

  @Test
  void failureHandler_suspendsOnBusyResource_taskEndsFailedAfterIt() {
    ManagedResource<String, Object> logBus = ManagedResource.of("log-bus");
    Handle<String> logger = logBus.handle(null);
    Loop loop = virtualLoop((task, failure) -> {
      try (Lease<String> l = logger.acquire()) { // busy: the handler waits its turn
        log.add("logged " + failure.getMessage() + " at " + Duration.ofNanos(Tasko.currentTask()
            .loop().nanoTime()).toMillis());
      }
    });
    loop.addTask("holder", () -> {
      try (Lease<String> l = logger.acquire()) {
        Tasko.sleep(Duration.ofSeconds(1));
      }
    });
    Task<Void> failing = loop.addTask("failing", () -> {
      Tasko.sleep(Duration.ofMillis(10));
      throw new IllegalStateException("boom");
    });

    loop.run();

    log.assertTaken("logged boom at 1000");
    assertThat(failing.state()).isEqualTo(Task.State.FAILED);
    assertThatThrownBy(failing::join).isInstanceOf(TaskFailedException.class);
    assertThat(loop.taskCount()).isZero();
  }

  /** A task that sleeps, is cancelled at 10 ms, and throws "cleanup failed" in its finally. */
  private static Task<Void> failsInCleanupAfterACancelAt10Ms(Loop loop) {
    Task<Void> failing = loop.addTask("failing", () -> {
      try {
        Tasko.sleep(Duration.ofHours(1));
      } finally {
        throw new IllegalStateException("cleanup failed"); // after the cancel
      }
    });
    loop.runLater(Duration.ofMillis(10), failing::cancel);
    return failing;
  }

  @Test
  void failureHandler_taskCancelledBeforeItFailed_handlerMaySuspendAndTheLoopGoesOn() {
    ManagedResource<String, Object> logBus = ManagedResource.of("log-bus");
    Handle<String> logger = logBus.handle(null);
    Loop loop = virtualLoop((task, failure) -> {
      try (Lease<String> l = logger.acquire()) { // busy: the handler waits its turn
        log.add(task.name() + " failed: " + failure.getMessage() + ", logged at "
            + Duration.ofNanos(Tasko.currentTask().loop().nanoTime()).toMillis());
      }
    });
    loop.addTask("holder", () -> {
      try (Lease<String> l = logger.acquire()) {
        Tasko.sleep(Duration.ofSeconds(1));
      }
    });
    Task<Void> failing = failsInCleanupAfterACancelAt10Ms(loop);

    loop.run(); // the old code threw the cancellation here, and the failure reached nobody

    log.assertTaken("failing failed: cleanup failed, logged at 1000");
    assertThat(failing.state()).isEqualTo(Task.State.FAILED);
    assertThat(failing.isCancelled()).isTrue();
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  void failureHandler_cancelledAgainWhileItWaits_theWaitThrowsTheCancellation() {
    Loop loop = virtualLoop((task, failure) -> {
      try {
        Tasko.sleep(Duration.ofHours(1));
      } catch (CancellationException e) {
        log.add("handler cancelled at " + Duration.ofNanos(task.loop().nanoTime()).toMillis());
        throw e;
      }
    });
    Task<Void> failing = failsInCleanupAfterACancelAt10Ms(loop);
    loop.runLater(Duration.ofSeconds(5), failing::cancel);

    // the failure it was handling is kept (the old code lost it)
    assertThatThrownBy(loop::run).isInstanceOf(CancellationException.class)
        .satisfies(e -> assertThat(e.getSuppressed()).singleElement().satisfies(f ->
            assertThat(f).isInstanceOf(IllegalStateException.class).hasMessage("cleanup failed")));

    log.assertTaken("handler cancelled at 5000");
    assertThat(failing.state()).isEqualTo(Task.State.FAILED);
  }

  @Test
  void failureHandler_cancelledTaskGroupOpenerReportsAChildsFailure_handlerMaySuspend() {
    Loop loop = virtualLoop((task, failure) -> {
      Tasko.sleep(Duration.ofMillis(5)); // a suspending handler, run in the cancelled opener
      log.add(task.name() + " failed: " + failure.getMessage());
    });
    Task<?>[] opener = new Task<?>[1];
    opener[0] = loop.addTask("opener", () -> {
      try (TaskGroup group = TaskGroup.open()) {
        group.add("child", () -> {
          Tasko.sleep(Duration.ofMillis(10));
          throw new IllegalStateException("child failed");
        });
        Tasko.yieldNow(); // the child's timer first, then the cancel's, due at the same instant
        loop.runLater(Duration.ofMillis(10), () -> opener[0].cancel());
      } // close() waits; the child fails, then the opener is cancelled before it runs
    });

    loop.run();

    log.assertTaken("child failed: child failed");
    assertThat(opener[0].state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void failureHandler_openerPastItsTimeoutReportsAChildsFailure_handlerMaySuspend() {
    Loop loop = virtualLoop((task, failure) -> {
      Tasko.sleep(Duration.ofMillis(5)); // the old code threw the expired timeout here
      log.add(task.name() + " failed: " + failure.getMessage());
    });
    loop.addTask("opener", () -> {
      TaskGroup group = TaskGroup.open();
      group.add("child", () -> {
        Tasko.sleep(Duration.ofSeconds(1));
        throw new IllegalStateException("sensor not answering");
      });
      Tasko.yieldNow(); // the child's timer first, then the timeout's, due at the same instant
      try {
        // the child fails, then the timeout passes before the opener, in close(), runs
        Tasko.withTimeout(Duration.ofSeconds(1), group::close);
      } catch (TimeoutException e) {
        log.add("opener timed out at " + Duration.ofNanos(Tasko.currentTask().loop().nanoTime())
            .toMillis());
      }
    });

    loop.run();

    log.assertTaken("child failed: sensor not answering", "opener timed out at 1005");
  }

  @Test
  void failureHandler_itsOwnTimeoutPassesWhileItsTaskIsCancelled_timeoutException() {
    Loop loop = virtualLoop((task, failure) -> {
      try {
        Tasko.withTimeout(Duration.ofMillis(5), () -> Tasko.sleep(Duration.ofHours(1)));
      } catch (TimeoutException e) {
        log.add("handler timed out at " + Duration.ofNanos(task.loop().nanoTime()).toMillis());
      }
    });
    Task<Void> failing = failsInCleanupAfterACancelAt10Ms(loop);

    loop.run();

    log.assertTaken("handler timed out at 15");
  }

  @Test
  void failureHandler_scheduleCancelledInItsRunThenFails_handlerWaitsThenTheCancelEndsIt() {
    Loop loop = virtualLoop((task, failure) -> {
      Tasko.sleep(Duration.ofMillis(5)); // may wait: the cancel came before the failure
      log.add("handled " + failure.getMessage());
    });
    loop.schedule("tick", Duration.ofMillis(100), () -> {
      Tasko.currentTask().cancel();
      throw new IllegalStateException("run failed");
    });
    loop.runLater(Duration.ofSeconds(1), loop::stop); // only if the cancellation were lost

    loop.run();

    // Once the handler has returned, the held-back cancellation ends the schedule.
    log.assertTaken("handled run failed");
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  void failureHandler_acquiresAndDoesNotClose_releasedWhenItEnds() {
    ManagedResource<String, Object> bus = ManagedResource.of("spi");
    Handle<String> logger = bus.handle("log", null);
    Loop loop = virtualLoop((task, failure) -> {
      logger.acquire(); // forgotten
      log.add("logged " + failure.getMessage());
    });
    loop.addTask("failing", () -> {
      throw new IllegalStateException("boom");
    });
    loop.runLater("later", Duration.ofSeconds(1), () -> {
      try (Lease<String> l = bus.handle("device", null).acquire()) {
        log.add("later got the bus");
      }
    });

    try (LogCapture logs = new LogCapture(Level.WARNING, r -> {})) {
      loop.run(); // the old code: DeadlockException, the bus held by the ended task

      assertThat(logs.messages(Level.WARNING)).anySatisfy(m ->
          assertThat(m).contains("failure handler").contains("releasing it"));
    }
    log.assertTaken("logged boom", "later got the bus");
  }

  @Test
  void failureHandler_acquiresAndThrows_leaseReleasedAndTheFailureKept() {
    ManagedResource<String, Object> bus = ManagedResource.of("spi");
    Handle<String> logger = bus.handle("log", null);
    Loop loop = virtualLoop((task, failure) -> {
      Lease<String> l = logger.acquire();
      throw new IllegalStateException("log write failed");
    });
    loop.addTask("failing", () -> {
      throw new IllegalStateException("boom");
    });
    loop.runLater("later", Duration.ofSeconds(1), () -> {
      try (Lease<String> l = bus.handle("device", null).acquire()) {
        log.add("later got the bus");
      }
    });

    assertThatThrownBy(loop::run).hasMessage("log write failed")
        .satisfies(e -> assertThat(e.getSuppressed()).extracting(Throwable::getMessage)
            .containsExactly("boom"));
    loop.run();

    log.assertTaken("later got the bus");
  }

  // ---- A swallowed cancellation ----

  @Test
  void cancel_taskSwallowsCancellation_othersRunStopWorksAndItIsNamedInAWarning() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    AtomicInteger swallowed = new AtomicInteger();
    Task<Void> swallower = loop.addTask("swallower", () -> {
      while (true) {
        try {
          Tasko.sleep(Duration.ofMillis(100));
        } catch (Exception e) { // catches CancellationException too
          swallowed.incrementAndGet();
        }
      }
    });
    AtomicInteger beats = new AtomicInteger();
    loop.schedule("heartbeat", Duration.ofMillis(10), beats::incrementAndGet);
    loop.runLater(Duration.ofSeconds(1), swallower::cancel);
    loop.runLater(Duration.ofSeconds(3), loop::stop);

    try (LogCapture logs = new LogCapture(Level.WARNING, r -> {})) {
      loop.run(); // returns: stop() works although the swallower never ends

      assertThat(logs.messages(Level.WARNING))
          .filteredOn(m -> m.contains("swallowed the CancellationException"))
          .singleElement().asString().contains("cancel");
    }
    assertThat(beats.get()).isBetween(300, 302); // the heartbeat kept its rate throughout
    // Re-delivered with a back-off on the loop's clock: a few times a second, not millions.
    assertThat(swallowed.get()).isBetween(2, 20);
    assertThat(swallower.isCancelled()).isTrue();
  }

  // ---- Suspension is one-shot ----

  @Test
  void await_againAfterTimeout_throwsIllegalStateException() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    AtomicReference<Object> second = new AtomicReference<>();
    loop.addTask(() -> {
      Suspension s = Tasko.suspend("never");
      log.add("first " + s.await(Duration.ofSeconds(1)));
      try {
        second.set(s.await(Duration.ofSeconds(1)));
      } catch (IllegalStateException e) {
        second.set(e);
      }
    });

    loop.run();

    log.assertTaken("first false");
    assertThat(second.get()).isInstanceOf(IllegalStateException.class);
  }

  // ---- The largest deadline ----

  @Test
  void runLater_longMaxValueNanosOnVirtualTime_runsInsteadOfParkingForever() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    loop.runLater(Duration.ofNanos(Long.MAX_VALUE), () -> log.add("ran"));

    loop.run();

    log.assertTaken("ran");
    assertThat(loop.nanoTime()).isEqualTo(Long.MAX_VALUE);
  }

  // ---- Memory that outlives its use ----

  @Test
  void build_sharedManualTicker_doesNotRetainLoopsThatAreGone() {
    ManualTicker shared = new ManualTicker();
    Loop loop = Loop.builder().ticker(shared).build();
    loop.addTask(() -> Tasko.sleep(Duration.ofMillis(1)));
    WeakReference<Loop> ref = new WeakReference<>(loop);
    loop = null;

    for (int i = 0; i < 50 && ref.get() != null; i++) {
      System.gc();
    }

    assertThat(ref.get()).as("loop collected").isNull();
    shared.advance(Duration.ofSeconds(1)); // still works
  }

  @Test
  void join_finishedTask_keepsNoThread() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    Task<Integer> t = loop.addTask(() -> 42);

    loop.run();

    assertThat(t.join()).isEqualTo(42);
    assertThat(t.thread).isNull();
  }

  @Test
  void cancel_beforeStart_endsWithoutCreatingAThread() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    Task<Void> now = loop.addTask(() -> log.add("now ran"));
    Task<Void> later = loop.runLater(Duration.ofSeconds(5), () -> log.add("later ran"));
    now.cancel();
    later.cancel();

    loop.run();

    log.assertTaken();
    assertThat(now.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(later.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(now.thread).isNull();
    assertThat(later.thread).isNull();
    assertThat(loop.nanoTime()).as("no wait for the cancelled start").isZero();
    assertThatThrownBy(now::join).isInstanceOf(CancellationException.class);
  }

  @Test
  void timers_afterBurst_shrinkTheirHeap() {
    Timers timers = new Timers();
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    List<Task<?>> tasks = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      Task<?> t = loop.newTask("t" + i, (TaskBody) () -> {});
      tasks.add(t);
      timers.add(t, i);
    }
    for (Task<?> t : tasks) {
      timers.remove(t);
    }

    assertThat(timers.capacity()).isLessThanOrEqualTo(128);
  }

  @Test
  void run_afterBurstOfReadyTasks_dropsTheLargeReadyQueue() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    for (int i = 0; i < 10_000; i++) {
      loop.addTask(Tasko::yieldNow);
    }
    loop.runLater(Duration.ofSeconds(1), () -> {});
    loop.step();
    loop.step();
    Object burstQueue = loop.runner.readyQueue();

    loop.run();

    assertThat(loop.runner.readyQueue()).isNotSameAs(burstQueue);
  }
  // ---- Schedules ----

  @Test
  void start_afterStopWhileSleeping_restartsTheGridAtOnce() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    ScheduledTask hourly = loop.schedule("hourly", Duration.ofHours(1),
        () -> log.add("run at " + Duration.ofNanos(Tasko.currentTask().loop().nanoTime())));
    loop.runLater(Duration.ofMinutes(1), () -> {
      hourly.stop();
      hourly.start();
    });
    loop.runLater(Duration.ofMinutes(90), loop::stop);

    loop.run();

    log.assertTaken("run at PT0S", "run at PT1M", "run at PT1H1M");
    assertThat(hourly.isScheduled()).isTrue();
  }

  @Test
  void start_afterStopFromAnotherThread_restartsLikeOnTheLoop() throws Exception {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    ScheduledTask hourly = loop.schedule("hourly", Duration.ofHours(1),
        () -> log.add("run at " + Duration.ofNanos(Tasko.currentTask().loop().nanoTime())));
    loop.step(); // first run at 0, then it sleeps until 1 h
    Thread other = Thread.ofPlatform().start(() -> {
      hourly.stop();
      hourly.start();
    });
    other.join();
    loop.runLater(Duration.ofMinutes(30), loop::stop);

    loop.run();

    log.assertTaken("run at PT0S", "run at PT0S");
  }

  @Test
  void schedule_fromOutsideBeforeRun_isScheduledAndCountedAtOnce() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());

    ScheduledTask s = loop.schedule(Duration.ofSeconds(1), () -> {});
    loop.addTask(() -> {});

    assertThat(s.isScheduled()).isTrue();
    assertThat(loop.taskCount()).isEqualTo(2);
  }

  // ---- Joins ----

  @Test
  void join_cancelledJoinerOnAnotherLoop_failureStillReachesTheHandler() {
    List<String> handled = new ArrayList<>();
    Loop workers = Loop.builder().name("workers").virtualTime()
        .failureHandler((task, failure) -> handled.add(task.name() + ": " + failure.getMessage()))
        .build();
    Loop joiners = virtualLoop(FailureHandler.stopLoop());
    Task<Void> worker = workers.addTask("worker", () -> {
      Tasko.sleep(Duration.ofSeconds(1));
      throw new IllegalStateException("boom");
    });
    Task<Void> joiner = joiners.addTask("joiner", () -> {
      worker.join();
    });
    joiners.step(); // the joiner waits for the worker
    joiner.cancel();
    joiners.run();
    assertThat(joiner.state()).isEqualTo(Task.State.CANCELLED);

    workers.run();

    assertThat(handled).containsExactly("worker: boom");
  }

  @Test
  void join_fromPlainThreadWhenInterrupted_keepsWaitingAndKeepsTheFlag() throws Exception {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    Task<String> t = loop.addTask(() -> {
      Tasko.sleep(Duration.ofSeconds(1));
      return "done";
    });
    AtomicReference<String> got = new AtomicReference<>();
    AtomicBoolean flagKept = new AtomicBoolean();
    Thread waiter = Thread.ofPlatform().start(() -> {
      Thread.currentThread().interrupt();
      got.set(t.join()); // like CompletableFuture.join(): not interruptible
      flagKept.set(Thread.currentThread().isInterrupted());
    });

    loop.run();
    waiter.join();

    assertThat(got.get()).isEqualTo("done");
    assertThat(flagKept).isTrue();
  }

  @Test
  void join_fromPlainThreadWhileNoThreadRunsTheLoop_warnsOnceThenReturnsOnceItRuns()
      throws Exception {
    // The old code waited without a word: a thread that should run the loop, joining first, hung.
    long before = Task.outsideJoinWarningNanos;
    Task.outsideJoinWarningNanos = Duration.ofMillis(1).toNanos();
    CountDownLatch warned = new CountDownLatch(1);
    try (LogCapture logs = new LogCapture(Level.WARNING, r -> warned.countDown())) {
      Loop loop = virtualLoop(FailureHandler.stopLoop());
      Task<String> t = loop.addTask("reading", () -> "done");
      AtomicReference<String> got = new AtomicReference<>();
      Thread waiter = Thread.ofPlatform().name("waiter").start(() -> got.set(t.join()));

      assertThat(warned.await(1, TimeUnit.MINUTES)).isTrue(); // no run() yet: it warns
      loop.run();
      waiter.join();

      assertThat(got.get()).isEqualTo("done");
      assertThat(logs.messages(Level.WARNING)).containsExactly(
          "loop 'fault': thread 'waiter' has waited 1 ms in join() of task 'reading', which has "
              + "not ended, and no thread runs the loop. Run it (loop.run() on another thread), or "
              + "join after run() has returned.");
    } finally {
      Task.outsideJoinWarningNanos = before;
    }
  }

  @Test
  void join_fromATaskOfALoopWhileNoThreadRunsTheOther_warnsOnceThenReturnsOnceItRuns()
      throws Exception {
    // Before: a.run() waited without a word, as in a.run(); b.run(); on one thread.
    long before = Task.outsideJoinWarningNanos;
    Task.outsideJoinWarningNanos = Duration.ofMillis(1).toNanos();
    CountDownLatch warned = new CountDownLatch(1);
    try (LogCapture logs = new LogCapture(Level.WARNING, r -> warned.countDown())) {
      Loop a = Loop.builder().name("a").virtualTime().build();
      Loop b = Loop.builder().name("b").virtualTime().build();
      Task<String> reading = b.addTask("reading", () -> "done");
      Task<String> joiner = a.addTask("joiner", () -> reading.join());
      Thread driver = Thread.ofPlatform().name("driver of a").start(a::run);

      assertThat(warned.await(1, TimeUnit.MINUTES)).isTrue(); // b never ran: it warns
      b.run();
      driver.join();

      assertThat(joiner.join()).isEqualTo("done");
      assertThat(logs.messages(Level.WARNING)).containsExactly(
          "loop 'a': task 'joiner' has waited 1 ms in join() of task 'reading' of loop 'b', which "
              + "has not ended, and no thread runs that loop. Run it on another thread (before "
              + "this loop's run() returns, it cannot run it after).");
    } finally {
      Task.outsideJoinWarningNanos = before;
    }
  }

  @Test
  void join_fromATaskOfALoopWhileAnotherThreadRunsTheOther_noWarning() throws Exception {
    long before = Task.outsideJoinWarningNanos;
    Task.outsideJoinWarningNanos = Duration.ofMillis(1).toNanos();
    try (LogCapture logs = new LogCapture(Level.WARNING, r -> { })) {
      Loop a = Loop.builder().name("a").virtualTime().build();
      Loop b = Loop.builder().name("b").build();
      Suspension[] gate = new Suspension[1];
      CountDownLatch waiting = new CountDownLatch(1);
      Task<String> reading = b.addTask("reading", () -> {
        gate[0] = Tasko.suspend();
        waiting.countDown();
        gate[0].await(); // until the joiner has waited well past the warning's time
        return "done";
      });
      Thread driverOfB = Thread.ofPlatform().start(b::run);
      waiting.await();
      Task<String> joiner = a.addTask("joiner", () -> reading.join());
      Thread driverOfA = Thread.ofPlatform().start(a::run);
      while (driverOfA.getState() != Thread.State.TIMED_WAITING
          && driverOfA.getState() != Thread.State.WAITING) {
        Thread.onSpinWait(); // until a idles, its joiner waiting
      }
      a.addTask("nudge", () -> { }); // one more idle period of a, past the warning's time

      gate[0].resume();
      driverOfA.join();
      driverOfB.join();

      assertThat(joiner.join()).isEqualTo("done");
      assertThat(logs.messages(Level.WARNING)).isEmpty(); // b was running all along
    } finally {
      Task.outsideJoinWarningNanos = before;
    }
  }

  // ---- step() on virtual time ----

  @Test
  void step_onVirtualTime_neverMovesTheClock_runFinishes() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    loop.addTask(() -> {
      Tasko.sleep(Duration.ofSeconds(5));
      log.add("woke");
    });

    for (int i = 0; i < 100; i++) {
      assertThat(loop.step()).isTrue(); // one pass at the current instant, every time
    }
    assertThat(loop.nanoTime()).isZero();
    log.assertTaken();

    loop.run(); // what runs a virtual-time program to its end

    log.assertTaken("woke");
    assertThat(loop.nanoTime()).isEqualTo(Duration.ofSeconds(5).toNanos());
  }
  @Test
  void recentStats_afterALateSpell_describesOnlyTheRunsSinceTheLastRead() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    AtomicBoolean slow = new AtomicBoolean(true);
    ScheduledTask s = loop.schedule("sampler", Duration.ofMillis(10), () -> {
      if (slow.get()) {
        Tasko.sleep(Duration.ofMillis(15)); // overruns: the next run starts 5 ms late
      }
    });
    List<ScheduledTask.Stats> windows = new ArrayList<>();
    loop.runLater(Duration.ofSeconds(1), () -> {
      windows.add(s.recentStats());
      slow.set(false);
    });
    loop.runLater(Duration.ofMillis(2005), () -> {
      windows.add(s.recentStats());
      s.stop();
    });

    loop.run();

    assertThat(windows.get(0).latenessP50()).isGreaterThanOrEqualTo(Duration.ofMillis(4));
    assertThat(windows.get(1).runs()).isBetween(99L, 103L); // one second at 100 Hz
    assertThat(windows.get(1).latenessP50()).isZero(); // only the first run trails the late spell
    assertThat(s.stats().runs()).isEqualTo(windows.get(0).runs() + windows.get(1).runs());
    assertThat(s.stats().latenessP99()).isGreaterThanOrEqualTo(Duration.ofMillis(4));
  }
  // ---- Found by LoopPropertyTest (its shrunk program, made plain) ----

  @Test
  void join_joinerCancelledInThePassBeforeTheTargetFails_failureReachesTheHandler() {
    List<String> handled = new ArrayList<>();
    Loop loop = virtualLoop(
        (task, failure) -> handled.add(task.name() + ": " + failure.getMessage()));
    Task<Void> failing = loop.addTask("failing", () -> {
      Tasko.yieldNow();
      throw new AssertionError("boom");
    });
    Task<Void> joiner = loop.addTask("joiner", () -> {
      failing.join();
    });
    // Cancelled in the first pass, the joiner leaves the target's list only when it next runs,
    // which is after the target has failed in the second pass.
    loop.addTask("canceller", () -> {
      joiner.cancel();
    });

    loop.run();

    assertThat(joiner.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(handled).containsExactly("failing: boom");
  }
  @Test
  void join_joinerCancelledAfterTheTargetFailedAndWokeIt_joinerStillGetsTheFailure() {
    List<String> handled = new ArrayList<>();
    Loop loop = virtualLoop(
        (task, failure) -> handled.add(task.name() + ": " + failure.getMessage()));
    List<String> joinerSaw = new ArrayList<>();
    Task<Void> joiner = loop.addTask("joiner", () -> {
      Task<?> self = Tasko.currentTask();
      Task<Void> failing = loop.addTask("failing", () -> {
        throw new AssertionError("boom");
      });
      // Runs right after the failing task, in the same pass: the joiner has just been woken.
      loop.addTask("canceller", () -> {
        self.cancel();
      });
      try {
        failing.join();
      } catch (TaskFailedException e) {
        joinerSaw.add(e.getCause().getMessage());
      }
      Tasko.yieldNow(); // the cancellation lands here
      joinerSaw.add("not reached");
    });

    loop.run();

    assertThat(joinerSaw).containsExactly("boom");
    assertThat(joiner.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(handled).isEmpty(); // the joiner saw it: not the handler's
  }

  // ---- Exceptions that are odd objects: shared, circular, unprintable, without suppression ----

  /** One exception object a library keeps and throws again and again. */
  private static final RuntimeException SHARED = new RuntimeException("shared");

  /** Made without suppression, as some libraries make exceptions for speed. */
  private static RuntimeException bare(String message) {
    return new RuntimeException(message, null, false, false) { };
  }

  /** Whose toString() throws. */
  private static RuntimeException unprintable(String message) {
    return new RuntimeException(message) {
      @Override
      public String toString() {
        throw new IllegalStateException("no toString today");
      }
    };
  }

  /** What the loop logs at WARNING while {@code body} runs: each record's exception. */
  private static List<Throwable> warningsDuring(Runnable body) {
    List<Throwable> thrown = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (LogCapture logs = new LogCapture(Level.WARNING, r -> thrown.add(r.getThrown()))) {
      body.run();
    }
    return thrown;
  }

  @Test
  void run_handlerThrowsExceptionWithCircularCauses_throwsIt() {
    Loop loop = virtualLoop((task, failure) -> {
      RuntimeException a = new RuntimeException("a");
      RuntimeException b = new RuntimeException("b");
      a.initCause(b);
      b.initCause(a);
      throw a;
    });
    loop.addTask(() -> {
      throw new IllegalStateException("boom");
    });

    // Before: the check whether it already carried the failure walked the causes for ever.
    assertThatThrownBy(loop::run).hasMessage("a")
        .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
            .satisfies(s -> assertThat(s).hasMessage("boom")));
  }

  @Test
  void run_handlerThrowsOneObjectForTheTaskAndForItsLease_throwsItOnce() {
    ManagedResource<String, Object> bus = ManagedResource.of("bus", "bus", c -> { }, c -> {
      throw new IllegalStateException("onRelease");
    });
    Handle<String> h = bus.handle(null);
    Loop loop = virtualLoop((task, failure) -> {
      throw SHARED;
    });
    // The lease's failure is reported on its own (the task's failure takes no suppressed one):
    // the handler runs twice in this task's end, throwing the same object each time.
    loop.addTask(() -> {
      h.acquire(); // forgotten
      throw bare("no suppression");
    });

    // Before: "Self-suppression not permitted" ended the task's thread holding the processor.
    assertThatThrownBy(loop::run).isSameAs(SHARED);
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  void run_handlerThrowsWhatTheLeaseItForgotThrows_throwsItOnce() {
    ManagedResource<String, Object> bus = ManagedResource.of("bus", "bus", c -> { }, c -> {
      throw SHARED;
    });
    Handle<String> h = bus.handle(null);
    Loop loop = virtualLoop((task, failure) -> {
      h.acquire(); // forgotten by the handler
      throw SHARED;
    });
    loop.addTask(() -> {
      throw new IllegalStateException("boom");
    });

    assertThatThrownBy(loop::run).isSameAs(SHARED);
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  void run_handlerThrowsExceptionWithoutSuppression_failureLogged() {
    IllegalStateException boom = new IllegalStateException("boom");
    Loop loop = virtualLoop((task, failure) -> {
      throw bare("handler");
    });
    loop.addTask(() -> {
      throw boom;
    });

    List<Throwable> logged = warningsDuring(
        () -> assertThatThrownBy(loop::run).hasMessage("handler"));

    assertThat(logged).containsExactly(boom); // before: carried by nothing, logged nowhere
  }

  @Test
  void run_firstHandlerFailureWithoutSuppression_secondLogged() {
    RuntimeException second = new RuntimeException("second handler failure");
    int[] calls = {0};
    Loop loop = virtualLoop((task, failure) -> {
      if (calls[0]++ == 0) {
        throw bare("first handler failure");
      }
      throw second;
    });
    ManagedResource<String, Object> bus = ManagedResource.of("bus", "bus", c -> { }, c -> {
      throw new IllegalStateException("onRelease");
    });
    Handle<String> h = bus.handle(null);
    loop.addTask(() -> {
      h.acquire(); // forgotten
      throw bare("task failure");
    });

    List<Throwable> logged = warningsDuring(
        () -> assertThatThrownBy(loop::run).hasMessage("first handler failure"));

    assertThat(calls[0]).isEqualTo(2);
    assertThat(logged).contains(second);
  }

  @Test
  void schedule_runFailsAndItsLeaseThrowsErrorWithoutSuppression_bothReachTheHandler() {
    List<Throwable> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
    Loop loop = virtualLoop((t, f) -> handled.add(f));
    ManagedResource<String, Object> bus = ManagedResource.of("bus", "bus", c -> { }, c -> {
      throw new Error("onRelease error", null, false, false) { };
    });
    Handle<String> h = bus.handle(null);
    IllegalStateException runFailure = new IllegalStateException("run failure");
    loop.schedule(Duration.ofMillis(10), () -> {
      h.acquire(); // forgotten by the run
      throw runFailure;
    });

    loop.run();

    // Before: the run's failure was added to the error, which drops what it is given.
    assertThat(handled).hasSize(2);
    assertThat(handled.get(0)).isSameAs(runFailure);
    assertThat(handled.get(1)).hasMessage("onRelease error");
  }

  @Test
  void acquire_failsWithoutSuppressionAndOnReleaseThrows_releaseFailureLogged() {
    IllegalStateException releaseFailure = new IllegalStateException("onRelease");
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    ManagedResource<String, Object> bus = ManagedResource.withLeaseViews("bus", c -> { }, c -> {
      throw releaseFailure;
    }, (c, lease) -> {
      throw bare("viewOf");
    });
    Handle<String> h = bus.handle(null);
    AtomicReference<Throwable> caught = new AtomicReference<>();
    loop.addTask(() -> {
      try {
        h.acquire();
      } catch (RuntimeException e) {
        caught.set(e);
      }
    });

    List<Throwable> logged = warningsDuring(loop::run);

    assertThat(caught.get()).hasMessage("viewOf");
    assertThat(logged).containsExactly(releaseFailure);
  }

  @Test
  void join_failureWhoseToStringThrows_joinerGetsTaskFailedException() {
    List<Throwable> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
    Loop loop = virtualLoop((t, f) -> handled.add(f));
    RuntimeException failure = unprintable("failure");
    Task<Void> failing = loop.addTask("failing", () -> {
      Tasko.yieldNow();
      throw failure;
    });
    AtomicReference<Throwable> joined = new AtomicReference<>();
    loop.addTask(() -> {
      try {
        failing.join();
      } catch (Throwable e) {
        joined.set(e);
      }
    });

    loop.run();

    // Before: the wrapper's message printed the failure, whose toString() threw: the joiner got
    // that exception instead, and the handler nothing.
    assertThat(joined.get()).isInstanceOf(TaskFailedException.class).hasCause(failure)
        .hasMessageStartingWith("task 'failing' failed: ")
        .hasMessageContaining("its toString() threw java.lang.IllegalStateException");
    assertThat(handled).isEmpty();
  }

  @Test
  void run_defaultHandlerOnFailureWhoseToStringThrows_throwsTaskFailedException() {
    Loop loop = virtualLoop(FailureHandler.stopLoop());
    RuntimeException failure = unprintable("failure");
    loop.addTask(() -> {
      throw failure;
    });

    assertThatThrownBy(loop::run).isInstanceOf(TaskFailedException.class).hasCause(failure);
  }
}
