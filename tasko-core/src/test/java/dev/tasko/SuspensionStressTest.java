package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Real threads racing the loop. Kept short (about a second), so {@code mvn verify} runs it; the
 * deterministic suite alone leaves it out ({@code -DexcludedGroups=realtime,stress}).
 */
@Tag("stress")
class SuspensionStressTest {

  @Test
  void resume_fromManyThreadsRacingTimeouts_taskNeverRunsTwice() throws Exception {
    // A stress of the resume/timeout race: each round, another thread resumes while the timeout is
    // also about to fire. Whatever wins, the task must wake exactly once.
    Loop real = Loop.create();
    int rounds = 2000;
    int[] wakes = {0};
    real.addTask(() -> {
      for (int i = 0; i < rounds; i++) {
        Suspension s = Tasko.suspend("race");
        Thread.ofPlatform().start(s::resume);
        s.await(Duration.ofNanos(i % 50 * 1000));
        wakes[0]++;
      }
    });

    real.run();

    assertThat(wakes[0]).isEqualTo(rounds);
    assertThat(real.taskCount()).isZero();
  }
}
