package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tasko.testsupport.EventLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class LoopTest {
  private final ManualTicker ticker = new ManualTicker();
  private final Loop loop = Loop.builder().name("test").ticker(ticker).build();
  private final EventLog log = new EventLog();

  @Test
  void addTask_beforeStep_runsOnNextPassOnly() {
    loop.addTask(() -> log.add("ran"));
    log.assertTaken();

    loop.step();

    log.assertTaken("ran");
  }

  @Test
  void step_readyTasks_runOncePerPassInFifoOrder() {
    for (String name : new String[] {"a", "b", "c"}) {
      loop.addTask(name, () -> {
        for (int i = 0; i < 2; i++) {
          log.add(name + i);
          Tasko.yieldNow();
        }
      });
    }

    loop.step();
    log.assertTaken("a0", "b0", "c0");
    loop.step();
    log.assertTaken("a1", "b1", "c1");
    assertThat(loop.step()).isFalse(); // each task ends in this pass: none remains
  }

  @Test
  void step_taskAddedDuringPass_waitsForNextPass() {
    loop.addTask(() -> {
      log.add("parent");
      loop.addTask(() -> log.add("child"));
      log.add("parent continues");
    });

    loop.step();
    log.assertTaken("parent", "parent continues");
    loop.step();
    log.assertTaken("child");
  }

  @Test
  void step_dueSleepers_runAfterReadyTasks_earliestFirst_tiesInSleepOrder() {
    loop.addTask("late", () -> {
      Tasko.sleep(Duration.ofMillis(20));
      log.add("late");
    });
    loop.addTask("early", () -> {
      Tasko.sleep(Duration.ofMillis(10));
      log.add("early");
    });
    loop.addTask("tie", () -> {
      Tasko.sleep(Duration.ofMillis(20));
      log.add("tie");
    });
    loop.step(); // all three go to sleep
    loop.addTask(() -> log.add("ready"));

    ticker.advance(Duration.ofMillis(30));
    loop.step();

    log.assertTaken("ready", "early", "late", "tie");
  }

  @Test
  void step_sleeperNotDue_doesNotRun() {
    loop.addTask(() -> {
      Tasko.sleep(Duration.ofMillis(100));
      log.add("woke");
    });
    loop.step();

    ticker.advance(Duration.ofMillis(99));
    loop.step();
    log.assertTaken();

    ticker.advance(Duration.ofMillis(1));
    loop.step();
    log.assertTaken("woke");
  }

  @Test
  void sleep_tenthOfASecond_completesOnceDeadlinePassed() {
    // tasko's test_sleep, on virtual time
    Loop v = Loop.builder().virtualTime().build();
    boolean[] complete = {false};
    v.addTask(() -> {
      Tasko.sleep(Duration.ofMillis(100));
      complete[0] = true;
    });

    v.run();

    assertThat(complete[0]).isTrue();
    assertThat(v.nanoTime()).isEqualTo(100_000_000L);
  }

  @Test
  void run_untilEveryTaskFinished_thenReturns() {
    Loop v = Loop.builder().virtualTime().build();
    for (int i = 0; i < 3; i++) {
      int n = i;
      v.addTask(() -> {
        Tasko.sleep(Duration.ofSeconds(n));
        log.add("done" + n);
      });
    }

    v.run();

    log.assertTaken("done0", "done1", "done2");
    assertThat(v.taskCount()).isZero();
  }

  @Test
  void run_noTasks_returnsAtOnce() {
    loop.run();
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  void run_virtualTimeWithSlack_eachTimerFiresAtItsOwnDeadline() {
    // From a hostile test: the driver idling on virtual time moved the clock to the latest timer
    // within the slack, so a runLater due at 1 ms ran at 5 ms (sleeping tasks, moved by another
    // path, ran on time).
    Loop loop = Loop.builder().virtualTime().idleStrategy(IdleStrategy.lowPower(
        Duration.ofMillis(10))).build();
    List<String> log = new ArrayList<>();
    loop.runLater("a", Duration.ofMillis(1), () -> log.add("a@" + loop.nanoTime()));
    loop.runLater("b", Duration.ofMillis(5), () -> log.add("b@" + loop.nanoTime()));

    loop.run();

    assertThat(log).containsExactly("a@1000000", "b@5000000");
  }

  @Test
  void run_virtualTime_hourOfSleepingIsInstant() {
    Loop v = Loop.builder().virtualTime().build();
    AtomicInteger wakes = new AtomicInteger();
    v.addTask(() -> {
      for (int i = 0; i < 3600; i++) {
        Tasko.sleep(Duration.ofSeconds(1));
        wakes.incrementAndGet();
      }
    });

    v.run();

    assertThat(wakes).hasValue(3600);
    assertThat(Duration.ofNanos(v.nanoTime())).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void stop_fromTask_runReturnsAfterPass_andRunGoesOnLater() {
    Loop v = Loop.builder().virtualTime().build();
    v.addTask(() -> {
      log.add("stopper");
      v.stop();
      Tasko.yieldNow();
      log.add("stopper again");
    });
    v.addTask(() -> log.add("other"));

    v.run();
    log.assertTaken("stopper", "other");
    assertThat(v.taskCount()).isEqualTo(1);

    v.run();
    log.assertTaken("stopper again");
  }

  @Test
  void run_fromTask_throwsIllegalState() {
    Loop v = Loop.builder().virtualTime().build();
    v.addTask(() -> v.run());
    assertThatThrownBy(v::run).isInstanceOf(TaskFailedException.class)
        .cause().isInstanceOf(IllegalStateException.class).hasMessageContaining("a task must"
            + " never drive a loop");
  }

  @Test
  void run_taskThrows_stopsRunWithTaskFailedExceptionNamingTask() {
    Loop v = Loop.builder().virtualTime().build();
    IllegalStateException boom = new IllegalStateException("boom");
    v.addTask("sensor", () -> {
      throw boom;
    });
    v.addTask("bystander", () -> {
      Tasko.sleep(Duration.ofSeconds(1));
      log.add("bystander done");
    });

    assertThatThrownBy(v::run).isInstanceOf(TaskFailedException.class)
        .hasMessageContaining("task 'sensor' failed").hasCause(boom)
        .satisfies(e -> assertThat(((TaskFailedException) e).task().name()).isEqualTo("sensor"));

    // The loop is still usable and nothing was lost.
    v.run();
    log.assertTaken("bystander done");
  }

  @Test
  void run_logAndContinueHandler_otherTasksGoOn() {
    Loop v = Loop.builder().virtualTime()
        .failureHandler((task, failure) -> log.add("failed " + task.name()))
        .build();
    v.addTask("bad", () -> {
      throw new Exception("x");
    });
    v.addTask("good", () -> log.add("good"));

    v.run();

    log.assertTaken("failed bad", "good");
  }

  @Test
  void run_nothingCanEverWake_throwsDeadlockListingTasks() {
    Loop v = Loop.builder().virtualTime().build();
    Task<?>[] tasks = new Task<?>[2];
    tasks[0] = v.addTask("a", () -> {
      Tasko.yieldNow();
      tasks[1].join();
    });
    tasks[1] = v.addTask("b", () -> {
      Tasko.yieldNow();
      try {
        tasks[0].join();
      } catch (java.util.concurrent.CancellationException e) {
        log.add("b saw: " + e.getMessage());
      }
    });

    assertThatThrownBy(v::run).isInstanceOf(DeadlockException.class)
        .hasMessageContaining("task 'a' waits for task 'b' to finish (join)")
        .hasMessageContaining("task 'b' waits for task 'a' to finish (join)")
        .satisfies(e -> assertThat(((DeadlockException) e).stuckTasks())
            .containsExactly(tasks[0], tasks[1]));

    // Still usable: cancelling one frees the other.
    tasks[0].cancel();
    v.run();
    assertThat(tasks[0].state()).isEqualTo(Task.State.CANCELLED);
    log.assertTaken("b saw: task 'a' was cancelled");
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void addTask_fromAnotherThread_wakesIdleLoop() throws Exception {
    Loop real = Loop.create();
    Suspension[] keeperWaits = new Suspension[1];
    real.addTask("keeper", () -> {
      keeperWaits[0] = Tasko.suspend("the task added from outside");
      keeperWaits[0].await();
      log.add("keeper resumed");
    });
    Thread driver = Thread.ofPlatform().daemon().start(real::run);
    // The keeper's suspension can only be resumed by the task added below, so the driver idles
    // with no deadline: only addTask's own wake-up can get the loop going again.
    awaitParkedInIdle(driver);

    real.addTask("from outside", () -> {
      log.add("outside task ran");
      keeperWaits[0].resume();
    });

    // join(Duration)'s answer, not isAlive(), which turns false a moment after it returns
    assertThat(driver.join(Duration.ofSeconds(10)))
        .as("run() still idle: addTask did not wake it").isTrue();
    log.assertTaken("outside task ran", "keeper resumed");
  }

  /** Waits until {@code driver} is parked inside the loop's idle wait. */
  private static void awaitParkedInIdle(Thread driver) {
    while (driver.getState() != Thread.State.WAITING
        || Arrays.stream(driver.getStackTrace()).noneMatch(f -> f.getMethodName().equals("idle"))) {
      Thread.onSpinWait();
    }
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void stop_fromAnotherThread_wakesIdleRun() throws Exception {
    Loop real = Loop.create();
    CountDownLatch waiting = new CountDownLatch(1);
    real.addTask(() -> {
      waiting.countDown();
      Tasko.suspend().await(); // nothing will ever resume this
    });
    Thread stopper = Thread.ofPlatform().start(() -> {
      try {
        waiting.await();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      real.stop();
    });

    real.run(); // returns only because of stop()

    stopper.join();
    assertThat(real.taskCount()).isEqualTo(1);
  }

  @Test
  void builder_virtualTimeWithSystemTicker_throws() {
    assertThatThrownBy(() -> Loop.builder().ticker(Ticker.system()).virtualTime().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("virtualTime() needs a"
            + " ManualTicker");
  }

  @Test
  void badInput_rejectedWithParameterAndValue_loopStaysUsable() {
    assertThatThrownBy(() -> loop.addTask((TaskBody) null)).isInstanceOf(NullPointerException.class)
        .hasMessage("body == null");
    assertThatThrownBy(() -> loop.runLater(Duration.ofSeconds(-1), () -> {}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("delay < 0: PT-1S");
    assertThatThrownBy(() -> loop.schedule(Duration.ZERO, () -> {}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("interval <= 0: PT0S");
    assertThatThrownBy(() -> loop.schedule((Rate) null, () -> {}))
        .isInstanceOf(NullPointerException.class).hasMessage("rate == null");
    assertThatThrownBy(() -> loop.schedule(Rate.hz(10), null))
        .isInstanceOf(NullPointerException.class).hasMessage("body == null");
    assertThatThrownBy(() -> loop.addTask((String) null, () -> {}))
        .isInstanceOf(NullPointerException.class).hasMessage("name == null");

    loop.addTask(() -> log.add("still works"));
    loop.step();
    log.assertTaken("still works");
  }

  @Test
  void nanoTime_readsTicker() {
    ticker.advance(Duration.ofSeconds(3));
    assertThat(loop.nanoTime()).isEqualTo(3_000_000_000L);
  }

  @Test
  void runLater_nothingBeforeDelay_thenRunsOncePerPass() {
    // tasko's test_run_later
    int[] count = {0};
    loop.runLater(Duration.ofMillis(100), () -> {
      while (true) {
        count[0]++;
        Tasko.yieldNow();
      }
    });

    assertThat(count[0]).as("nothing runs when added").isZero();
    loop.step();
    assertThat(count[0]).as("nothing before the delay").isZero();

    ticker.advance(Duration.ofMillis(100));
    loop.step();
    assertThat(count[0]).as("once per pass").isEqualTo(1);
    loop.step();
    assertThat(count[0]).isEqualTo(2);
  }

  @Test
  void runLater_startTimeFixedAtCall_notWhenLoopGetsToIt() {
    loop.runLater(Duration.ofMillis(100), () -> log.add("ran at " + loop.nanoTime() / 1_000_000));
    ticker.advance(Duration.ofMillis(60)); // the loop first steps 60 ms after the call
    loop.step();
    ticker.advance(Duration.ofMillis(40));
    loop.step();

    log.assertTaken("ran at 100");
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void step_fromTwoThreadsAtOnce_secondIsRejected() throws Exception {
    java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    loop.addTask(() -> {
      inside.countDown();
      release.await(); // holds the pass open (blocking the loop, on purpose)
    });
    Thread first = Thread.ofPlatform().start(loop::step);
    inside.await();

    assertThatThrownBy(loop::step).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("step(): loop 'test' is already driven by");

    release.countDown();
    first.join();
  }

  @Test
  void stats_twoTasksYieldingOnce_countEveryPassAndSwitch() {
    Loop v = Loop.builder().virtualTime().build();
    v.addTask(() -> Tasko.yieldNow());
    v.addTask(() -> Tasko.yieldNow());

    v.run();

    // Switches: driver -> a, a -> b (both yield: pass 1), b -> a, a -> b (both end: pass 2),
    // b -> driver. Passes begun: 1 and 2, and a third that b opens at its end and finds empty;
    // the driver, handed the baton by that empty pass, does not open another before it returns.
    assertThat(v.stats()).isEqualTo(new Loop.Stats(3, 5, Duration.ZERO)); // virtual time: no idling
  }

  @Test
  void idleStrategy_factories_describeThemselves_andRejectBadInput() {
    assertThat(IdleStrategy.lowPower()).hasToString("IdleStrategy.lowPower()");
    assertThat(IdleStrategy.lowPower(Duration.ofNanos(250_000)))
        .hasToString("IdleStrategy.lowPower(PT0.00025S)");
    assertThat(IdleStrategy.lowPower(Duration.ZERO)).isSameAs(IdleStrategy.lowPower());
    assertThat(IdleStrategy.precise().spinWindow()).isEqualTo(Duration.ofNanos(200_000));
    assertThatThrownBy(() -> IdleStrategy.lowPower(Duration.ofNanos(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("slack < 0: PT-0.000000001S");
    assertThatThrownBy(() -> IdleStrategy.precise(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("spinWindow <= 0: PT0S");
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void run_realClockWithSlack_allTimersStillFire() {
    Loop real = Loop.builder().idleStrategy(IdleStrategy.lowPower(Duration.ofMillis(1))).build();
    for (int i = 1; i <= 5; i++) {
      int n = i;
      real.runLater(Duration.ofNanos(n * 100_000L), () -> log.add("t" + n));
    }

    real.run();

    log.assertTaken("t1", "t2", "t3", "t4", "t5");
  }

  @Test
  void build_withoutName_eachLoopNamedApart() {
    Loop first = Loop.builder().virtualTime().build();
    Loop second = Loop.create();

    assertThat(first.name()).matches("loop-\\d+");
    assertThat(second.name()).matches("loop-\\d+");
    long a = Long.parseLong(first.name().substring("loop-".length()));
    long b = Long.parseLong(second.name().substring("loop-".length()));
    assertThat(b).as("numbered in the order they are built").isGreaterThan(a);
    assertThat(Loop.builder().name("robot").build().name()).isEqualTo("robot");
  }

  @Test
  void runLater_delayLongerThanALongOfNanoseconds_startsAtTheLastNanosecond() {
    Loop virtual = Loop.builder().virtualTime().build();
    virtual.runLater(Duration.ofDays(365L * 1000), () -> log.add("at " + virtual.nanoTime()));

    virtual.run();

    log.assertTaken("at " + Long.MAX_VALUE);
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void stats_whileTheLoopIdles_countTheIdlingSoFar() throws Exception {
    Loop real = Loop.create();
    real.runLater(Duration.ofHours(1), () -> {});
    Thread driver = Thread.ofPlatform().start(real::run);
    long deadline = System.nanoTime() + 10_000_000_000L;
    Duration seen = Duration.ZERO;
    while (seen.isZero() && System.nanoTime() < deadline) { // the idling counts as it goes
      seen = real.stats().idleTime();
      Thread.onSpinWait();
    }

    real.stop();
    driver.join();

    assertThat(seen).as("idle time read while idle, an hour before the idling ends").isPositive();
    assertThat(real.stats().idleTime()).isGreaterThanOrEqualTo(seen);
  }

  @Test
  void build_tickerVirtualTimeCannotMove_refusedTakingNoLoopNumber() {
    Loop before = Loop.create();
    Loop.Builder refused = Loop.builder().virtualTime().ticker(Ticker.system());

    assertThatThrownBy(refused::build).isInstanceOf(IllegalStateException.class);

    // Before: the refused build had taken the next number, and the next loop skipped it.
    long n = Long.parseLong(before.name().substring("loop-".length()));
    assertThat(Loop.create().name()).isEqualTo("loop-" + (n + 1));
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void run_virtualTimeZeroDelayTimersSetAgainAndAgain_readyTaskStillRunsEachPass() {
    Loop v = Loop.builder().virtualTime().build();
    Event ready = Event.create("ready");
    java.util.concurrent.atomic.AtomicInteger polls =
        new java.util.concurrent.atomic.AtomicInteger();
    v.addTask("poller", () -> {
      // Each poll is a timer with no delay, set while the pass takes its due timers.
      while (!ready.await(Duration.ZERO) && polls.incrementAndGet() < 1000) {
        // poll again
      }
    });
    v.addTask("setter", () -> {
      Tasko.yieldNow(); // ready again at the next pass
      ready.set();
    });

    v.run();

    // Before: the first pass ran all 1,000 polls, the setter waiting for it to end.
    assertThat(polls.get()).isLessThan(5);
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void runLater_zeroDelayChainOnVirtualTime_yieldingTaskRunsBetweenLinks() {
    Loop v = Loop.builder().virtualTime().build();
    int[] links = {0};
    int[] yields = {0};
    boolean[] done = {false};
    v.addTask("yielder", () -> {
      while (!done[0]) {
        yields[0]++;
        Tasko.yieldNow();
      }
    });
    TaskBody[] link = new TaskBody[1];
    link[0] = () -> {
      if (++links[0] < 100) {
        v.runLater(Duration.ZERO, link[0]);
      } else {
        done[0] = true;
      }
    };
    v.runLater(Duration.ZERO, link[0]);

    v.run();

    // Before: the chain ran in one timer phase; the yielder had one turn for all 100 links.
    assertThat(yields[0]).isGreaterThanOrEqualTo(99);
  }
}
