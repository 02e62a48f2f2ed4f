package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ManualTickerTest {

  @Test
  void advance_adds() {
    ManualTicker ticker = new ManualTicker();

    ticker.advance(Duration.ofSeconds(2));
    ticker.advance(Duration.ofMillis(5));

    assertThat(ticker.read()).isEqualTo(2_005_000_000L);
  }

  @Test
  void advance_pastTheLongestTime_rejectedInsteadOfWrapping() {
    ManualTicker ticker = new ManualTicker();
    ticker.advance(Duration.ofDays(365L * 200));

    // 400 years: past Long.MAX_VALUE nanoseconds, where the time used to wrap to before zero
    assertThatThrownBy(() -> ticker.advance(Duration.ofDays(365L * 200)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration would move the time past Long.MAX_VALUE nanoseconds: PT1752000H"
            + " from PT1752000H");
    assertThatThrownBy(() -> ticker.advance(ChronoUnit.FOREVER.getDuration()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(ticker.read()).isEqualTo(Duration.ofDays(365L * 200).toNanos());
    ticker.advance(Duration.ofNanos(Long.MAX_VALUE - ticker.read())); // up to the last one
    assertThat(ticker.read()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void advance_negative_rejectedAndTimeKept() {
    ManualTicker ticker = new ManualTicker();
    ticker.advance(Duration.ofSeconds(1));

    assertThatThrownBy(() -> ticker.advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("duration < 0: PT-1S");
    assertThat(ticker.read()).isEqualTo(1_000_000_000L);
  }

  @Test
  @Timeout(10)
  void advanceTo_byALoopOnVirtualTime_wakesAnotherLoopIdleOnTheSameTicker() throws Exception {
    ManualTicker shared = new ManualTicker();
    Loop manual = Loop.builder().name("manual").ticker(shared).build();
    Loop virtual = Loop.builder().name("virtual").ticker(shared).virtualTime().build();
    CountDownLatch woke = new CountDownLatch(1);
    manual.addTask(() -> {
      Tasko.sleep(Duration.ofSeconds(1));
      woke.countDown();
    });
    Thread driver = Thread.ofPlatform().daemon().start(manual::run);
    awaitIdle(driver); // until the clock reaches its deadline, which only the ticker moves
    virtual.addTask(() -> Tasko.sleep(Duration.ofSeconds(5)));

    virtual.run(); // jumps the shared clock to 5 s

    // Before: only advance() woke the loops on the ticker; a virtual loop's jump woke none.
    assertThat(woke.await(5, TimeUnit.SECONDS)).as("the manual loop's sleeper woke").isTrue();
    driver.join(5_000);
    assertThat(driver.isAlive()).isFalse();
  }

  /** Waits until {@code driver} parks in its loop's idle wait. */
  private static void awaitIdle(Thread driver) {
    while (!(driver.getState() == Thread.State.WAITING
        && Arrays.stream(driver.getStackTrace()).anyMatch(f -> f.getMethodName().equals("idle")))) {
      Thread.onSpinWait();
    }
  }

  @Test
  @Timeout(10)
  void advance_justBeforeALoopWithSlackIdles_theDueTimerStillFires() throws Exception {
    // From a hostile review: with lowPower(slack), the loop checked the clock against the latest
    // timer within the slack; moved past the earliest just before, it parked with no timeout, and
    // the due timer waited for the next advance.
    ManualTicker ticker = new ManualTicker();
    java.util.concurrent.atomic.AtomicBoolean advanced =
        new java.util.concurrent.atomic.AtomicBoolean();
    try (LogCapture hook = new LogCapture(java.util.logging.Level.FINE, r -> {
      // Logged by the driving thread as it is about to idle: the advance lands in that window.
      if (String.valueOf(r.getMessage()).contains("idle until")
          && advanced.compareAndSet(false, true)) {
        ticker.advance(Duration.ofMillis(1));
      }
    })) {
      Loop loop = Loop.builder().name("slack").ticker(ticker)
          .idleStrategy(IdleStrategy.lowPower(Duration.ofMillis(10))).build();
      CountDownLatch aRan = new CountDownLatch(1);
      loop.runLater("a", Duration.ofMillis(1), aRan::countDown);
      loop.runLater("b", Duration.ofMillis(5), () -> {});
      Thread driver = new Thread(loop::run, "driver");
      driver.start();
      try {
        assertThat(aRan.await(5, TimeUnit.SECONDS)).as("the timer due at 1 ms ran").isTrue();
      } finally {
        ticker.advance(Duration.ofMillis(10)); // lets the loop end either way
        driver.join();
      }
    }
  }
}
