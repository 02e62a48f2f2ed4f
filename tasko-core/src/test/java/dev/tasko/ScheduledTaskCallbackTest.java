package dev.tasko;

import static dev.tasko.Rate.hz;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tasko.testsupport.EventLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Callback schedules ({@link Loop#scheduleCallback}): run on the thread holding the processor,
 * with no thread of their own, refused any call that would suspend, and otherwise a schedule.
 * That they keep time exactly as a schedule does is {@link ScheduledTaskCallbackPropertyTest}'s;
 * what both kinds must do, {@link ScheduledTaskTest}'s tests that take a {@code Kind}.
 */
class ScheduledTaskCallbackTest {
  private final EventLog log = new EventLog();

  @Test
  void scheduleCallback_calledFromRun_runsOnTheDrivingThreadWithoutSwitches() {
    Loop v = Loop.builder().virtualTime().build();
    List<Thread> threads = new ArrayList<>();
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = v.scheduleCallback(hz(100), () -> {
      threads.add(Thread.currentThread());
      if (threads.size() == 5) {
        s[0].stop();
      }
    });

    v.run();

    assertThat(threads).hasSize(5).containsOnly(Thread.currentThread());
    assertThat(v.stats().switches()).as("no hand-off at all").isZero();
    assertThat(v.nanoTime()).isEqualTo(40_000_000L);
    assertThat(v.taskCount()).isZero();
  }

  @Test
  void scheduleCallback_besideTasks_runsBetweenTheirTurnsInDeadlineOrder() {
    Loop v = Loop.builder().virtualTime().build();
    ScheduledTask tick = v.scheduleCallback("tick", Duration.ofMillis(10),
        () -> log.add("tick@" + v.nanoTime() / 1_000_000));
    v.addTask("worker", () -> {
      for (int i = 0; i < 3; i++) {
        log.add("worker@" + v.nanoTime() / 1_000_000);
        Tasko.sleep(Duration.ofMillis(15));
      }
      tick.stop();
    });

    v.run();

    // At 30 the worker's timer, set at 15, comes before the tick's, set at 20.
    log.assertTaken("tick@0", "worker@0", "tick@10", "worker@15", "tick@20", "worker@30",
        "tick@30", "tick@40");
  }

  @Test
  void callback_currentTask_isTheSchedulesTaskAndIsOnTheLoop() {
    Loop v = Loop.builder().virtualTime().build();
    AtomicReference<Task<?>> seen = new AtomicReference<>();
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = v.scheduleCallback("probe", Duration.ofMillis(1), () -> {
      seen.set(Tasko.currentTask());
      s[0].stop(); // on the loop: takes effect now, so this is the only run
    });

    v.run();

    assertThat(seen.get().name()).isEqualTo("probe");
    assertThat(seen.get().state()).isEqualTo(Task.State.SUCCEEDED);
    assertThat(s[0].stats().runs()).isEqualTo(1);
  }

  @Test
  void callback_callsThatSuspend_eachRefusedNamingTheScheduleAndTheLoopGoesOn() {
    Channel<String> channel = Channel.create(1);
    Semaphore semaphore = Semaphore.create(1);
    Event event = Event.create();
    ManagedResource<String, String> bus = ManagedResource.of("bus", "bus", cs -> { }, cs -> { });
    Handle<String> handle = bus.handle("device");
    List<Consumer<Loop>> calls = List.of(
        l -> Tasko.sleep(Duration.ofMillis(1)),
        l -> Tasko.yieldNow(),
        l -> Tasko.suspend(),
        l -> Tasko.withTimeout(Duration.ofMillis(1), () -> { }),
        l -> Tasko.blocking(() -> 1),
        l -> l.addTask(() -> { }).join(),
        l -> channel.put("x"),
        l -> channel.take(),
        l -> event.await(),
        l -> semaphore.acquire(),
        l -> handle.acquire(),
        l -> TaskGroup.open());
    List<String> ops = List.of("sleep", "yieldNow", "suspend", "withTimeout", "blocking", "join",
        "put", "take", "await", "acquire", "acquire", "open");
    List<Throwable> failures = new ArrayList<>();
    Loop v = Loop.builder().virtualTime().failureHandler((t, f) -> failures.add(f)).build();
    int[] run = {0};
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = v.scheduleCallback("cb", Duration.ofMillis(1), () -> {
      if (run[0] == calls.size() - 1) {
        s[0].stop();
      }
      calls.get(run[0]++).accept(v);
    });

    v.run();

    assertThat(failures).hasSize(calls.size());
    for (int i = 0; i < calls.size(); i++) {
      assertThat(failures.get(i)).isInstanceOf(IllegalStateException.class)
          .hasMessage(ops.get(i) + "() called from callback schedule 'cb' of loop '" + v.name()
              + "': its body runs between the loop's tasks and must not suspend; make it with "
              + "Loop.schedule if it has to wait");
    }
    assertThat(s[0].stats().runs()).isEqualTo(calls.size());
    // Nothing half-done was left behind: the channel, the semaphore and the bus are free.
    assertThat(channel.offer("y")).isTrue();
    assertThat(semaphore.available()).isEqualTo(1);
    assertThat(v.taskCount()).as("the task made for join() ran and ended").isZero();
  }

  @Test
  void callback_callsThatNeverSuspend_work_andAForgottenPermitIsReleasedAfterTheRun() {
    Channel<Integer> channel = Channel.unbounded();
    Event event = Event.create();
    Semaphore semaphore = Semaphore.create(1);
    Loop v = Loop.builder().virtualTime().build();
    ScheduledTask[] s = new ScheduledTask[1];
    int[] run = {0};
    s[0] = v.scheduleCallback(Duration.ofMillis(5), () -> {
      channel.offer(run[0]);
      assertThat(semaphore.tryAcquire()).as("run %d", run[0]).isNotNull(); // never closed
      if (++run[0] == 3) {
        event.set();
        s[0].stop();
      }
    });
    v.addTask(() -> {
      event.await();
      log.add("event after " + channel.size() + " offers");
      log.add("permits " + semaphore.available());
    });

    v.run();

    log.assertTaken("event after 3 offers", "permits 1");
  }

  @Test
  void callback_throwsError_endsTheScheduleFailed() {
    List<Throwable> failures = new ArrayList<>();
    Loop v = Loop.builder().virtualTime().failureHandler((t, f) -> failures.add(f)).build();
    AtomicReference<Task<?>> task = new AtomicReference<>();
    ScheduledTask s = v.scheduleCallback(Duration.ofMillis(1), () -> {
      task.set(Tasko.currentTask());
      throw new AssertionError("broken");
    });

    v.run();

    assertThat(failures).singleElement().isInstanceOf(AssertionError.class);
    assertThat(task.get().state()).isEqualTo(Task.State.FAILED);
    assertThat(s.isScheduled()).isFalse();
    assertThat(s.stats().runs()).isEqualTo(1);
  }

  @Test
  void cancel_betweenRuns_endsTheScheduleAtOnceCancelled() {
    Loop v = Loop.builder().virtualTime().build();
    AtomicReference<Task<?>> task = new AtomicReference<>();
    ScheduledTask s = v.scheduleCallback(Duration.ofMillis(10), () -> {
      task.set(Tasko.currentTask());
      log.add("run@" + v.nanoTime() / 1_000_000);
    });
    v.runLater(Duration.ofMillis(15), s::cancel);

    v.run();

    log.assertTaken("run@0", "run@10");
    assertThat(task.get().state()).isEqualTo(Task.State.CANCELLED);
    assertThat(s.isScheduled()).isFalse();
    assertThat(v.nanoTime()).as("ends at the cancel, not at the next target")
        .isEqualTo(15_000_000L);
  }

  @Test
  void cancel_ofItsTaskFromItsOwnRun_endsItCancelledBeforeAnotherRun() {
    Loop v = Loop.builder().virtualTime().build();
    AtomicReference<Task<?>> task = new AtomicReference<>();
    ScheduledTask s = v.scheduleCallback(Duration.ofMillis(10), () -> {
      task.set(Tasko.currentTask());
      Tasko.currentTask().cancel();
    });

    v.run();

    assertThat(task.get().state()).isEqualTo(Task.State.CANCELLED);
    assertThat(s.stats().runs()).isEqualTo(1);
  }

  @Test
  void stopAndStart_fromAnotherThreadAndFromATask_restartTheGrid() throws Exception {
    ManualTicker clock = new ManualTicker();
    Loop loop = Loop.builder().ticker(clock).build();
    AtomicInteger runs = new AtomicInteger();
    ScheduledTask s = loop.scheduleCallback(Duration.ofNanos(10), runs::incrementAndGet);
    loop.step(); // run at 0, next target 10

    Thread t = Thread.ofPlatform().start(s::stop);
    t.join();
    clock.advance(Duration.ofNanos(10));
    loop.step();
    assertThat(runs).as("stopped from another thread").hasValue(1);
    assertThat(loop.taskCount()).isZero();

    clock.advance(Duration.ofNanos(3));
    s.start();
    loop.step(); // the grid restarts at 13
    clock.advance(Duration.ofNanos(10));
    loop.step();
    assertThat(runs).hasValue(3);
    assertThat(s.stats().latenessMax()).isZero();
  }

  @Test
  void callback_onATaskThreadWhoseInterruptIsSet_doesNotSeeIt_andTheTaskKeepsIt() {
    Loop v = Loop.builder().virtualTime().build();
    List<String> seen = new ArrayList<>();
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = v.scheduleCallback(Duration.ofMillis(10), () -> {
      seen.add((Thread.currentThread().isVirtual() ? "task thread" : "driver")
          + ", interrupted " + Thread.currentThread().isInterrupted());
      if (seen.size() == 2) {
        s[0].stop();
      }
    });
    v.addTask(() -> {
      Thread.currentThread().interrupt(); // the task's own business
      Tasko.sleep(Duration.ofMillis(10)); // the callback's run at 10 borrows this thread
      seen.add("task, interrupted " + Thread.currentThread().isInterrupted());
    });

    v.run();

    assertThat(seen).containsExactly("driver, interrupted false",
        "task thread, interrupted false", "task, interrupted true");
    assertThat(Thread.interrupted()).isFalse();
  }

  @Test
  void run_driverInterruptedWhileCallbacksKeepItBusy_returnsAfterThatPassWithTheFlag() {
    Loop v = Loop.builder().virtualTime().build();
    Thread driver = Thread.currentThread();
    AtomicInteger runs = new AtomicInteger();
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = v.scheduleCallback(Duration.ofMillis(1), () -> {
      if (runs.incrementAndGet() == 3) {
        driver.interrupt(); // while a callback runs on it, as a shutdown hook's interrupt may come
      }
      if (runs.get() == 1000) {
        s[0].stop(); // only so that a loop that misses the interrupt still ends
      }
    });

    v.run();

    assertThat(Thread.interrupted()).as("run() returns with the driver's flag set").isTrue();
    assertThat(runs).hasValue(3);
    assertThat(s[0].isScheduled()).as("it goes on when run again").isTrue();
  }

  @Test
  void join_ofTheSchedulesTask_fromATask_returnsOnceItStops() {
    Loop v = Loop.builder().virtualTime().build();
    AtomicReference<Task<?>> task = new AtomicReference<>();
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = v.scheduleCallback(Duration.ofMillis(10), () -> {
      task.compareAndSet(null, Tasko.currentTask());
      if (v.nanoTime() == 30_000_000L) {
        s[0].stop();
      }
    });
    v.addTask(() -> {
      Tasko.yieldNow(); // the schedule has made its first run
      task.get().join();
      log.add("joined@" + v.nanoTime() / 1_000_000);
    });

    v.run();

    log.assertTaken("joined@30");
  }

  @Test
  void shutdown_cancelsTheSchedule() {
    Loop v = Loop.builder().virtualTime().build();
    ScheduledTask s = v.scheduleCallback(Duration.ofMillis(10), () -> { });
    v.step();

    v.shutdown();

    assertThat(s.isScheduled()).isFalse();
    assertThat(v.taskCount()).isZero();
  }

  @Test
  void scheduleCallback_badArguments_rejectedNamingThem() {
    Loop v = Loop.create();
    assertThatThrownBy(() -> v.scheduleCallback(Duration.ofMillis(-1), () -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT-0.001S");
    assertThatThrownBy(() -> v.scheduleCallback((Rate) null, () -> { }))
        .isInstanceOf(NullPointerException.class).hasMessage("rate == null");
    assertThatThrownBy(() -> v.scheduleCallback(hz(1), null))
        .isInstanceOf(NullPointerException.class).hasMessage("callback == null");
    assertThatThrownBy(() -> v.scheduleCallback(null, hz(1), () -> { }))
        .isInstanceOf(NullPointerException.class).hasMessage("name == null");
    assertThat(v.taskCount()).isZero();
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void scheduleCallback_onTheSystemClock_runsOnTheDrivingThreadWithNoSwitch() {
    Loop loop = Loop.create();
    List<Thread> threads = new ArrayList<>();
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = loop.scheduleCallback(Duration.ofMillis(1), () -> {
      threads.add(Thread.currentThread());
      if (threads.size() == 20) {
        s[0].stop();
      }
    });

    loop.run();

    assertThat(threads).hasSize(20).containsOnly(Thread.currentThread());
    assertThat(loop.stats().switches()).isZero();
  }
}
