package dev.tasko;

import java.lang.System.Logger.Level;
import java.lang.ref.WeakReference;
import java.time.Duration;

/**
 * A loop's stall warnings (see {@link Loop.Builder#stallWarning(Duration)}): the task holding the
 * processor notes when its turn began; the driving thread, parked while the tasks run, wakes every
 * quarter threshold to {@link #check()} how long that turn has lasted. Measured in real time
 * ({@code System.nanoTime}), even on virtual time: a stall is about the processor, not the loop's
 * clock.
 */
final class StallWatchdog {
  private final String loopName;
  /** Stall warning threshold in real nanoseconds; at least 1 ms (see Builder.stallWarning). */
  final long stallNanos;
  /**
   * The task holding the processor, or null while the driver holds it. Written by the holder:
   * through turnTo(), or by a plain store when a hand-off is taken back (see Runner.handTo).
   */
  volatile Task<?> holder;
  /**
   * When the holder's turn began (System.nanoTime). Written before {@code holder}, so whoever
   * reads {@code holder} and then this sees the start of that turn or of a later one; check()
   * reads {@code holder} once more after, and gives up when it changed, so that it never pairs a
   * task with another's turn. At worst a stall is reported one check late, never early. Here
   * rather than in each task: one turn runs at a time, and a task costs a field less.
   */
  private volatile long turnStartedAt;
  // Only touched by the driving thread, in check(). The tasks weakly: a task that has ended, and
  // its result, must not be kept by a warning about it.
  private WeakReference<Task<?>> lastStallReported;
  private long lastStallTurn;
  /** The turn last seen loading or initialising classes, and when: see check(). */
  private WeakReference<Task<?>> warmUpTask;
  private long warmUpTurn;
  private long warmUpSeenAt;

  StallWatchdog(String loopName, long stallNanos) {
    this.loopName = loopName;
    this.stallNanos = stallNanos;
  }

  /** Notes that {@code next} (null: the driver) holds the processor from now on. */
  void turnTo(Task<?> next) {
    if (next != null) {
      turnStartedAt = System.nanoTime(); // real time: a stall is about the processor
    }
    holder = next;
  }

  /** When the current turn began (System.nanoTime); any thread. */
  long turnStartedAt() {
    return turnStartedAt;
  }

  /** Warns, once per turn, about a task that has held the processor too long without suspending. */
  void check() {
    Task<?> h = holder;
    if (h == null) {
      return;
    }
    long turnStart = turnStartedAt;
    long now = System.nanoTime();
    if (holder != h) {
      return; // the turn changed while we read: it may be another's start; look again next time
    }
    if (turnStart == lastStallTurn && is(lastStallReported, h)) {
      return;
    }
    // Time spent loading classes is not the program's doing: count from when it was last seen.
    // While a turn is known to load classes, every check looks at its stack, so that when the
    // loading ends the count starts from at most one check earlier, not from a stale sighting.
    boolean warmingUp = turnStart == warmUpTurn && is(warmUpTask, h);
    long held = now - (warmingUp ? warmUpSeenAt : turnStart);
    if (held < stallNanos && !warmingUp) {
      return;
    }
    StackTraceElement[] stack = h.stackTrace();
    Thread t = h.thread;
    Thread.State state = t == null ? Thread.State.RUNNABLE : t.getState();
    if (stack.length == 0) {
      return; // its thread is only starting: look again at the next check
    }
    if (holder != h || turnStartedAt != turnStart) {
      return; // the turn ended while we took the stack: this stack shows it parked
    }
    if (StallReport.isWarmingUp(stack)) {
      if (!is(warmUpTask, h)) {
        warmUpTask = new WeakReference<>(h);
      }
      warmUpTurn = turnStart;
      warmUpSeenAt = now;
      return;
    }
    if (held < stallNanos) {
      return; // loading classes until lately: its own time is still short
    }
    lastStallReported = new WeakReference<>(h);
    lastStallTurn = turnStart;
    Loop.LOG.log(Level.WARNING, StallReport.message(loopName, h.name(), held, stack, state,
        h.runsInline));
    Flight.stall(loopName, h.name(), held, StallReport.programLine(stack));
  }

  /** Whether {@code ref} refers to {@code t}. */
  private static boolean is(WeakReference<Task<?>> ref, Task<?> t) {
    return ref != null && ref.get() == t;
  }
}
