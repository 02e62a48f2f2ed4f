package dev.tasko;

import java.util.ArrayDeque;
import java.util.concurrent.CancellationException;

/**
 * A fixed number of permits shared by the tasks of one loop: "at most two sensors converting at
 * once", "one radio transmission at a time per channel". A task {@linkplain #acquire() acquires} a
 * {@link Permit}, waiting if none is free, and closes it when done (try-with-resources).
 *
 * <pre>{@code
 * Semaphore i2cSlots = Semaphore.create("i2c-slots", 2);
 * try (Permit p = i2cSlots.acquire()) {     // waits while two tasks hold one
 *   sensor.convertAndRead();
 * }                                          // the next waiting task gets it
 * }</pre>
 *
 * <h2>Fairness</h2>
 * Strictly first come, first served, with no barging (an executable reminder, like trio's
 * {@code StrictFIFOLock}). A free permit is taken at once, without yielding, only when nobody
 * waits. A closed permit passes straight to the task that has waited longest, so it is never free
 * in between and a task that closes and asks again queues behind those already waiting.
 *
 * <h2>Ownership</h2>
 * Permits exist only as {@code Permit} objects: the semaphore never holds more than it was created
 * with. A permit releases once (closing it again does nothing), only from a task of the semaphore's
 * loop. A task that ends while holding a permit has it released for it, with a warning in the log,
 * as with a forgotten {@link Lease}.
 *
 * <h2>Threads and deadlocks</h2>
 * A semaphore belongs to the loop of the first task that acquires it; tasks of other loops get an
 * {@link IllegalStateException}. {@link #available()} and {@code toString()} may be called from any
 * thread. Only tasks of the loop release permits, so a wait on a semaphore can be part of a
 * deadlock: {@link Loop#run()} reports it ({@code "semaphore 'i2c-slots' (0 of 2 free)"}) rather
 * than waiting forever. A waiting task is parked on the loop's one parking primitive,
 * {@link Suspension}, and costs nothing.
 *
 * <h2>Cancellation</h2>
 * A task cancelled (or timed out, see {@link Tasko#withTimeout}) while it waits leaves the queue
 * and throws {@link CancellationException}; if a permit had just been handed to it, it passes the
 * permit on untouched to the next waiter. No permit is lost.
 */
public final class Semaphore {
  private final String name;
  private final int permits;

  /** The loop whose tasks use this semaphore; set by the first acquire. */
  private volatile Loop loop;
  // ---- guarded by that loop's baton; volatile so that any thread may read it ----
  private volatile int free;
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

  private Semaphore(String name, int permits) {
    if (permits < 1) {
      throw new IllegalArgumentException("permits < 1: " + permits);
    }
    this.name = name;
    this.permits = permits;
    this.free = permits;
  }

  /**
   * A semaphore with {@code permits} permits, all free.
   *
   * @throws IllegalArgumentException if {@code permits} is below 1
   */
  public static Semaphore create(int permits) {
    return new Semaphore(null, permits);
  }

  /**
   * Like {@link #create(int)}, named for diagnostics ({@code "semaphore 'i2c-slots' (0 of 2
   * free)"}).
   *
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if {@code permits} is below 1, or if {@code name} is empty
   *     or blank or holds a control character (a line break)
   */
  public static Semaphore create(String name, int permits) {
    return new Semaphore(Names.require(name), permits);
  }

  /**
   * Takes a permit for the calling task, suspending it until one is free and its turn comes (first
   * come, first served). Returns at once, without yielding, if a permit is free and nobody waits.
   *
   * @return the permit; close it to release
   * @throws IllegalStateException if not called from a task of a running loop (a callback
   *     schedule's body may not wait: see {@link Loop#scheduleCallback}), or if the semaphore
   *     belongs to another loop
   * @throws CancellationException if the task is cancelled (or an enclosing timeout passes, or a
   *     child of an enclosing task group fails) before or while it waits; it then neither holds
   *     nor waits for a permit
   */
  public Permit acquire() {
    Task<?> self = DrivenLoops.requireCurrentTask("acquire");
    bindTo(self.loop);
    Traps.checkCancelled(self);
    if (free > 0 && waiters.isEmpty()) {
      Permit p = grant(self); // first: were it to throw (no stack left), no permit is taken
      free--;
      return p;
    }
    Waiter w = new Waiter(self, this);
    waiters.add(w);
    try {
      Traps.await(w.suspension, -1);
    } catch (CancellationException e) {
      if (w.granted) {
        passOn(null); // handed to us just before the cancel: hand it on untouched
      } else {
        waiters.remove(w);
      }
      throw e;
    }
    try {
      return grant(self); // handed to us by the task that released it
    } catch (Throwable e) { // no stack left to take it: hand it on
      passOn(null);
      throw e;
    }
  }

