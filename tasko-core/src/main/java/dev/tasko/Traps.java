package dev.tasko;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.CancellationException;

/**
 * The suspension points: what {@link Tasko#sleep}, {@link Tasko#yieldNow},
 * {@link Suspension#await}, {@link Task#join} and {@link Tasko#withTimeout} do on the loop, and
 * how a cancellation, a cancelled scope (a timeout, a failed task group) or a resume reaches a
 * task. Each runs on the task that holds the baton (a resume may come from any thread, and
 * reaches the loop through its inbox): it puts the task where it waits (a timer, the ready queue,
 * a suspension), then parks it with {@link Runner#park}, which hands the processor on.
 */
final class Traps {
  /** Back-off before a cancellation is thrown again to a task that swallowed it. */
  private static final long REDELIVERY_MIN_NANOS = 1_000_000L;
  /** Deliveries thrown at once, before a task counts as swallowing its cancellation. */
  private static final int IMMEDIATE_DELIVERIES = 3;
  private static final long REDELIVERY_MAX_NANOS = 1_000_000_000L;

  private Traps() {}

  /**
   * Sleeps until {@code deadline} (loop time); returns early only when cancelled or woken early.
   */
  static void sleepUntil(Task<?> self, long deadline) {
    checkCancelled(self);
    Runner r = self.loop.runner;
    r.timers.add(self, deadline);
    self.waitSince = r.passNow;
    self.setState(Task.State.WAITING);
    r.park(self);
    checkCancelled(self);
  }

  static void yieldNow(Task<?> self) {
    checkCancelled(self);
    // yieldUnchecked's body, written out: this is every yield's path, and a call of its own would
    // be one more frame in each yielding task's stack wherever the JIT does not inline it
    self.setState(Task.State.READY);
    Runner r = self.loop.runner;
    r.ready.add(self);
    r.park(self);
    checkCancelled(self);
  }

  /** Lets the other ready tasks run once; a cancellation pending stays for the next point. */
  private static void yieldUnchecked(Task<?> self) {
    self.setState(Task.State.READY);
    Runner r = self.loop.runner;
    r.ready.add(self);
    r.park(self);
  }

  /**
   * Throws if the task has a pending cancellation: an outside cancel
   * ({@link CancellationException}) or a cancelled scope ({@link CancelScope.Cancelled}). An
   * outside cancel comes first, so it is never taken for a timeout.
   */
  static void checkCancelled(Task<?> self) {
    if (cancelRequested(self)) {
      throw deliverCancellation(self, self.cancelled());
    }
    if (self.scopes != null) {
      CancelScope cancelled = self.loop.runner.cancelledScope(self);
      if (cancelled != null) {
        throw deliverCancellation(self, new CancelScope.Cancelled(cancelled));
      }
    }
  }

  /** Whether {@link #checkCancelled} would throw. */
  static boolean cancelPending(Task<?> self) {
    return cancelRequested(self)
        || (self.scopes != null && self.loop.runner.cancelledScope(self) != null);
  }

  /**
   * Whether an outside cancel is to be thrown at the task's suspension points: requested, and not
   * held back while the task runs the failure handler (see {@link Runner#reportFailure}).
   */
  static boolean cancelRequested(Task<?> self) {
    return self.cancelRequested && !self.loop.runner.isShielded(self);
  }
  /**
   * Returns {@code e} for the caller to throw at a suspension point. The first deliveries are at
   * once: cleanup on the way out may meet a cancellation point or two (a task group's
   * {@code close()}, a {@code finally} that suspends) and rethrow there. A task that keeps reaching
   * suspension points after that has swallowed its cancellation (a {@code catch (Exception e)}
   * around a sleep): were it thrown at once again, the task would spin holding the processor and
   * no other task, nor stop(), would ever run. So from then on a re-delivery first sleeps on the
   * loop's clock, 1 ms the first time, doubling up to 1 s, and the first such one logs a warning
   * naming the task.
   */
  private static CancellationException deliverCancellation(Task<?> self,
      CancellationException e) {
    int delivered = self.cancelDeliveries;
    self.cancelDeliveries = (byte) Math.min(delivered + 1, Byte.MAX_VALUE);
    if (delivered >= IMMEDIATE_DELIVERIES) {
      int late = delivered - IMMEDIATE_DELIVERIES;
      if (late == 0) {
        Loop.LOG.log(Level.WARNING, "loop ''{0}'': task ''{1}'' reached a suspension point after "
            + "its cancellation was thrown: it swallowed the CancellationException (a catch of "
            + "Exception or Throwable around a suspending call?). It is thrown again at each "
            + "suspension point, after a wait that grows to {2}.", self.loop.name(), self.name(),
            DurationText.approximate(Duration.ofNanos(REDELIVERY_MAX_NANOS)));
      }
      long wait = REDELIVERY_MIN_NANOS << Math.min(late, 30);
      Runner r = self.loop.runner;
      r.timers.add(self,
          Durations.saturatedAdd(r.ticker.read(), Math.min(wait, REDELIVERY_MAX_NANOS)));
      self.waitSince = r.passNow;
      self.setState(Task.State.WAITING);
      r.park(self);
    }
    return e;
  }


