package dev.tasko;

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

    TaskStackSweep.check(out);
  }

  /** Closes a permit another task waits for, and takes a free one, at each depth in turn. */
  static final class OverflowingPermits {
    static final TaskStackSweep SWEEP = new TaskStackSweep();

    public static void main(String[] args) {
      SWEEP.run(OverflowingPermits::tryAt);
    }


    static void tryAt(int depth) {
      // A permit closed while another task waits for it.
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      Semaphore semaphore = Semaphore.create("slots", 1);
      boolean[] waiterGotIt = new boolean[1];
      loop.addTask("holder", () -> {
        Permit p = semaphore.acquire();
        Tasko.yieldNow(); // the waiter waits now
        if (SWEEP.at(depth, p::close)) {
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
        SWEEP.broken("close at depth " + depth + ": waiter got it " + waiterGotIt[0] + ", "
            + semaphore.available() + " available, " + loop.taskCount() + " tasks left");
      }
      // A free permit taken.
      Loop loop2 = Loop.builder().virtualTime().noStallWarning().build();
      Semaphore free = Semaphore.create("slots", 1);
      loop2.addTask("taker", () -> {
        List<Permit> taken = new ArrayList<>();
        if (SWEEP.at(depth, () -> taken.add(free.acquire()))) {
          taken.add(free.acquire());
        }
        taken.forEach(Permit::close);
      });
      loop2.run();
      if (loop2.taskCount() != 0 || free.available() != 1) {
        SWEEP.broken("acquire at depth " + depth + ": " + free.available() + " available");
      }
    }
  }
}
