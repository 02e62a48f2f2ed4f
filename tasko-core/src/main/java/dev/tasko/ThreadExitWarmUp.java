package dev.tasko;

import java.time.Duration;

/**
 * Ends one virtual thread, once per JVM, when the first loop is built: before its first task
 * starts, as a rule.
 *
 * <p>Why: a loop may start thousands of tasks before any of them ends (every task of a first pass
 * goes to sleep). If the JIT compiles the JDK's virtual-thread body in that window, the code that
 * runs after a thread's task returns refers to a class nothing has loaded yet (the JDK's
 * end-of-thread event), so the compiler leaves a trap there. Each of those threads, ending later,
 * falls into the trap and is deoptimized: measured with a million sleeping tasks, over 600,000
 * deoptimizations and about a third of the run's CPU. One thread ended beforehand loads the
 * class, and the compiled code has no trap.
 */
final class ThreadExitWarmUp {
  /** Long enough for an idle JVM; a busy one gains nothing from waiting longer. */
  private static final Duration JOIN_LIMIT = Duration.ofMillis(100);

  private static volatile boolean done;

  private ThreadExitWarmUp() {}

  /**
   * Starts one empty virtual thread, the first time only, and waits for it to end unless the
   * caller is itself a virtual thread; keeps any interrupt. A virtual caller may be pinned to its
   * carrier (in a class initializer, for one), and with a single carrier the warm-up could not
   * run until the wait gave up; it does not wait, and the warm-up, queued before any task's
   * thread, still ends first in practice.
   */
  static void ensure() {
    if (done) {
      return;
    }
    done = true; // a race lets two callers both do it: harmless
    Thread t = Thread.ofVirtual().name("tasko-warm-up").start(ThreadExitWarmUp::nothing);
    if (Thread.currentThread().isVirtual()) {
      return;
    }
    try {
      t.join(JOIN_LIMIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the caller's, kept for it; the warm-up is optional
    }
  }

  private static void nothing() {}
}
