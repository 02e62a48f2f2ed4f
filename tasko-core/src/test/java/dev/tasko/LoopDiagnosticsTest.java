package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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
      Loop loop = Loop.builder().virtualTime().build();
      loop.addTask(() -> Tasko.sleep(Duration.ofSeconds(1)));
      loop.run();
      assertThat(log.messages(Level.ALL)).isEmpty();
    }
  }

  @Test
  @Tag("realtime")
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
          .startsWith("loop 'robot': task 'hog' has held the processor for PT0.0")
          .contains("without reaching a suspension point")
          .contains("at java.base/java.util.concurrent.CountDownLatch.await");
    }
  }
}
