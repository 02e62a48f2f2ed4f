package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the loop tells a developer: debug traces, stall warnings. */
class LoopDiagnosticsTest {

  @Test
  void debugLogging_tracesPassesTasksAndIdle() {
    try (LogCapture log = new LogCapture(Level.FINE, r -> {})) {
      Loop loop = Loop.builder().name("traced").virtualTime().build();
      loop.addTask("sensor", () -> Tasko.sleep(Duration.ofSeconds(1)));

      loop.run();

      assertThat(log.messages(Level.FINE)).containsSubsequence("traced: added task 'sensor'",
          "traced: pass 1: 1 ready, 0 sleeping, 1 tasks",
          "traced: pass 2: 0 ready, 1 sleeping, 1 tasks",
          "traced: task 'sensor' ended: SUCCEEDED");
    }
  }

  @Test
  void debugLogging_off_tracesNothing() {
    try (LogCapture log = new LogCapture(Level.INFO, r -> {})) {
      // No stall warnings either: a pause of the machine during the task's turn would log one.
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      loop.addTask(() -> Tasko.sleep(Duration.ofSeconds(1)));
      loop.run();
      assertThat(log.messages(Level.ALL)).isEmpty();
    }
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void stallWarning_taskHoldsProcessorTooLong_warnsWithNameAndStack() throws Exception {
    CountDownLatch warned = new CountDownLatch(1);
    try (LogCapture log = new LogCapture(Level.INFO, r -> {
      if (r.getLevel() == Level.WARNING) {
        warned.countDown();
      }
    })) {
      Loop loop = Loop.builder().name("robot").stallWarning(Duration.ofMillis(20)).build();
      loop.addTask("hog", () -> {
        warned.await(); // blocks the loop (what the warning is for) until the warning is out
      });

      loop.run();

      assertThat(log.messages(Level.WARNING)).singleElement().asString()
          .startsWith("loop 'robot': task 'hog' has held the processor for ")
          .contains("without reaching a suspension point")
          .contains("It is at dev.tasko.LoopDiagnosticsTest.lambda$")
          .contains("in a call that has not returned "
              + "(java.util.concurrent.CountDownLatch.await), most likely a blocking call")
          .contains("move blocking work off the loop")
          .contains("at java.base/java.util.concurrent.CountDownLatch.await");
    }
  }

  @Test
  void sleep_loneTaskGetsItsTurnBackWithoutSwitch_stallClockRestarts() {
    // A task alone on its loop gets its turn back without a hand-off. That is a new turn all the
    // same: were its start not renewed, a lone task sleeping in a loop for 100 ms of real time
    // (an hour of virtual time, say) would be reported as a stall.
    List<Long> turnStarts = new ArrayList<>();
    Loop loop = Loop.builder().virtualTime().build();
    loop.addTask("alone", () -> {
      StallWatchdog watchdog = loop.runner.watchdog;
      turnStarts.add(watchdog.turnStartedAt());
      Tasko.sleep(Duration.ofSeconds(1));
      turnStarts.add(watchdog.turnStartedAt());
    });

    loop.run();

    assertThat(turnStarts.get(1)).isGreaterThan(turnStarts.get(0));
  }

  @Test
  void logs_failureAndForgottenLease_nameLoopTaskAndDevice() {
    try (LogCapture log = new LogCapture(Level.INFO, r -> {})) {
      Loop loop = Loop.builder().virtualTime().failureHandler(FailureHandler.logAndContinue())
          .build();
      ManagedResource<String, Object> bus = ManagedResource.of("i2c-1", "bus", c -> {}, c -> {});
      loop.addTask("fan", () -> {
        throw new IllegalStateException("relay stuck");
      });
      loop.addTask("reader", () -> {
        bus.handle("0x44", null).acquire(); // never closed
      });

      loop.run();

      assertThat(log.messages(Level.INFO)).containsSubsequence(
          "task 'fan' of loop '" + loop.name() + "' failed; the loop goes on",
          "loop '" + loop.name() + "': task 'reader' ended holding 0x44 on i2c-1; releasing it");
    }
  }
}
