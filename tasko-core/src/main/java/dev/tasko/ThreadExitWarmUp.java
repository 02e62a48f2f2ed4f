package dev.tasko;

import java.time.Duration;

/**
 * Ends one virtual thread before a loop's first task starts, once per JVM.
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

  /** Starts and joins one empty virtual thread, the first time only; keeps any interrupt. */
  static void ensure() {
    if (done) {
      return;
    }
    done = true; // a race lets two callers both do it: harmless
    try {
      Thread.ofVirtual().name("tasko-warm-up").start(ThreadExitWarmUp::nothing).join(JOIN_LIMIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the caller's, kept for it; the warm-up is optional
    }
  }

  private static void nothing() {}
}
