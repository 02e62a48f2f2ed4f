package dev.tasko;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.CancellationException;

/**
 * The low-level way to park a task until something happens: the tool for library authors (tasko's
 * {@code suspend()}). The task that made it calls {@link #await()}, and is not considered by the
 * loop at all until someone calls {@link #resume()}; then it is ready again and runs at the loop's
 * next pass. {@link ManagedResource}, {@link Task#join()}, {@link Channel}, {@link Event},
 * {@link Semaphore}, {@link TaskGroup} and {@link Tasko#blocking} are built on this same primitive.
 *
 * <pre>{@code
 * Suspension edge = Tasko.suspend("button edge");
 * button.onChange(e -> edge.resume());   // any thread, e.g. an interrupt listener
 * edge.await();                           // this task waits; the others run
 * }</pre>
 *
 * <p>{@link #resume()} may be called from any thread, any number of times (only the first counts),
 * and before {@link #await()}: a resume that comes first is not lost, and {@code await()} then
 * returns at the next pass. A suspension is one-shot: make a new one for each wait; a second
 * {@code await} throws {@link IllegalStateException}.
 *
 * <p>While a task awaits a suspension from {@link Tasko#suspend()}, {@link Loop#run()} does not end
 * and does not report a deadlock, since another thread may resume it at any time.
 */
public final class Suspension {
  private static final int NEW = 0;
  private static final int AWAITING = 1;
  private static final int RESUMED = 2;
  private static final int CANCELLED = 3;
  /**
   * Reserved for a resume to come, before or after the task began to await: no cancel, timeout or
   * expiry can end the wait any more (see {@link #reserve()}).
   */
  private static final int RESERVED_NEW = 4;
  private static final int RESERVED_AWAITING = 5;
  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Suspension.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final Task<?> task;
  /** What the task waits for, for deadlock reports: its toString() is read only when reporting. */
  final Object blocker;
  /** Whether a thread outside the loop may resume it; if so, a waiting loop keeps waiting. */
  final boolean external;
  /** Whether only resume() may end the wait: no cancel, timeout or expiry claims it. */
  final boolean shielded;

  @SuppressWarnings("unused") // through STATE
  private volatile int state;
  /** Set by the first await; touched only by the awaiting task. */
  private boolean awaited;

  Suspension(Task<?> task, Object blocker, boolean external) {
    this(task, blocker, external, /* shielded= */ false);
  }

  Suspension(Task<?> task, Object blocker, boolean external, boolean shielded) {
    this.task = task;
    this.blocker = blocker;
    this.external = external;
    this.shielded = shielded;
  }

  /**
   * Suspends the calling task until {@link #resume()} is called; other tasks run meanwhile. Always
   * a switch point: if {@code resume()} came first, the task still yields once.
   *
   * @throws IllegalStateException if the caller is not the task that created this suspension, or if
   *     this suspension was awaited before (it is one-shot)
   * @throws CancellationException if the task is cancelled before or while it waits
   */
  public void await() {
    checkCaller("await");
    Traps.await(this, -1);
  }

  /**
   * Like {@link #await()}, but gives up after {@code timeout}: suspends the calling task until
   * {@link #resume()} is called or the timeout passes, whichever comes first. A timed-out
   * suspension is finished: a later {@code resume()} returns false and does nothing. A timeout too
   * long for a long of nanoseconds (over 292 years) counts as the longest that fits.
   *
   * @return true if resumed, false if the timeout passed first
   * @throws NullPointerException if {@code timeout} is null
   * @throws IllegalArgumentException if {@code timeout} is negative
   * @throws IllegalStateException if the caller is not the task that created this suspension, or
   *     if this suspension was awaited before, even if that wait timed out (it is one-shot)
   * @throws CancellationException if the task is cancelled before or while it waits
   */
  public boolean await(Duration timeout) {
    long nanos = Durations.waitNanos(timeout, "timeout");
    checkCaller("await");
    return Traps.await(this, nanos);
  }