  /**
   * Parks the suspension's task until it is resumed, cancelled, or {@code timeoutNanos} pass
   * (negative: no timeout). Returns false on timeout.
   */
  static boolean await(Suspension s, long timeoutNanos) {
    return await(s, timeoutNanos, /* resumeWins= */ false);
  }

  /**
   * Parks the suspension's task until it is resumed or cancelled, for a wait whose resume hands the
   * task something it must not walk away from. A wait resumed (or reserved for that resume) before
   * the task's cancellation could end it returns, and the cancellation is thrown at the task's next
   * suspension point. A join: its target ended and handed the caller its outcome (or, of another
   * loop, failed counting on this caller to see it), which would otherwise be lost. A channel's
   * put: its element went into the channel, which would otherwise hold an element its put threw
   * for.
   */
  static void awaitResumeWins(Suspension s) {
    await(s, -1, /* resumeWins= */ true);
  }

  private static boolean await(Suspension s, long timeoutNanos, boolean resumeWins) {
    Task<?> self = s.task;
    Runner r = self.loop.runner;
    // A cancel already pending ends the wait before it begins, unless the suspension was resumed or
    // reserved for a resume first and the resume wins (a join handed its target's failure): then
    // the wait ends with the resume, and the cancellation comes at the next suspension point.
    if (cancelPending(self) && (s.cancel() || !resumeWins)) {
      checkCancelled(self);
    }
    s.markAwaited(); // one-shot: a second await throws
    if (!s.beginAwait()) {
      // resumed before it was awaited: return, but still as a switch point
      if (resumeWins && s.isResumed()) {
        yieldUnchecked(self); // the resume wins: a pending cancellation waits for the next point
      } else {
        yieldNow(self);
      }
      return true;
    }
    self.waitingOn = s;
    self.waitSince = r.passNow;
    self.setState(Task.State.WAITING);
    if (s.external) {
      r.externalWaiters++;
    }
    try {
      if (timeoutNanos >= 0) {
        r.timers.add(self, Durations.saturatedAdd(r.ticker.read(), timeoutNanos));
      }
      r.park(self);
      if (!s.isResumed() && !cancelPending(self)) {
        // The timer fired. Claim the suspension so a late resume() does nothing...
        if (s.cancel()) {
          return false;
        }
        // ...unless a resume() from another thread got there first: its wake-up is on its way
        // through the inbox, so wait for it rather than run twice.
        self.setState(Task.State.WAITING);
        r.park(self);
      }
    } finally {
      self.waitingOn = null;
      r.timers.remove(self);
      if (s.external) {
        r.externalWaiters--;
      }
    }
    if (!(resumeWins && s.isResumed())) {
      checkCancelled(self);
    }
    return true;
  }

  /**
   * Parks the suspension's task until it is resumed, whatever a cancel or a cancelled scope says
   * meanwhile: for waits a task must not walk away from (its task group's children, its blocking
   * work). The suspension must be shielded, so that neither can claim it.
   */
  static void awaitShielded(Suspension s) {
    Task<?> self = s.task;
    Runner r = self.loop.runner;
    if (!s.beginAwait()) {
      return; // resumed already
    }
    self.waitingOn = s;
    self.waitSince = r.passNow;
    if (s.external) {
      r.externalWaiters++;
    }
    try {
      do {
        self.setState(Task.State.WAITING);
        r.park(self);
      } while (!s.isResumed());
    } finally {
      self.waitingOn = null;
      if (s.external) {
        r.externalWaiters--;
      }
    }
  }

  static void join(Task<?> caller, Task<?> target) {
    if (target.isDone()) {
      yieldNow(caller);
      return;
    }
    Suspension s = new Suspension(caller, target, /* external= */ false);
    target.addJoiner(s);
    try {
      awaitResumeWins(s);
    } catch (Throwable e) { // a cancel, or an error at the suspension point: no longer a joiner
      s.cancel();
      target.removeJoiner(s);
      throw e;
    }
  }

  /** Delivers a cancel request: a waiting task is woken to throw at its suspension point. */
  static void cancel(Task<?> t) {
    if (t.isDone()) {
      return;
    }
    t.cancelRequested = true;
    t.loop.runner.unshield(t); // a cancel while its failure handler waits is thrown there
    if (t.thread == null) {
      t.loop.runner.endUnstarted(t);
      return;
    }
    wakeToThrow(t);
  }

  /**
   * Ends a task's sleep before its deadline (a stopped schedule); does nothing if it is not asleep.
   */
  static void wakeEarly(Task<?> t) {
    Runner r = t.loop.runner;
    if (r.timers.remove(t)) {
      r.makeReady(t);
    }
  }

  // ---- Cancel scopes: withTimeout bodies (entries of their own in the timer queue), task group
  // blocks. ----

