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
}
