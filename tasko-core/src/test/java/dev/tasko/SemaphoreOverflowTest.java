package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A task deep in a recursion may run out of stack inside {@link Permit#close()} or
 * {@link Semaphore#acquire()}. The call then throws {@link StackOverflowError}, but no permit is
 * lost or doubled: calling again (as a program that caught the error would) releases or takes it.
 * In a JVM that only interprets, frames have the same size on every run, so trying every depth near
 * the end of a task's stack makes the overflow strike at each call on the way in turn.
 */
class SemaphoreOverflowTest {

  @Test
  void closeAndAcquire_stackOverflowAtEveryDepth_noPermitLostOrDoubled() throws Exception {
    String out = ChildJvm.run(List.of("-Xint", "-Xss256k"), OverflowingPermits.class);

    assertThat(out).as(out).contains("broken: 0").contains("finished");
    // The controls: at some depths the overflow struck inside the calls, at others they returned.
    assertThat(out).as(out).doesNotContain("overflows inside: 0,").doesNotContain("returned: 0,");
  }

  /** Closes a permit another task waits for, and takes a free one, at each depth in turn. */
  static final class OverflowingPermits {
    static int inside;
    static int returned;
    static int broken;

    public static void main(String[] args) {
      Loop probe = Loop.builder().virtualTime().noStallWarning().build();
      int[] low = new int[1];
      probe.addTask(() -> low[0] = StackEdge.deepestReachable()); // on a task's own stack
      probe.run();
      tryAt(-1); // at a shallow depth first: classes, lambdas and handles set up
      inside = 0;
      returned = 0;
      for (int depth = low[0] - 300; depth <= low[0]; depth++) {
        tryAt(depth);
      }
      System.out.println("overflows inside: " + inside + ", returned: " + returned + ", broken: "
          + broken + ", finished");
    }

    /** Runs {@code op} at {@code depth} (at once for -1); true if it did not return. */
    static boolean at(int depth, Runnable op) {
      if (depth < 0) {
        op.run();
        return false;
      }
      int outcome = StackEdge.at(depth, op);
      if (outcome == StackEdge.OVERFLOWED_INSIDE) {
        inside++;
      } else if (outcome == StackEdge.DONE) {
        returned++;
      }
      return outcome != StackEdge.DONE;
    }

    static void tryAt(int depth) {
      // A permit closed while another task waits for it.
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      Semaphore semaphore = Semaphore.create("slots", 1);
      boolean[] waiterGotIt = new boolean[1];
      loop.addTask("holder", () -> {
        Permit p = semaphore.acquire();
        Tasko.yieldNow(); // the waiter waits now
        if (at(depth, p::close)) {
          p.close();
        }
      });
      loop.addTask("waiter", () -> {
        try (Permit q = semaphore.acquire()) {
          waiterGotIt[0] = true;
        }
      });
      loop.run();
      if (loop.taskCount() != 0 || !waiterGotIt[0] || semaphore.available() != 1) {
        broken++;
        System.out.println("close at depth " + depth + ": waiter got it " + waiterGotIt[0]
            + ", " + semaphore.available() + " available, " + loop.taskCount() + " tasks left");
      }
      // A free permit taken.
      Loop loop2 = Loop.builder().virtualTime().noStallWarning().build();
      Semaphore free = Semaphore.create("slots", 1);
      loop2.addTask("taker", () -> {
        List<Permit> taken = new ArrayList<>();
        if (at(depth, () -> taken.add(free.acquire()))) {
          taken.add(free.acquire());
        }
        taken.forEach(Permit::close);
      });
      loop2.run();
      if (loop2.taskCount() != 0 || free.available() != 1) {
        broken++;
        System.out.println("acquire at depth " + depth + ": " + free.available() + " available");
      }
    }
  }
}