  /** Opens {@code scope}, a timeout's, for its task, expiring {@code timeoutNanos} from now. */
  static void openScope(CancelScope scope, long timeoutNanos) {
    openScope(scope);
    if (timeoutNanos == 0) {
      // Passed already: thrown at the body's first suspension point. Not through a timer, which
      // fires in a pass whose time, read once, is at or past it: on a real clock a task woken in
      // a pass's timer phase reads a later time, and its first suspension point would come first.
      cancelScope(scope);
      return;
    }
    Runner r = scope.task.loop.runner;
    r.timers.add(scope, Durations.saturatedAdd(r.ticker.read(), timeoutNanos));
  }

  /** Opens {@code scope}, a task group's block, for its task. */
  static void openScope(CancelScope scope) {
    scope.task.scopes = scope;
  }

  /**
   * Leaves {@code scope}: its timer, if still queued, goes too. Unless the task has been cancelled
   * from outside, every cancellation delivered inside the scope was the scope's own (a timeout's,
   * a task group's), and unless an enclosing scope has been cancelled too, this scope's: leaving it
   * has handled it, and the task's count of deliveries goes back to what it was when the scope was
   * opened. Without that, a timeout thrown more than once on the way out (a task group's close, a
   * finally that suspends) or caught by the body would count as a swallowed cancellation, and each
   * later one would wait longer before it is thrown. When the cancellation goes on past the scope,
   * what its unwinding met inside counts as one delivery (see below).
   *
   * <p>A scope left while scopes opened inside it are still open (a task group closed inside a
   * {@code withTimeout} body it was not opened in) cancels nothing more, and goes when they do.
   */
  static void leaveScope(CancelScope scope) {
    Task<?> t = scope.task;
    t.loop.runner.timers.remove(scope);
    scope.left = true;
    if (t.scopes != scope) {
      return;
    }
    // Scopes around it already left go too, and what they delivered counts as handled as well.
    byte before = scope.deliveriesBefore;
    CancelScope outer = scope.outer;
    while (outer != null && outer.left) {
      before = (byte) Math.min(before, outer.deliveriesBefore);
      outer = outer.outer;
    }
    t.scopes = outer;
    // Not while an enclosing scope has been cancelled: its cancellation goes on being thrown, and
    // a body that swallows it again and again must still meet the back-off.
    if (!cancelRequested(t) && t.cancelDeliveries > before
        && (t.scopes == null || t.loop.runner.cancelledScope(t) == null)) {
      t.cancelDeliveries = before;
    } else if (!scope.openedAfterCancelThrown && t.cancelDeliveries <= IMMEDIATE_DELIVERIES
        && t.cancelDeliveries > scope.deliveriesBefore + 1) {
      // The cancellation that goes on being thrown (an outside cancel, an enclosing scope's) was
      // first thrown in this scope, and what it met in here (the wait it cut off, a cleanup that
      // suspended, an inner group's close()) is one exception unwinding, which counts once. Else
      // every scope nested around a wait would count one more, and the fourth would meet the
      // back-off and its warning. Not once the back-off has begun: the task swallowed it. Nor in a
      // scope opened after it was thrown, which a loop that swallows it opens again and again. So
      // a task can hide a swallow or two only in each scope it was in when first cancelled: a
      // bounded number, and one that swallows for ever still meets the back-off.
      t.cancelDeliveries = (byte) (scope.deliveriesBefore + 1);
    }
  }

  /**
   * Cancels {@code scope} (its deadline has come, or its task group's child failed): its task
   * throws at its suspension point. Woken as by {@link #cancel}, but the task's cancel flag stays
   * as it was.
   */
  static void cancelScope(CancelScope scope) {
    scope.cancelled = true;
    if (!scope.task.loop.runner.isHeldBack(scope)) { // else thrown once the failure handler returns
      wakeToThrow(scope.task);
    }
  }

  /**
   * Wakes a task that waits (on a timer or a suspension it can be taken from), so that its
   * suspension point throws what is now pending; does nothing to a task that is running or ready.
   */
  private static void wakeToThrow(Task<?> t) {
    Runner r = t.loop.runner;
    boolean wake = r.timers.remove(t);
    Suspension s = t.waitingOn;
    if (s != null && s.cancel()) {
      wake = true;
    }
    if (wake) {
      r.makeReady(t);
    }
  }

  /** A suspension was resumed, on any thread: its task becomes ready, once. */
  static void resumed(Suspension s) {
    s.task.loop.runner.runOnLoop(() -> wakeFrom(s));
  }

  /**
   * Readies the suspension's task if it is still parked on it. The check makes a wake-up that
   * arrives late through the inbox harmless: by then the task may have been woken by its timeout or
   * a cancel, and be running, or waiting on something else; or the resume that sent it was taken
   * back (it overflowed the stack of its thread after the send) before this ran, and the task
   * waits on.
   */
  private static void wakeFrom(Suspension s) {
    Task<?> t = s.task;
    if (t.waitingOn == s && t.state() == Task.State.WAITING && s.isResumed()) {
      Runner r = t.loop.runner;
      r.timers.remove(t);
      r.makeReady(t);
    }
  }
}