  private void checkCaller(String op) {
    if (DrivenLoops.currentTask() != task) {
      throw new IllegalStateException(op + "() must be called by the task that made this "
          + "suspension ('" + task.name() + "'); current thread: " + Thread.currentThread());
    }
  }

  /**
   * Makes the waiting task ready again (or, if it has not awaited yet, lets its {@code await()}
   * return). May be called from any thread; from outside the loop, it also wakes an idle loop.
   *
   * @return true if this call resumed it; false if it was already resumed, timed out, or its task
   *     was cancelled
   */
  public boolean resume() {
    for (;;) {
      int s = state;
      if (s == NEW) {
        if (STATE.compareAndSet(this, NEW, RESUMED)) {
          return true;
        }
      } else if (s == AWAITING || s == RESERVED_AWAITING) {
        if (STATE.compareAndSet(this, s, RESUMED)) {
          // Sends the waiting task its wake-up. If that throws (a caller on another thread with
          // no stack left, inside the send or at the call itself), the resume did not happen:
          // the state goes back, so that a later resume() wakes the task. A plain store, no
          // call, in this very frame: with no stack left, a call could throw too. Nothing else
          // leaves RESUMED, so nothing is overwritten; a wake-up that did reach the inbox and is
          // read after this finds the suspension not resumed, and does nothing (Traps.wakeFrom;
          // docs/design.md says what a loop that reads it before this does).
          try {
            Traps.resumed(this);
          } catch (Throwable e) {
            state = s;
            throw e;
          }
          return true;
        }
      } else if (s == RESERVED_NEW) {
        if (STATE.compareAndSet(this, RESERVED_NEW, RESUMED)) {
          return true;
        }
      } else {
        return false;
      }
    }
  }

  /** Whether {@link #resume()} has been called (and took effect). */
  public boolean isResumed() {
    return state == RESUMED;
  }

  // ---- for the loop ----

  /** Marks the one await this suspension allows. */
  void markAwaited() {
    if (awaited) {
      throw new IllegalStateException("suspension of task '" + task.name() + "' waiting for "
          + blocker + " was already awaited: a suspension is one-shot; make a new one per wait");
    }
    awaited = true;
  }

  /**
   * NEW to AWAITING (or reserved and new to reserved and awaiting); false if it was resumed (or
   * cancelled) before, so there is nothing to wait for.
   */
  boolean beginAwait() {
    return STATE.compareAndSet(this, NEW, AWAITING)
        || STATE.compareAndSet(this, RESERVED_NEW, RESERVED_AWAITING);
  }

  /**
   * Promises a {@link #resume()} to come: from here, a cancel, a timeout or an expiry can no longer
   * end the wait, and the task waits for that resume. For whoever decides, before it resumes, that
   * the waiting task will see something (a joined task's failure, which is then not reported
   * elsewhere): were the wait cancelled in between, by another thread, nobody would see it. True
   * if it is reserved now (or was already); false if it was resumed or cancelled before.
   */
  boolean reserve() {
    for (;;) {
      int s = state;
      if (s == NEW) {
        if (STATE.compareAndSet(this, NEW, RESERVED_NEW)) {
          return true;
        }
      } else if (s == AWAITING) {
        if (STATE.compareAndSet(this, AWAITING, RESERVED_AWAITING)) {
          return true;
        }
      } else {
        return s == RESERVED_NEW || s == RESERVED_AWAITING;
      }
    }
  }

  /** Whether nothing has ended it yet: not resumed, not timed out, not cancelled. */
  boolean isPending() {
    int s = state;
    return s == NEW || s == AWAITING || s == RESERVED_NEW || s == RESERVED_AWAITING;
  }

  /**
   * Ends the wait by cancellation. False if a resume got there first (the task is ready, or will
   * be once a resume reserved for it comes).
   */
  boolean cancel() {
    if (shielded) {
      return false;
    }
    return STATE.compareAndSet(this, AWAITING, CANCELLED)
        || STATE.compareAndSet(this, NEW, CANCELLED);
  }

  @Override
  public String toString() {
    return "Suspension[" + task.name() + " waits for " + blocker + "]";
  }
}
