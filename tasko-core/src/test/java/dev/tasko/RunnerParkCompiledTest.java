package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Tasks that went to sleep in compiled code wake without being deoptimized. The program runs in a
 * JVM of its own where compilation is synchronous ({@code -Xbatch}), so what the compiler had seen
 * when it compiled is the same on every run; the JVM's deoptimization log counts the traps.
 */
class RunnerParkCompiledTest {

  @Test
  void park_compiledBeforeAnyTaskResumed_resumesWithoutDeoptimizing() throws Exception {
    // 20,000 tasks go to sleep in the first pass (virtual time: no timer fires before it ends).
    // park() is compiled after its first 1,000 calls, when no task has yet resumed from it, and
    // each sleeping task's stack keeps that compiled frame. The old code had a trap after the
    // park, on the branch no task had taken yet: every task fell into it on waking.
    String out = ChildJvm.run(List.of("-Xbatch", "-XX:-TieredCompilation",
        "-XX:CompileThreshold=1000", "-Xlog:deoptimization=debug:stdout"), Sleepers.class);

    assertThat(out).contains("20000 tasks ended");
    assertThat(out.lines().filter(l -> l.contains("dev.tasko.Runner.park(")).count())
        .as(out)
        .isLessThan(100); // the old code: one per task
  }

  @Test
  void park_loopingTasksCompiledBeforeAnyResumed_handOffWithoutDeoptimizing() throws Exception {
    // As above, but each task sleeps three times: after its first wake it goes back through the
    // hand-off (next(), handTo()) from the frame compiled in the first pass. Where that frame had
    // the hand-off inlined, with a profile that had never seen a wake, every task was
    // deoptimized there (18,594 traps in Runner.next() in the old code).
    String out = ChildJvm.run(List.of("-Xbatch", "-XX:-TieredCompilation",
        "-XX:CompileThreshold=1000", "-Xlog:deoptimization=debug:stdout"), LoopingSleepers.class);

    assertThat(out).contains("60000 wakes");
    assertThat(out.lines().filter(l -> l.contains(" dev.tasko.Runner.")).count())
        .as(out)
        .isLessThan(100);
  }

  /** 20,000 tasks that each sleep once. */
  static final class Sleepers {
    public static void main(String[] args) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      int[] ended = new int[1];
      for (int i = 0; i < 20_000; i++) {
        loop.addTask(() -> {
          Tasko.sleep(Duration.ofMillis(1));
          ended[0]++;
        });
      }
      loop.run();
      System.out.println(ended[0] + " tasks ended");
    }
  }

  /** 20,000 tasks that each sleep three times. */
  static final class LoopingSleepers {
    public static void main(String[] args) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      int[] wakes = new int[1];
      for (int i = 0; i < 20_000; i++) {
        long offset = i % 1000;
        loop.addTask(() -> {
          for (int k = 1; k <= 3; k++) {
            Tasko.sleep(Duration.ofNanos(1_000 * k + offset));
            wakes[0]++;
          }
        });
      }
      loop.run();
      System.out.println(wakes[0] + " wakes");
    }
  }
}
