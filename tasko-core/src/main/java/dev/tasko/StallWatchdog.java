package dev.tasko;

import java.lang.System.Logger.Level;
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
  /** Stall warning threshold in real nanoseconds; positive. */
  final long stallNanos;
  /** The task holding the processor, or null while the driver holds it. Written by the holder. */
  private volatile Task<?> holder;
  // Only touched by the driving thread, in check().
  private Task<?> lastStallReported;
  private long lastStallTurn;

  StallWatchdog(String loopName, long stallNanos) {
    this.loopName = loopName;
    this.stallNanos = stallNanos;
  }

  /** Notes that {@code next} (null: the driver) holds the processor from now on. */
  void turnTo(Task<?> next) {
    if (next != null) {
      next.turnStartedAt = System.nanoTime(); // real time: a stall is about the processor
    }
    holder = next;
  }

  /** Warns, once per turn, about a task that has held the processor too long without suspending. */
  void check() {
    Task<?> h = holder;
    if (h == null) {
      return;
    }
    long turnStart = h.turnStartedAt;
    long held = System.nanoTime() - turnStart;
    if (held < stallNanos || (h == lastStallReported && turnStart == lastStallTurn)) {
      return;
    }
    StackTraceElement[] stack = h.stackTrace();
    if (stack.length == 0) {
      return; // its thread is only starting: look again at the next check
    }
    lastStallReported = h;
    lastStallTurn = turnStart;
    StringBuilder where = new StringBuilder();
    for (StackTraceElement frame : stack) {
      where.append("\n\tat ").append(frame);
    }
    Loop.LOG.log(Level.WARNING,
        "loop ''{0}'': task ''{1}'' has held the processor for {2} without reaching a "
        + "suspension point; every other task of the loop waits. It is at:{3}", loopName, h.name(),
        Duration.ofNanos(held), where);
  }
}
