package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.IntConsumer;

/**
 * Tries an operation at every depth near the end of a task's own stack, for the programs that
 * {@link ChildJvm} runs with {@code -Xint}: frames have the same size on every run, so each depth
 * makes a stack overflow strike at the next call on the way in turn (see {@link StackEdge}).
 * Counts the depths where it struck inside the operation, those where the operation returned, and
 * the checks that failed; {@link #check} reads the line it prints.
 */
final class TaskStackSweep {
  private int inside;
  private int returned;
  private int broken;
  /** What the last {@link #at} call's operation did: a {@link StackEdge} outcome. */
  int lastOutcome;

  /**
   * Calls {@code tryAt} with -1 (not deep: classes, lambdas and handles are set up), then with each
   * of the 300 depths up to the deepest a task's stack reaches, and prints the counts.
   */
  void run(IntConsumer tryAt) {
    Loop probe = Loop.builder().virtualTime().noStallWarning().build();
    int[] low = new int[1];
    probe.addTask(() -> low[0] = StackEdge.deepestReachable()); // on a task's own stack
    probe.run();
    tryAt.accept(-1);
    inside = 0;
    returned = 0;
    for (int depth = low[0] - 300; depth <= low[0]; depth++) {
      tryAt.accept(depth);
    }
    System.out.println("overflows inside: " + inside + ", returned: " + returned + ", broken: "
        + broken + ", finished");
  }

  /** Runs {@code op} at {@code depth} (at once for -1), counting; true if it did not return. */
  boolean at(int depth, Runnable op) {
    if (depth < 0) {
      op.run();
      lastOutcome = StackEdge.DONE;
      return false;
    }
    int outcome = StackEdge.at(depth, op);
    lastOutcome = outcome;
    if (outcome == StackEdge.OVERFLOWED_INSIDE) {
      inside++;
    } else if (outcome == StackEdge.DONE) {
      returned++;
    }
    return outcome != StackEdge.DONE;
  }

  /** Counts a failed check, saying what went wrong. */
  void broken(String what) {
    broken++;
    System.out.println(what);
  }

  /**
   * Checks what a sweep printed: nothing broken, and, as controls, depths where the overflow
   * struck inside the operation and depths where it returned.
   */
  static void check(String out) {
    assertThat(out).as(out).contains("broken: 0").contains("finished");
    assertThat(out).as(out).doesNotContain("overflows inside: 0,").doesNotContain("returned: 0,");
  }
}
