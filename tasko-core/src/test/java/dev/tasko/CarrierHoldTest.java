package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class CarrierHoldTest {
  private static final long LAPSE = CarrierHold.LAPSE_NANOS;
  private final CarrierHold hold = new CarrierHold();
  private final Object loopA = new Object();
  private final Object loopB = new Object();
  /** An instant far from the one the hold was made at: its "nothing held yet" is long over. */
  private final long t0 = System.nanoTime() + 10 * LAPSE;

  @Test
  void holds_nothingAsked_false() {
    assertThat(hold.holds(t0)).isFalse();
  }

  @Test
  void renew_oneLoop_heldUntilTheLapse() {
    assertThat(hold.renew(loopA, t0)).isTrue();

    assertThat(hold.holds(t0)).isTrue();
    assertThat(hold.holds(t0 + LAPSE - 1)).isTrue();
    assertThat(hold.holds(t0 + LAPSE)).isFalse();
  }

  @Test
  void renew_again_extendsTheHold() {
    hold.renew(loopA, t0);

    hold.renew(loopA, t0 + LAPSE / 2);

    assertThat(hold.holds(t0 + LAPSE)).isTrue();
    assertThat(hold.holds(t0 + LAPSE / 2 + LAPSE)).isFalse();
  }

  @Test
  void renew_twoLoopsWithinTheLapse_refusedAndNothingHeld() {
    // Two busy loops would share one carrier while the other spun.
    assertThat(hold.renew(loopA, t0)).isTrue();

    assertThat(hold.renew(loopB, t0 + 10)).isFalse();

    assertThat(hold.holds(t0 + 10)).isFalse();
    assertThat(hold.renew(loopA, t0 + 20)).as("the first loop, while both ask").isFalse();
  }

  @Test
  void renew_otherLoopStoppedAsking_heldAgainALapseAfterTheTwoLastAsked() {
    hold.renew(loopA, t0);
    hold.renew(loopB, t0 + 10); // B's last ask
    long bothLastAsked = t0 + 10 + LAPSE / 2;

    assertThat(hold.renew(loopA, bothLastAsked)).as("within a lapse of B's ask").isFalse();
    assertThat(hold.renew(loopA, bothLastAsked + LAPSE - 1)).isFalse();
    assertThat(hold.renew(loopA, bothLastAsked + LAPSE)).isTrue();
    assertThat(hold.holds(bothLastAsked + LAPSE)).isTrue();
  }

  @Test
  void renew_otherLoopAskedLongAgo_held() {
    hold.renew(loopB, t0);

    assertThat(hold.renew(loopA, t0 + LAPSE)).isTrue();
  }

  @Test
  void release_byTheLastLoopToAsk_endsTheHoldAtOnce() {
    hold.renew(loopA, t0);

    hold.release(loopA, t0 + 5);

    assertThat(hold.holds(t0 + 5)).isFalse();
  }

  @Test
  void renew_justAfterAnotherLoopReleased_held() {
    // A loop that ends and one that starts at once (one test after another) are not two loops
    // switching at the same time.
    hold.renew(loopA, t0);
    hold.release(loopA, t0 + 5);

    assertThat(hold.renew(loopB, t0 + 10)).isTrue();
    assertThat(hold.holds(t0 + 10)).isTrue();
  }

  @Test
  void release_byAnotherLoop_keepsTheHold() {
    hold.renew(loopA, t0);

    hold.release(loopB, t0 + 5);

    assertThat(hold.holds(t0 + 5)).isTrue();
  }

  @Test
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void renew_spinningThreadFailedToStart_theNextRequestStartsAnother() throws Exception {
    List<Thread> made = new ArrayList<>();
    CountDownLatch spinning = new CountDownLatch(1);
    CarrierHold failingOnce = new CarrierHold(body -> {
      Thread t = made.isEmpty() ? RunnerHandOffOverflowTest.threadThatCannotStart(body)
          : Thread.ofVirtual().unstarted(() -> {
            spinning.countDown();
            body.run();
          });
      made.add(t);
      return t;
    });
    long now = System.nanoTime();
    assertThatThrownBy(() -> failingOnce.renew(loopA, now)).isInstanceOf(OutOfMemoryError.class);

    failingOnce.renew(loopA, System.nanoTime());

    // The old code kept the thread that never started, and never made another.
    assertThat(made).hasSize(2);
    spinning.await();
  }

  /**
   * A loop for which every rate of hand-offs counts as fast: whether a rate is fast enough on the
   * real clock depends on the machine (interpreted code, other processes), which a test must not.
   */
  private static Loop loopAskingAtAnyRate() {
    Runner.holdTurnNanosForTests = Long.MAX_VALUE / (1 << 20);
    try {
      return Loop.builder().noStallWarning().build();
    } finally {
      Runner.holdTurnNanosForTests = Runner.HOLD_TURN_NANOS;
    }
  }

  @Test
  @Tag("realtime") // tasks switching on the JDK's two carriers
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void loop_tasksSwitchingFastOnTwoCarriers_holdsTheOtherCarrierUntilTheLoopIdles() {
    assumeTrue(Runner.carriers() == 2, "the carrier is held only with two carriers");
    Loop loop = loopAskingAtAnyRate();
    List<Boolean> seen = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      loop.addTask(() -> {
        for (int i = 0; i < 1_000; i++) {
          Tasko.yieldNow();
        }
        seen.add(loop.runner.holdsCarrier());
      });
    }

    loop.run();

    // 4,000 hand-offs: asked at the 256th and every 128 after, the last time in the final pass
    // of the four tasks; granted, as no other loop asks.
    assertThat(seen).containsExactly(true, true, true, true);
    assertThat(loop.runner.holdsCarrier()).as("after run()").isFalse();
    assertThat(CarrierHold.JVM.holds(System.nanoTime())).as("after run()").isFalse();
  }

  @Test
  @Tag("realtime") // tasks whose turns take the real clock's time
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void loop_turnsLongerThanASwitch_neverAsksForTheCarrier() {
    assumeTrue(Runner.carriers() == 2, "the carrier is held only with two carriers");
    Loop loop = Loop.builder().noStallWarning().build();
    boolean[] held = {false};
    for (int t = 0; t < 4; t++) {
      loop.addTask(() -> {
        for (int i = 0; i < 500; i++) {
          long end = System.nanoTime() + 20_000; // 20 µs of work a turn
          while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
          }
          held[0] |= loop.runner.holdsCarrier();
          Tasko.yieldNow();
        }
      });
    }

    loop.run();

    assertThat(held[0]).isFalse();
  }

  @Test
  @Tag("realtime") // sleeps on the real clock, beside tasks switching on the JDK's two carriers
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void loop_switchingFastWhileBlockingWorkSleeps_theWorkWakesPromptly() {
    assumeTrue(Runner.carriers() == 2, "the carrier is held only with two carriers");
    Loop loop = loopAskingAtAnyRate();
    AtomicBoolean done = new AtomicBoolean();
    AtomicBoolean seenHeld = new AtomicBoolean();
    for (int t = 0; t < 4; t++) {
      loop.addTask(() -> {
        while (!done.get()) {
          Tasko.yieldNow();
        }
      });
    }
    long[] longestWake = {0};
    loop.addTask(() -> {
      try {
        longestWake[0] = Tasko.blocking(() -> {
          long longest = 0;
          for (int i = 0; i < 300; i++) {
            long start = System.nanoTime();
            Thread.sleep(1); // woken by the JDK's timer thread: from outside the carriers
            longest = Math.max(longest, System.nanoTime() - start);
            seenHeld.compareAndSet(false, CarrierHold.JVM.holds(System.nanoTime()));
          }
          return longest;
        });
      } finally {
        done.set(true);
      }
    });

    loop.run();

    // The control: the carrier was held for the yielding tasks while the work slept.
    assertThat(seenHeld).isTrue();
    // A sleep of 1 ms took a few at worst on a busy machine; with the spinning thread yielding
    // its carrier (it took it straight back), the longest took 0.5 to 1.3 s.
    assertThat(Duration.ofNanos(longestWake[0])).isLessThan(Duration.ofMillis(200));
  }
}
