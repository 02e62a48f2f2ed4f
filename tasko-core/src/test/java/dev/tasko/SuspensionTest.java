package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tasko.testsupport.EventLog;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class SuspensionTest {
  private final ManualTicker ticker = new ManualTicker();
  private final Loop loop = Loop.builder().ticker(ticker).build();
  private final EventLog log = new EventLog();

  @Test
  void await_parksUntilResume_taskIgnoredMeanwhile() {
    Suspension[] s = new Suspension[1];
    loop.addTask("waiter", () -> {
      s[0] = Tasko.suspend();
      log.add("waiting");
      s[0].await();
      log.add("resumed");
    });
    loop.step();
    log.assertTaken("waiting");

    loop.step();
    loop.step();
    log.assertTaken();

    loop.addTask(() -> s[0].resume());
    loop.step(); // the resumer runs; the waiter is ready for the next pass
    log.assertTaken();
    loop.step();
    log.assertTaken("resumed");
  }

  @Test
  void resume_beforeAwait_isNotLost_awaitStillYieldsOnce() {
    loop.addTask(() -> {
      Suspension s = Tasko.suspend();
      assertThat(s.resume()).isTrue();
      log.add("before await");
      s.await();
      log.add("after await");
    });
    loop.addTask(() -> {
      log.add("other");
      Tasko.yieldNow();
      log.add("other again");
    });

    loop.step();
    log.assertTaken("before await", "other");
    loop.step();
    log.assertTaken("after await", "other again");
  }

  @Test
  void resume_twice_onlyFirstCounts() {
    loop.addTask(() -> {
      Suspension s = Tasko.suspend();
      assertThat(s.resume()).isTrue();
      assertThat(s.resume()).isFalse();
      assertThat(s.isResumed()).isTrue();
      s.await();
      log.add("done");
    });
    while (loop.step()) {
      // step until done
    }
    log.assertTaken("done");
  }

  @Test
  void await_byAnotherTask_throwsIllegalState() {
    Suspension[] s = new Suspension[1];
    loop.addTask(() -> {
      s[0] = Tasko.suspend();
      s[0].await();
    });
    loop.addTask(() -> {
      Tasko.yieldNow();
      assertThatThrownBy(() -> s[0].await()).isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("await() must be called by the task that made this suspension"
              + " ('task-1')");
      s[0].resume();
      log.add("checked");
    });
    while (loop.step()) {
      // step until done
    }
    log.assertTaken("checked");
  }

  @Test
  void suspend_outsideTask_throwsIllegalState() {
    assertThatThrownBy(Tasko::suspend).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("suspend() must be called from a task of a running loop; current"
            + " thread:");
  }

  @Test
  void awaitTimeout_noResume_returnsFalseAtDeadline_laterResumeDoesNothing() {
    Loop v = Loop.builder().virtualTime().build();
    Suspension[] s = new Suspension[1];
    v.addTask(() -> {
      s[0] = Tasko.suspend("an edge");
      log.add("resumed=" + s[0].await(Duration.ofMillis(250)) + "@" + v.nanoTime() / 1_000_000);
      assertThat(s[0].resume()).isFalse();
    });

    v.run();

    log.assertTaken("resumed=false@250");
  }

  @Test
  void awaitTimeout_resumedFirst_returnsTrueAndTimerIsGone() {
    Loop v = Loop.builder().virtualTime().build();
    Suspension[] s = new Suspension[1];
    v.addTask(() -> {
      s[0] = Tasko.suspend("an edge");
      log.add("resumed=" + s[0].await(Duration.ofHours(1)) + "@" + v.nanoTime() / 1_000_000);
    });
    v.runLater(Duration.ofMillis(10), () -> s[0].resume());

    v.run();

    log.assertTaken("resumed=true@10");
    assertThat(v.nanoTime()).as("the hour-long timeout left no timer behind")
        .isEqualTo(10_000_000L);
  }

  @Test
  void awaitTimeout_negative_rejected() {
    loop.addTask(() -> {
      Suspension s = Tasko.suspend();
      assertThatThrownBy(() -> s.await(Duration.ofMillis(-5)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("timeout < 0: PT-0.005S");
      log.add("checked");
    });
    loop.step();
    log.assertTaken("checked");
  }

  @Test
  void cancel_whileAwaiting_throwsCancellation_laterResumeDoesNothing() {
    Suspension[] s = new Suspension[1];
    Task<Void> t = loop.addTask(() -> {
      s[0] = Tasko.suspend();
      try {
        s[0].await();
      } catch (CancellationException e) {
        log.add("cancelled");
        throw e;
      }
    });
    loop.step();
    t.cancel();
    loop.step();

    log.assertTaken("cancelled");
    assertThat(s[0].resume()).isFalse();
    assertThat(t.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void resume_fromAnotherThread_wakesIdleLoop() throws Exception {
    Loop real = Loop.create();
    CountDownLatch made = new CountDownLatch(1);
    Suspension[] s = new Suspension[1];
    real.addTask(() -> {
      s[0] = Tasko.suspend("interrupt");
      made.countDown();
      s[0].await();
      log.add("woken");
    });
    Thread interrupt = Thread.ofPlatform().start(() -> {
      try {
        made.await();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      s[0].resume();
    });

    real.run(); // idles until the other thread resumes the task

    interrupt.join();
    log.assertTaken("woken");
  }

  @Test
  void await_timeoutLongerThanALongOfNanoseconds_waitsForTheResume() {
    Loop virtual = Loop.builder().virtualTime().build();
    Suspension[] s = new Suspension[1];
    virtual.addTask(() -> {
      s[0] = Tasko.suspend();
      log.add("resumed: " + s[0].await(ChronoUnit.FOREVER.getDuration()));
    });
    virtual.runLater(Duration.ofDays(365L * 200), () -> s[0].resume());

    virtual.run();

    log.assertTaken("resumed: true");
  }

  @Test
  void reserve_pendingSuspension_noCancelEndsItAndTheResumeStillCounts() {
    Task<Void> t = loop.addTask(() -> {});
    Suspension s = new Suspension(t, "a joined task", /* external= */ true);

    assertThat(s.reserve()).isTrue();

    assertThat(s.cancel()).isFalse();
    assertThat(s.isPending()).isTrue();
    assertThat(s.reserve()).as("already reserved").isTrue();
    assertThat(s.resume()).isTrue();
    assertThat(s.isResumed()).isTrue();
    assertThat(s.reserve()).as("resumed").isFalse();
  }

  @Test
  void reserve_whileTheTaskAwaits_cancelLeavesItWaitingForTheResume() {
    Suspension[] s = new Suspension[1];
    Task<Void> joiner = loop.addTask("joiner", () -> {
      s[0] = new Suspension(Tasko.currentTask(), "a joined task", /* external= */ true);
      Traps.awaitResumeWins(s[0]);
      log.add("resumed");
      Tasko.yieldNow(); // the cancellation comes here
      log.add("not reached");
    });
    loop.step(); // awaiting
    assertThat(s[0].reserve()).isTrue();

    joiner.cancel();
    loop.step();
    assertThat(joiner.state()).isEqualTo(Task.State.WAITING);

    s[0].resume();
    loop.step();
    loop.step();
    log.assertTaken("resumed");
    assertThat(joiner.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void awaitResumeWins_resumedBeforeTheWaitWithACancelPending_returnsAndCancelsAtTheNextPoint() {
    // A joined task of another loop ended, and resumed its joiner with its failure, between the
    // joiner's registration and its wait, while the joiner was being cancelled: the resume wins.
    Task<Void> joiner = loop.addTask("joiner", () -> {
      Task<?> self = Tasko.currentTask();
      Suspension s = new Suspension(self, "a joined task", /* external= */ true);
      s.reserve(); // the joined task counted on this joiner to see its failure
      self.cancel();
      s.resume();
      Traps.awaitResumeWins(s);
      log.add("resumed");
      Tasko.yieldNow();
      log.add("not reached");
    });

    loop.run();

    log.assertTaken("resumed");
    assertThat(joiner.state()).isEqualTo(Task.State.CANCELLED);
  }
}