  /**
   * Takes a permit if one is free and nobody waits for one; never suspends (and so is not a
   * cancellation point).
   *
   * @return the permit, or null if none is free
   * @throws IllegalStateException if not called from a task of a running loop, or if the semaphore
   *     belongs to another loop
   */
  public Permit tryAcquire() {
    Task<?> self = DrivenLoops.requireLoopCaller("tryAcquire");
    bindTo(self.loop);
    if (free > 0 && waiters.isEmpty()) {
      Permit p = grant(self); // first, as in acquire()
      free--;
      return p;
    }
    return null;
  }

  /** How many permits are free right now; a snapshot from another thread. Any thread. */
  public int available() {
    return free;
  }

  private Permit grant(Task<?> self) {
    Permit p = new Permit(this, self);
    self.holding(p);
    return p;
  }

  /** A permit was closed: it goes to the longest waiter still waiting, or becomes free. */
  void release(Permit p) {
    passOn(p);
    p.holder.released(p); // after: closed already, a permit still listed is not closed again
  }

  /**
   * Hands a permit to the longest waiter still waiting, or frees it; marks {@code from}, the permit
   * released, closed once it has passed on (null: a permit handed to a waiter that was cancelled).
   * A call that throws on the way (a task with no stack left) leaves each waiter first in line,
   * waiting, and the permit where it was; once it has passed on, only stores follow, but taking
   * the woken waiter off the line: a later call skips it.
   */
  private void passOn(Permit from) {
    for (Waiter w; (w = waiters.peek()) != null; ) {
      if (!w.suspension.isPending()) { // cancelled and on its way out, or already woken: skip it
        waiters.poll();
        continue;
      }
      w.granted = true;
      boolean resumed;
      try {
        resumed = w.suspension.resume();
      } catch (Throwable e) {
        w.granted = false;
        throw e;
      }
      if (resumed) {
        if (from != null) {
          from.closed = true;
        }
        waiters.poll();
        return;
      }
      w.granted = false; // that waiter was cancelled and is on its way out: skip it
      waiters.poll();
    }
    free++;
    if (from != null) {
      from.closed = true;
    }
  }

  void checkOnLoop(String op) {
    Task<?> t = DrivenLoops.currentTask();
    if (t == null || t.loop != loop) {
      throw new IllegalStateException(op + "() of " + this + " must be called from a task of loop '"
          + loop.name() + "'; current thread: " + Thread.currentThread()
          + (t == null ? "" : ", of task '" + t.name() + "' of " + t.loop.nameBeside(loop)));
    }
  }

  private void bindTo(Loop l) {
    Loop bound = loop;
    if (bound == null) {
      synchronized (this) {
        if (loop == null) {
          loop = l;
        }
        bound = loop;
      }
    }
    if (bound != l) {
      throw new IllegalStateException(this + " belongs to loop '" + bound.name()
          + "'; it cannot be acquired from a task of " + l.nameBeside(bound));
    }
  }

  /**
   * {@code "semaphore 'i2c-slots' (0 of 2 free)"}: what a task waiting on it shows in diagnostics.
   * Any thread.
   */
  @Override
  public String toString() {
    String what = name == null ? "semaphore" : "semaphore '" + name + "'";
    return what + " (" + free + " of " + permits + " free)";
  }

  /** A task in the queue. */
  private static final class Waiter {
    final Suspension suspension;
    /** Whether a permit has been handed to it. */
    boolean granted;

    Waiter(Task<?> task, Semaphore semaphore) {
      this.suspension = new Suspension(task, semaphore, /* external= */ false);
    }
  }
}
