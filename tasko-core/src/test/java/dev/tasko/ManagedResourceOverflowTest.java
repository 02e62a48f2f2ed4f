package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A task deep in a recursion may run out of stack inside {@link Lease#close()} or
 * {@link Handle#acquire()}. The call then throws {@link StackOverflowError}, but the resource is
 * neither kept nor handed on twice, and {@code onRelease} runs once for each {@code onAcquire}:
 * calling again (as a program that caught the error would), or the loop at the task's end,
 * finishes the release or gives back what the acquire took; and no task is left handed the turn
 * while the task that overflowed runs on. In a JVM that only interprets, frames have the same
 * size on every run, so trying every depth near the end of a task's stack makes the overflow
 * strike at each call on the way in turn.
 */
class ManagedResourceOverflowTest {

  @Test
  void closeAndAcquire_stackOverflowAtEveryDepth_resourceNeverKeptNorHandedOnTwice()
      throws Exception {
    String out = ChildJvm.run(List.of("-Xint", "-Xss256k"), OverflowingLeases.class);

    TaskStackSweep.check(out);
    assertThat(out).as(out).doesNotContain("acquire overflows inside: 0\n");
  }

  /** Closes a lease another task waits for, and acquires a resource, at each depth in turn. */
  static final class OverflowingLeases {
    static final TaskStackSweep SWEEP = new TaskStackSweep();
    /** Depths at which the overflow struck inside acquire(): a control of its own. */
    static int acquireOverflows;

    public static void main(String[] args) {
      SWEEP.run(depth -> {
        tryAt(depth, true);
        tryAt(depth, false);
        acquireAt(depth, true, true);
        acquireAt(depth, true, false);
        acquireAt(depth, false, true);
        acquireAt(depth, false, false);
      });
      System.out.println("acquire overflows inside: " + acquireOverflows);
    }

    /**
     * Closes the holder's lease at {@code depth} (at once for -1) while a waiter waits; after an
     * overflow, closes it again if {@code retry}, else ends and leaves it to the loop.
     */
    static void tryAt(int depth, boolean retry) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      int[] releases = new int[1];
      ManagedResource<String, String> bus = ManagedResource.of("bus", "bus", cs -> {},
          cs -> releases[0]++);
      boolean[] waiterGotIt = new boolean[1];
      boolean[] struckInside = new boolean[1];
      loop.addTask("holder", () -> {
        Lease<String> lease = bus.handle("a").acquire();
        Tasko.yieldNow(); // the waiter waits now
        boolean failed = SWEEP.at(depth, lease::close);
        struckInside[0] = SWEEP.lastOutcome == StackEdge.OVERFLOWED_INSIDE;
        if (failed && retry) {
          lease.close();
        }
      });
      loop.addTask("waiter", () -> {
        try (Lease<String> lease = bus.handle("b").acquire()) {
          waiterGotIt[0] = true;
        }
      });
      String deadlock = "";
      try {
        loop.run();
      } catch (DeadlockException e) { // the waiter never woken: the old code's failure
        deadlock = ", deadlocked";
      }
      int tasksLeft = loop.taskCount();
      boolean[] free = new boolean[1];
      if (deadlock.isEmpty()) {
        loop.addTask("check", () -> free[0] = bus.holder().isEmpty()); // holder() is the loop's
        loop.run();
      }
      // onRelease runs at most once (Lease#close): an overflow that strikes inside close() on
      // the way into it, before the callback's own code has run, leaves the holder's release
      // without it. Where the overflow strikes depends on how much of the task's stack the JDK
      // had thawed, which varies from run to run: so one release is allowed only then.
      boolean releasesRight = releases[0] == 2 || (releases[0] == 1 && struckInside[0]);
      if (!deadlock.isEmpty() || tasksLeft != 0 || !waiterGotIt[0] || !releasesRight
          || !free[0]) {
        SWEEP.broken("close at depth " + depth + (retry ? ", closed again" : ", left")
            + ": waiter got it " + waiterGotIt[0] + ", " + releases[0] + " releases, free "
            + free[0] + ", " + tasksLeft + " tasks left" + deadlock);
      }
    }

    /**
     * Acquires at {@code depth} a resource that is free, or that another task holds for a while
     * ({@code contended}); after an overflow, acquires again if {@code retry}, else ends. Then
     * another task acquires it.
     */
    static void acquireAt(int depth, boolean contended, boolean retry) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      int[] acquires = new int[1];
      int[] releases = new int[1];
      ManagedResource<String, String> bus = ManagedResource.of("bus", "bus",
          cs -> acquires[0]++, cs -> releases[0]++);
      boolean[] laterGotIt = new boolean[1];
      Task<?>[] holder = new Task<?>[1];
      boolean[] offered = new boolean[1];
      if (contended) {
        holder[0] = loop.addTask("holder", () -> {
          try (Lease<String> lease = bus.handle("h").acquire()) {
            Tasko.sleep(java.time.Duration.ofMillis(1));
          }
        });
      }
      loop.addTask("taker", () -> {
        Handle<String> h = bus.handle("t");
        @SuppressWarnings("unchecked")
        Lease<String>[] got = new Lease[1];
        boolean failed = SWEEP.at(depth, () -> got[0] = h.acquire());
        if (depth >= 0 && SWEEP.lastOutcome == StackEdge.OVERFLOWED_INSIDE) {
          acquireOverflows++;
        }
        // The taker runs on, so no other task holds the turn: not even one that a hand-off broken
        // off by the overflow had offered it, which would run alongside the taker if woken.
        if (holder[0] != null && holder[0].turn == Task.YOURS) {
          offered[0] = true;
        }
        if (failed && retry) {
          got[0] = h.acquire();
        }
        if (got[0] != null) {
          got[0].close();
        }
      });
      loop.runLater(java.time.Duration.ofMillis(5), () -> loop.addTask("later", () -> {
        try (Lease<String> lease = bus.handle("l").acquire()) {
          laterGotIt[0] = true;
        }
      }));
      String deadlock = "";
      try {
        loop.run();
      } catch (DeadlockException e) {
        deadlock = ", deadlocked";
      }
      if (!deadlock.isEmpty() || loop.taskCount() != 0 || !laterGotIt[0]
          || acquires[0] != releases[0] || offered[0]) {
        SWEEP.broken("acquire at depth " + depth + (contended ? ", contended" : ", free")
            + (retry ? ", again" : ", left") + ": later got it " + laterGotIt[0] + ", "
            + acquires[0] + " acquires, " + releases[0] + " releases, " + loop.taskCount()
            + " tasks left" + deadlock + (offered[0] ? ", holder left its turn" : ""));
      }
    }

  }
}
