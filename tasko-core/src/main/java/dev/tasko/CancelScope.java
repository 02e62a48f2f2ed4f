package dev.tasko;

import java.time.Duration;
import java.util.concurrent.CancellationException;

/**
 * A stretch of one task's code that can be cancelled on its own, as trio's cancel scopes: the body
 * of one {@link Tasko#withTimeout} call, cancelled when its deadline passes (the scope is then an
 * entry of the loop's timer queue, independent of the task's own sleep timer), or the block of one
 * {@link TaskGroup}, cancelled when a child fails. Once cancelled, the loop wakes the task at its
 * suspension point as a cancel would; that point throws {@link Cancelled}, tied to this scope, and
 * so does every later suspension point until the scope is left. The {@code withTimeout} that
 * opened a scope turns its own {@code Cancelled} into a {@link TimeoutException}; a task group's
 * reaches the code after its block. An inner scope lets an outer one's pass untouched.
 *
 * <p>Scopes nest: each task keeps the innermost one it is in, and each scope the one around it.
 *
 * <p>Guarded by the loop's baton.
 */
final class CancelScope extends TimerEntry {
  final Task<?> task;
  /** The {@code withTimeout}'s timeout, or null for a task group's block. */
  final Duration timeout;
  /** The task group whose block this is, or null for a {@code withTimeout}. */
  final TaskGroup group;
  /** The scope this one is nested in, or null. */
  final CancelScope outer;
  /**
   * The task's count of delivered cancellations when the scope was opened: leaving the scope takes
   * it back there (see {@link Traps#leaveScope}).
   */
  final byte deliveriesBefore;
  /**
   * Whether a cancellation pending when the scope was opened (an outside cancel, or an enclosing
   * scope cancelled) had already been thrown: then the task caught it and went on, and what is
   * delivered inside the scope counts in full (see {@link Traps#leaveScope}).
   */
  final boolean openedAfterCancelThrown;
  boolean cancelled;
  /** What cancelled a task group's block (a child's failure): the cause of what it throws. */
  Throwable reason;
  /**
   * Left, though scopes inside it may still be open (a group closed inside a {@code withTimeout}
   * it was not opened in): it cancels nothing, and goes when they do, its deliveries taken back
   * with theirs.
   */
  boolean left;

  /** The scope of a {@code withTimeout} body. */
  CancelScope(Task<?> task, Duration timeout) {
    this(task, timeout, null);
  }

  /** The scope of a task group's block. */
  CancelScope(Task<?> task, TaskGroup group) {
    this(task, null, group);
  }

  private CancelScope(Task<?> task, Duration timeout, TaskGroup group) {
    this.task = task;
    this.timeout = timeout;
    this.group = group;
    this.outer = task.scopes;
    this.deliveriesBefore = task.cancelDeliveries;
    this.openedAfterCancelThrown = task.cancelDeliveries > 0 && Traps.cancelPending(task);
  }

  /**
   * The outermost cancelled scope the task is in, inside {@code stopAt} (null: all of them), or
   * null. The outermost wins: when an outer deadline has passed, the whole body of that outer
   * {@code withTimeout} must unwind, inner scopes included.
   */
  static CancelScope cancelledScope(Task<?> task, CancelScope stopAt) {
    CancelScope found = null;
    for (CancelScope s = task.scopes; s != null && s != stopAt; s = s.outer) {
      if (s.cancelled && !s.left) {
        found = s;
      }
    }
    return found;
  }

  /**
   * Whether the task is in this scope: it has not left it, and the scope is still in its chain (a
   * {@code withTimeout} around it, left first, takes it out).
   */
  boolean isOpen() {
    for (CancelScope s = task.scopes; s != null; s = s.outer) {
      if (s == this) {
        return !left;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    String what = group != null ? "block of " + group : "timeout of " + timeout;
    return what + " in task '" + task.name() + "'" + (cancelled ? " (cancelled)" : "");
  }

  /**
   * What a suspension point throws in a cancelled scope. A {@link CancellationException}, so that
   * everything written for cancellation (finally blocks, {@link Lease}s, resource queues) unwinds
   * it the same way. A timeout's is never seen outside the {@code withTimeout} that owns the
   * scope; a task group's carries the child's failure as its cause. Printed (in a stack trace, a
   * log, a {@link TaskFailedException}'s message) as the {@code CancellationException} it is
   * caught as, its message saying which task group's block or which timeout cancelled it and why:
   * the name of this class says nothing to a user, who can neither catch nor look it up.
   */
  static final class Cancelled extends CancellationException {
    private static final long serialVersionUID = 1L;

    final transient CancelScope scope;

    Cancelled(CancelScope scope) {
      super("task '" + scope.task.name() + "': " + (scope.group != null
          ? scope.group.whyBlockCancelled() : "timeout of " + scope.timeout + " passed"));
      this.scope = scope;
      if (scope.reason != null) {
        initCause(scope.reason);
      }
    }

    @Override
    public String toString() {
      String message = getLocalizedMessage();
      return Failures.typeName(this) + (message == null ? "" : ": " + message);
    }
  }
}
