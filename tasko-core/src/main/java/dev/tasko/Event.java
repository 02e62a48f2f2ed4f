package dev.tasko;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;

/**
 * A flag that tasks wait for: "data ready", "calibrated", "network up". {@link #set()} wakes every
 * waiting task; while the event is set, {@link #await()} returns at once; {@link #clear()} makes
 * later waits wait again.
 *
 * <pre>{@code
 * Event ready = Event.create("ready");
 * sensor.onDataReady(ready::set);          // an interrupt listener, on any thread
 * ready.await();                            // this task waits; the others run
 * ready.clear();
 * show(sensor.read());
 * }</pre>
 *
 * <h2>Threads</h2>
 * {@link #set()}, {@link #clear()} and {@link #isSet()} may be called from any thread, and wake an
 * idle loop; the waits must be called from a task, of any loop. Because another thread may set it
 * at any time, a task waiting for an event is, for the loop, waiting for the outside world: the
 * loop does not end and reports no deadlock while it waits.
 *
 * <h2>Waking</h2>
 * {@code set()} wakes every task waiting at that moment; they run at their loop's next pass, in the
 * order they began to wait, even if the event is cleared again before they run. A task waiting is
 * parked on the loop's one parking primitive, {@link Suspension}, and costs nothing.
 *
 * <h2>Cancellation</h2>
 * A task cancelled (or timed out, see {@link Tasko#withTimeout}) while it waits leaves the waiters
 * and throws {@link CancellationException}; the event is not affected.
 */
public final class Event {
  private final String name;
  private volatile boolean set;
  /** Guarded by {@code this}: the suspensions of the tasks waiting, oldest first. */
  private final List<Suspension> waiters = new ArrayList<>();

  private Event(String name) {
    this.name = name;
  }

  /** A new event, not set. */
  public static Event create() {
    return new Event(null);
  }

  /**
   * A new event, not set, named for diagnostics ({@code "event 'ready'"}).
   *
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public static Event create(String name) {
    return new Event(Names.require(name));
  }

  /** Sets the event and wakes every task waiting for it. Idempotent. Any thread. */
  public void set() {
    Suspension[] woken;
    synchronized (this) {
      // Waiters left while set: a set() that threw on the way (a caller with no stack left) left
      // them, and this one wakes them.
      if (set && waiters.isEmpty()) {
        return;
      }
      set = true;
      if (waiters.isEmpty()) {
        return;
      }
      woken = waiters.toArray(new Suspension[0]);
    }
    for (Suspension s : woken) {
      s.resume(); // outside the lock: resume() may call into a loop
    }
    // Only now, once every one is woken, do they leave: were a resume to throw, those not woken
    // would stay, for the next set(). (A second resume of one already woken does nothing.)
    synchronized (this) {
      waiters.removeIf(s -> !s.isPending());
    }
  }

  /** Clears the event: later waits wait for the next {@link #set()}. Any thread. */
  public synchronized void clear() {
    set = false;
  }

  /** Whether the event is set. Any thread. */
  public boolean isSet() {
    return set;
  }

  /**
   * Waits until the event is set. Returns at once, without yielding, if it is set already;
   * otherwise suspends the calling task until {@link #set()}.
   *
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   * @throws CancellationException if the task is cancelled (or an enclosing timeout passes, or a
   *     child of an enclosing task group fails) before or while it waits
   */
  public void await() {
    Task<?> self = DrivenLoops.requireCurrentTask("await");
    Traps.checkCancelled(self);
    Suspension s;
    synchronized (this) {
      if (set) {
        return;
      }
      s = new Suspension(self, this, /* external= */ true);
      waiters.add(s);
    }
    wait(s, -1);
  }

  /**
   * Like {@link #await()}, but gives up after {@code timeout}. A timeout too long for a long of
   * nanoseconds (over 292 years) counts as the longest that fits.
   *
   * @return true if the event is set, false if the timeout passed first
   * @throws NullPointerException if {@code timeout} is null
   * @throws IllegalArgumentException if {@code timeout} is negative
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   * @throws CancellationException if the task is cancelled (or an enclosing timeout passes, or a
   *     child of an enclosing task group fails) before or while it waits
   */
  public boolean await(Duration timeout) {
    long nanos = Durations.waitNanos(timeout, "timeout");
    Task<?> self = DrivenLoops.requireCurrentTask("await");
    Traps.checkCancelled(self);
    Suspension s;
    synchronized (this) {
      if (set) {
        return true;
      }
      s = new Suspension(self, this, /* external= */ true);
      waiters.add(s);
    }
    return wait(s, nanos);
  }

  private boolean wait(Suspension s, long timeoutNanos) {
    boolean resumed = false;
    try {
      resumed = Traps.await(s, timeoutNanos);
      return resumed;
    } finally {
      if (!resumed) {
        synchronized (this) {
          waiters.remove(s); // timed out or cancelled: leave the queue
        }
      }
    }
  }

  @Override
  public String toString() {
    return (name == null ? "event" : "event '" + name + "'") + (set ? " (set)" : "");
  }
}
