package dev.tasko;

import java.time.Duration;
import java.util.concurrent.CancellationException;

/**
 * One {@link Tasko#withTimeout} call of one task: a deadline in the loop's timer queue, independent
 * of the task's own sleep timer. When it fires, the loop marks the scope expired and wakes the task
 * at its suspension point as a cancel would; that point throws {@link Expired}, tied to this scope,
 * and so does every later suspension point until the scope is left. The {@code withTimeout} that
 * opened the scope turns its own {@code Expired} into a {@link TimeoutException}; an inner scope
 * lets an outer one's pass untouched.
 *
 * <p>Guarded by the loop's baton.
 */
final class TimeoutScope extends TimerEntry {
  final Task<?> task;
  final Duration timeout;
  /** The scope this one is nested in, or null. */
  final TimeoutScope outer;
  /**
   * The task's count of delivered cancellations when the scope was opened: leaving the scope takes
   * it back there (see {@link Traps#closeTimeout}).
   */
  final byte deliveriesBefore;
  boolean expired;

  TimeoutScope(Task<?> task, Duration timeout) {
    this.task = task;
    this.timeout = timeout;
    this.outer = task.timeouts;
    this.deliveriesBefore = task.cancelDeliveries;
  }

  /**
   * The outermost expired scope the task is in, inside {@code stopAt} (null: all of them), or
   * null. The outermost wins: when an outer deadline has passed, the whole body of that outer
   * {@code withTimeout} must unwind, inner scopes included.
   */
  static TimeoutScope expiredScope(Task<?> task, TimeoutScope stopAt) {
    TimeoutScope found = null;
    for (TimeoutScope s = task.timeouts; s != null && s != stopAt; s = s.outer) {
      if (s.expired) {
        found = s;
      }
    }
    return found;
  }

  @Override
  public String toString() {
    return "timeout of " + timeout + " in task '" + task.name() + "'"
        + (expired ? " (expired)" : "");
  }

  /**
   * What a suspension point throws in an expired scope. A {@link CancellationException}, so that
   * everything written for cancellation (finally blocks, {@link Lease}s, resource queues) unwinds
   * it the same way; never seen outside the {@code withTimeout} that owns the scope.
   */
  static final class Expired extends CancellationException {
    private static final long serialVersionUID = 1L;

    final transient TimeoutScope scope;

    Expired(TimeoutScope scope) {
      super("task '" + scope.task.name() + "': timeout of " + scope.timeout + " passed");
      this.scope = scope;
    }
  }
}
