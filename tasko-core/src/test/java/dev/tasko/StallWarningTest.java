package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Stall warnings are on by default, at 100 ms of real time. These tests hold the processor for
 * real (that is what a stall is), so they take a few hundred milliseconds each.
 */
@Tag("realtime")
class StallWarningTest {

  @Test
  void build_default_threadSleepOnTheLoopWarnsWithLineAndFix() throws Exception {
    CountDownLatch warned = new CountDownLatch(1);
    try (LogCapture log = new LogCapture(Level.INFO, r -> {
      if (r.getLevel() == Level.WARNING) {
        warned.countDown();
      }
    })) {
      Loop loop = Loop.builder().name("greenhouse").virtualTime().build(); // no stallWarning()
      loop.addTask("fan", () -> {
        while (warned.getCount() > 0) {
          Thread.sleep(10); // the newcomer's mistake this warning is for
        }
      });

      loop.run();

      assertThat(log.messages(Level.WARNING)).singleElement().asString()
          .startsWith("loop 'greenhouse': task 'fan' has held the processor for ")
          .contains("It is at dev.tasko.StallWarningTest.lambda$")
          .contains("in Thread.sleep, which holds the loop: use Tasko.sleep instead");
    }
  }

  @Test
  void noStallWarning_taskBlocksLong_nothingLogged() {
    try (LogCapture log = new LogCapture(Level.INFO, r -> {})) {
      Loop loop = Loop.builder().noStallWarning().build();
      loop.addTask("blocker", () -> Thread.sleep(300)); // blocks on purpose: no warning wanted

      loop.run();

      assertThat(log.messages(Level.WARNING)).isEmpty();
    }
  }

  @Test
  void build_default_taskInitialisingAClassLong_notReported() {
    try (LogCapture log = new LogCapture(Level.INFO, r -> {})) {
      Loop loop = Loop.builder().virtualTime().build();
      loop.addTask("first-call", SlowToInitialise::touch); // 300 ms in a static initialiser

      loop.run();

      assertThat(log.messages(Level.WARNING)).isEmpty();
    }
  }

  /** Stands for a first call that loads slow classes (the locale data of a first printf, say). */
  private static final class SlowToInitialise {
    static {
      busyFor(300);
    }

    static void touch() {}
  }

  @Test
  void stallWarning_taskRunsOnBrieflyAfterALongClassInitialisation_notReported() {
    try (LogCapture log = new LogCapture(Level.INFO, r -> {})) {
      Loop loop = Loop.builder().stallWarning(Duration.ofMillis(100)).build();
      loop.addTask("first-call", () -> {
        SlowerToInitialise.touch(); // 290 ms in a static initialiser: not the program's doing
        busyFor(40); // then 40 ms of its own, under the 100 ms threshold
      });

      loop.run();

      // Counted from the last check that saw it initialising (at most 25 ms before the end of the
      // initialiser), the task's own time stays under 100 ms. Counted from a sighting up to
      // 100 ms old, as the checks used to, it would be reported.
      assertThat(log.messages(Level.WARNING)).isEmpty();
    }
  }

  /** Like {@link SlowToInitialise}, for a test of its own (a class initialises once). */
  private static final class SlowerToInitialise {
    static {
      busyFor(290);
    }

    static void touch() {}
  }

  @Test
  void stallWarning_zeroOrNegative_rejectedPointingToNoStallWarning() {
    assertThatThrownBy(() -> Loop.builder().stallWarning(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("threshold <= 0: PT0S (noStallWarning() turns stall warnings off)");
    assertThatThrownBy(() -> Loop.builder().stallWarning(null))
        .isInstanceOf(NullPointerException.class).hasMessage("threshold == null");
  }

  @Test
  void stallWarning_belowOneMillisecond_rejected() {
    // Before: accepted; the driving thread, which looks every quarter threshold, then woke every
    // few hundred nanoseconds, and below 4 ns parked for no time at all: a busy-wait.
    assertThatThrownBy(() -> Loop.builder().stallWarning(Duration.ofNanos(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("threshold < 1 ms: PT0.000000001S");
    assertThatThrownBy(() -> Loop.builder().stallWarning(Duration.ofNanos(999_999)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("threshold < 1 ms: PT0.000999999S");
    assertThat(Loop.builder().stallWarning(Duration.ofMillis(1)).stallNanos).isEqualTo(1_000_000);
  }

  /** Keeps the calling thread busy for {@code millis}: the workload of a slow first call. */
  private static void busyFor(long millis) {
    long end = System.nanoTime() + millis * 1_000_000;
    while (System.nanoTime() < end) {
      Thread.onSpinWait();
    }
  }

  @Test
  void stallWarning_taskThatStalledThenEnded_itsResultIsNotKept() {
    Loop loop = Loop.builder().name("stall").stallWarning(Duration.ofMillis(20)).build();
    java.lang.ref.WeakReference<?>[] result = new java.lang.ref.WeakReference<?>[1];
    CountDownLatch warned = new CountDownLatch(1);
    loop.addTask("hog", () -> {
      while (warned.getCount() > 0) {
        Thread.onSpinWait(); // holds the processor until the stall is reported
      }
      byte[] big = new byte[10_000_000];
      result[0] = new java.lang.ref.WeakReference<>(big);
      return big;
    });
    try (LogCapture logs = new LogCapture(Level.WARNING, r -> warned.countDown())) {
      loop.run();
      assertThat(logs.messages(Level.WARNING)).singleElement().asString().contains("'hog'");
    }

    for (int i = 0; i < 5 && result[0].get() != null; i++) {
      System.gc();
    }

    // Before: the watchdog kept the last task it warned about, and with it the task's result.
    assertThat(result[0].get()).as("the ended task's result").isNull();
    java.lang.ref.Reference.reachabilityFence(loop); // the loop lives on, as a program's does
  }

  @Test
  void stallWarning_callbackScheduleHoldingATasksThread_offersNoWaitingCall() {
    Loop v = Loop.builder().name("g").virtualTime().stallWarning(Duration.ofMillis(50)).build();
    CountDownLatch warned = new CountDownLatch(1);
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = v.scheduleCallback("cb", Duration.ofMillis(10), () -> {
      if (Thread.currentThread().isVirtual()) { // its run at 10 ms, on the worker's thread
        while (warned.getCount() > 0) {
          Thread.onSpinWait(); // holds the processor until the stall is reported
        }
        s[0].stop();
      }
    });
    v.addTask("worker", () -> Tasko.sleep(Duration.ofMillis(50)));

    try (LogCapture logs = new LogCapture(Level.WARNING, r -> warned.countDown())) {
      v.run();

      // Before: "wait with Tasko.sleep" or "call Tasko.yieldNow()", which throw in a callback.
      assertThat(logs.messages(Level.WARNING)).singleElement().asString()
          .startsWith("loop 'g': task 'cb' has held the processor for ")
          .contains("keep each run of a callback schedule short")
          .doesNotContain("wait with Tasko.sleep");
    }
  }

}
