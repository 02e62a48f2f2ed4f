package dev.tasko.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tasko.ScheduledTask;
import dev.tasko.Tasko;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Test classes that {@link TaskoExtensionTest} runs through JUnit's engine test kit, to see what
 * the extension reports; some fail on purpose. Each is {@code @Disabled} so that no other run
 * picks them up (a {@code -Dtest=} pattern would), and the engine test kit runs them with that
 * condition turned off.
 */
final class ExtensionSamples {
  static final String RUN_BY = "run by TaskoExtensionTest through the engine test kit";

  private ExtensionSamples() {}

  /** A test that cleans up after itself, through a parameter. */
  @Disabled(RUN_BY)
  @ExtendWith(TaskoExtension.class)
  static class Clean {
    @Test
    void schedule_cancelled_passes(TestLoop test) {
      ScheduledTask tick = test.loop().schedule(Duration.ofSeconds(1), () -> {});
      test.runFor(Duration.ofSeconds(3));
      assertThat(tick.stats().runs()).isEqualTo(4);
      tick.cancel();
      test.runUntilIdle();
    }
  }

  /** A test that leaves a schedule running. */
  @Disabled(RUN_BY)
  @ExtendWith(TaskoExtension.class)
  static class LeavesScheduleRunning {
    @Test
    void blink(TestLoop test) {
      test.loop().schedule("blinker", Duration.ofSeconds(1), () -> {});
      test.runFor(Duration.ofSeconds(3));
    }
  }

  /** A test whose task fails unobserved, in a field registered as an extension. */
  @Disabled(RUN_BY)
  static class FailureUnobserved {
    @RegisterExtension final TestLoop test = new TestLoop();

    @Test
    void read() {
      test.loop().addTask("reader", () -> {
        Tasko.sleep(Duration.ofSeconds(1));
        throw new IllegalStateException("sensor unplugged");
      });
      test.runFor(Duration.ofSeconds(2));
    }
  }

  /** The same loop reaches @BeforeEach, the test and @AfterEach; @AfterEach cleans up. */
  @Disabled(RUN_BY)
  @ExtendWith(TaskoExtension.class)
  static class SharedWithLifecycleMethods {
    static TestLoop seenBefore;
    static TestLoop seenInTest;
    private ScheduledTask tick;

    @BeforeEach
    void start(TestLoop test) {
      seenBefore = test;
      tick = test.loop().schedule(Duration.ofSeconds(1), () -> {});
    }

    @Test
    void run(TestLoop test) {
      seenInTest = test;
      test.runFor(Duration.ofSeconds(1));
    }

    @AfterEach
    void stop(TestLoop test) {
      tick.cancel();
      test.runUntilIdle();
    }
  }

  /** Asks for a TestLoop in its constructor, which all its tests would share. */
  @Disabled(RUN_BY)
  @ExtendWith(TaskoExtension.class)
  static class LoopInConstructor {
    final TestLoop test;

    LoopInConstructor(TestLoop test) {
      this.test = test;
    }

    @Test
    void anything() {
      test.runUntilIdle();
    }
  }

  /**
   * Times out on a thread of its own while a task keeps virtual time still; JUnit leaves that
   * thread running.
   */
  @Disabled(RUN_BY)
  @ExtendWith(TaskoExtension.class)
  static class TimesOutOnItsOwnThread {
    @Test
    @Timeout(value = 1, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void busy(TestLoop test) {
      test.loop().addTask("spinner", () -> {
        while (true) {
          Tasko.yieldNow();
        }
      });
      test.runFor(Duration.ofSeconds(1));
    }
  }
}
