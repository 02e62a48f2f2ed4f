package dev.tasko;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.CancellationException;

/**
 * A first-in, first-out queue that hands elements from producers to consumers: a sensor task to a
 * logger task, a GPIO interrupt listener to the task that debounces it. Tasks {@link #put} and
 * {@link #take}, suspending while the channel is full or empty; any thread may {@link #offer} and
 * {@link #poll()} without ever blocking.
 *
 * <pre>{@code
 * Channel<String> lines = Channel.create("lines", 64);
 * loop.schedule(Duration.ofSeconds(1), () -> lines.put(sensor.read() + " C"));
 * loop.addTask("sd-logger", () -> {
 *   for (String line : lines) {            // takes until the channel is closed and drained
 *     sdCard.append(line);
 *   }
 * });
 * }</pre>
 *
 * <h2>Nothing merged, nothing lost silently</h2>
 * Every element offered is either queued or refused: {@link #offer} returns false when the channel
 * is full (or closed) and counts the refusal in {@link #dropped()}. A burst faster than the
 * consumer is queued up to the capacity; what is beyond it is counted, never merged into what is
 * already queued. Null elements are refused with a {@link NullPointerException}.
 *
 * <h2>Fairness</h2>
 * Strictly first come, first served, with no barging. An element put while tasks wait to take goes
 * straight to the one that has waited longest. A slot freed while tasks wait to put is filled at
 * once with the element of the one that has waited longest, which is woken to return: no later
 * {@code put}, nor an {@code offer} from another thread, comes before it. Elements come out in the
 * order their puts and offers began, except one that a cancelled taker gives back (below), which
 * goes back to the head.
 *
 * <h2>Threads</h2>
 * {@link #offer}, {@link #poll()}, {@link #close()}, {@link #size()}, {@link #dropped()} and
 * {@link #isClosed()} may be called from any thread: interrupt listeners, Pi4J callbacks, tasks of
 * other loops; an element offered from another thread wakes the idle loop of the task waiting for
 * it. {@link #put}, {@link #take}, {@link #poll(Duration)} and the iterator must be called from a
 * task (of any loop). Because another thread may offer or close at any time, a task waiting on a
 * channel is, for its loop, waiting for the outside world: the loop does not end and reports no
 * deadlock while it waits. A waiting task is parked on the loop's one parking primitive,
 * {@link Suspension}, and costs nothing.
 *
 * <h2>Closing</h2>
 * After {@link #close()}, {@code put} throws {@link ChannelClosedException} (an
 * {@link IllegalStateException}) and {@code offer} returns false; tasks still waiting to put are
 * woken and throw the same, their elements not added. {@code take} goes on returning what was
 * queued before the close (an element a cancelled taker gives back included), then throws
 * {@code ChannelClosedException}; iteration ends there.
 *
 * <h2>Cancellation</h2>
 * A task cancelled (or timed out, see {@link Tasko#withTimeout}) while it waits leaves the queue
 * and throws {@link CancellationException}, and nothing is lost: a waiting {@code put} has not
 * added its element (one whose element went into a freed slot as the cancel came returns, and the
 * cancellation is thrown at the task's next suspension point); a {@code take} that had just been
 * handed an element gives it back to the head of the channel (or to the next task waiting), even
 * if that briefly puts the channel one past its capacity.
 *
 * @param <T> the element type
 */
public final class Channel<T> implements Iterable<T> {
  private final String name;
  private final int capacity;

  // ---- guarded by this ----
  private final ArrayDeque<T> items = new ArrayDeque<>();
  /** Tasks waiting to take, longest first; each is handed an element directly. */
  private final ArrayDeque<Waiter<T>> takers = new ArrayDeque<>();
  /**
   * Tasks waiting to put, longest first, each with its element: a freed slot takes the element of
   * the first at once (see {@link #grantSlots}), so no later put can come before it.
   */
  private final ArrayDeque<Waiter<T>> putters = new ArrayDeque<>();
  /**
   * Elements handed to woken takers that have not yet returned them from take(). A closed channel
   * is drained only when this is zero too: a cancelled taker gives its element back.
   */
  private int handedOver;

  // Written under the lock; volatile so that any thread may read them without it.
  private volatile boolean closed;
  private volatile long dropped;

  private Channel(String name, int capacity) {
    this.name = name;
    this.capacity = capacity;
  }

  /**
   * A channel that queues up to {@code capacity} elements.
   *
   * @throws IllegalArgumentException if {@code capacity} is below 1
   */
  public static <T> Channel<T> create(int capacity) {
    return new Channel<>(null, checkCapacity(capacity));
  }

  /**
   * A channel that queues up to {@code capacity} elements, named for diagnostics
   * ({@code "channel 'lines' (empty)"}).
   *
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if {@code capacity} is below 1, or if {@code name} is empty
   *     or blank or holds a control character (a line break)
   */
  public static <T> Channel<T> create(String name, int capacity) {
    Names.require(name);
    return new Channel<>(name, checkCapacity(capacity));
  }

  /** A channel without a capacity: {@code put} never waits; {@code offer} refuses once closed. */
  public static <T> Channel<T> unbounded() {
    return new Channel<>(null, Integer.MAX_VALUE);
  }

  /**
   * Like {@link #unbounded()}, named for diagnostics.
   *
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public static <T> Channel<T> unbounded(String name) {
    return new Channel<>(Names.require(name), Integer.MAX_VALUE);
  }

  private static int checkCapacity(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity < 1: " + capacity);
    }
    return capacity;
  }

  // ----------------------------------------------------------------------------------------------
  // Any thread.
  // ----------------------------------------------------------------------------------------------

  /**
   * Queues {@code element} if there is room, without ever blocking or suspending; hands it straight
   * to the task that has waited longest to take, if any. Any thread.
   *
   * @return true if queued; false if the channel is full or closed (the refusal is counted in
   *     {@link #dropped()})
   * @throws NullPointerException if {@code element} is null
   */
  public boolean offer(T element) {
    Objects.requireNonNull(element, "element == null");
    synchronized (this) {
      if (!closed && deliver(element)) {
        return true;
      }
      dropped++;
      return false;
    }
  }

  /**
   * Takes the oldest element, or returns null at once if there is none. Never blocks or suspends.
   * Any thread.
   */
  public synchronized T poll() {
    T x = items.poll();
    if (x != null) {
      try {
        grantSlots();
      } catch (Throwable e) { // a stack overflow waking a putter: this poll did not happen
        items.addFirst(x);
        throw e;
      }
    }
    return x;
  }

  /**
   * Closes the channel: later puts fail and later offers are refused; tasks waiting to put are
   * woken and fail; what is queued can still be taken, after which takes throw
   * {@link ChannelClosedException} (tasks waiting to take are woken to throw it). Idempotent. Any
   * thread.
   */
  public synchronized void close() {
    if (closed) {
      return;
    }
    // Closed only once every waiter is woken (they run after this lock is let go, and find it
    // closed): a close() that overflowed the stack of its thread on the way leaves the channel
    // open, and the next close() wakes the rest.
    wakeAll(takers); // not granted: they find the channel closed
    wakeAll(putters);
    closed = true;
  }

  /**
   * Wakes every waiter of {@code queue}, taking each off only once woken: a resume that overflows
   * the stack of its thread leaves its waiter first in line, waiting, for the next call.
   */
  private static <T> void wakeAll(ArrayDeque<Waiter<T>> queue) {
    for (Waiter<T> w; (w = queue.peek()) != null; ) {
      w.suspension.resume(); // false if resumed, timed out or cancelled already: it goes anyway
      queue.poll();
    }
  }

  /** Whether {@link #close()} has been called. Any thread. */
  public boolean isClosed() {
    return closed;
  }

  /** How many elements are queued now (not counting those being handed over). Any thread. */
  public synchronized int size() {
    return items.size();
  }

  /** How many offered elements were refused so far (channel full or closed). Any thread. */
  public long dropped() {
    return dropped;
  }

  // ----------------------------------------------------------------------------------------------
  // Tasks.
  // ----------------------------------------------------------------------------------------------

  /**
   * Adds {@code element}, suspending the calling task while the channel is full. Returns at once,
   * without yielding, if there is room and nobody waits to put before it.
   *
   * @throws NullPointerException if {@code element} is null
   * @throws ChannelClosedException if the channel is closed, or closes while the task waits (the
   *     element is not added)
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   * @throws CancellationException if the task is cancelled (or an enclosing timeout passes, or a
   *     child of an enclosing task group fails) before or while it waits; the element is not
   *     added
   */
  public void put(T element) {
    Objects.requireNonNull(element, "element == null");
    Task<?> self = DrivenLoops.requireCurrentTask("put");
    Traps.checkCancelled(self);
    for (;;) {
      Waiter<T> w;
      synchronized (this) {
        if (closed) {
          throw closedForPut();
        }
        if (deliver(element)) {
          return;
        }
        w = new Waiter<>(self, this);
        w.item = element;
        putters.add(w);
      }
      try {
        // Once granted, the element is in the channel: the put has happened, and a cancel that
        // came meanwhile is thrown at the next suspension point.
        Traps.awaitResumeWins(w.suspension);
      } catch (Throwable e) { // a cancel, or no stack left after the wake-up
        synchronized (this) {
          if (!w.granted) {
            putters.remove(w);
          } // granted: its element is in the channel, in its place in line, and stays there
        }
        throw e;
      }
      synchronized (this) {
        if (w.granted) {
          return; // its element went into a freed slot
        }
      }
      // Woken without its element going in: a cancel that came meanwhile wins, as in any wait.
      Traps.checkCancelled(self);
      synchronized (this) {
        if (closed) {
          throw closedForPut(); // woken by close()
        }
        // woken by a close() that overflowed its thread's stack before it closed: wait again
      }
    }
  }

  /**
   * Takes the oldest element, suspending the calling task while the channel is empty. Returns at
   * once, without yielding, if an element is queued.
   *
   * @throws ChannelClosedException if the channel is closed and every element has been taken
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   * @throws CancellationException if the task is cancelled (or an enclosing timeout passes, or a
   *     child of an enclosing task group fails) before or while it waits; no element is lost
   */
  public T take() {
    return take0(DrivenLoops.requireCurrentTask("take"), -1);
  }

  /**
   * Like {@link #take()}, but gives up after {@code timeout}. A timeout too long for a long of
   * nanoseconds (over 292 years) counts as the longest that fits.
   *
   * @return the oldest element, or null if the timeout passed first
   * @throws NullPointerException if {@code timeout} is null
   * @throws IllegalArgumentException if {@code timeout} is negative
   * @throws ChannelClosedException if the channel is closed and every element has been taken
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   * @throws CancellationException if the task is cancelled (or an enclosing timeout passes, or a
   *     child of an enclosing task group fails) before or while it waits; no element is lost
   */
  public T poll(Duration timeout) {
    long nanos = Durations.waitNanos(timeout, "timeout");
    return take0(DrivenLoops.requireCurrentTask("poll"), nanos);
  }

  private T take0(Task<?> self, long timeoutNanos) {
    Traps.checkCancelled(self);
    long deadline =
        timeoutNanos < 0 ? -1 : Durations.saturatedAdd(self.loop.nanoTime(), timeoutNanos);
    for (;;) {
      Waiter<T> w;
      synchronized (this) {
        T x = items.poll();
        if (x != null) {
          try {
            grantSlots();
          } catch (Throwable e) { // no stack left to wake a putter (a task deep in a recursion)
            items.addFirst(x); // not taken, so not lost: a second take() takes it
            throw e;
          }
          return x;
        }
        if (closed && handedOver == 0) {
          throw closedForTake();
        }
        w = new Waiter<>(self, this);
        takers.add(w);
      }
      long wait = deadline < 0 ? -1 : Math.max(0, deadline - self.loop.nanoTime());
      boolean resumed;
      try {
        resumed = Traps.await(w.suspension, wait);
      } catch (Throwable e) { // a cancel, or no stack left after the wake-up
        synchronized (this) {
          if (w.granted) {
            giveBack(w.item);
          } else {
            takers.remove(w);
          }
        }
        throw e;
      }
      synchronized (this) {
        if (!resumed) {
          takers.remove(w); // timed out: never granted (a grant resumes it first)
          return null;
        }
        if (w.granted) {
          handedOver--;
          try {
            wakeTakersIfDrained();
          } catch (Throwable e) { // no stack left to wake the others: the element is not lost
            items.addFirst(w.item);
            throw e;
          }
          return w.item;
        }
        // Woken by close(), or because the last hand-off ended after it: look again.
      }
    }
  }

  /**
   * Takes elements until the channel is closed and drained: {@code for (T x : channel)}. The
   * iterator's {@code hasNext()} suspends like {@link #take()} and must be called from a task;
   * {@code remove()} is not supported.
   */
  @Override
  public Iterator<T> iterator() {
    return new Iterator<>() {
      private T next;

      @Override
      public boolean hasNext() {
        if (next != null) {
          return true;
        }
        try {
          next = take();
          return true;
        } catch (ChannelClosedException e) {
          return false;
        }
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException(Channel.this + " is closed and drained");
        }
        T x = next;
        next = null;
        return x;
      }
    };
  }

  // ---- guarded by this ----

  /**
   * Hands {@code x} to the longest-waiting taker, or queues it if there is a free slot nobody waits
   * for. False if it must wait (or be refused).
   */
  private boolean deliver(T x) {
    if (handToTaker(x)) {
      return true;
    }
    if (putters.isEmpty() && items.size() < capacity) {
      items.add(x);
      return true;
    }
    return false;
  }

  private boolean handToTaker(T x) {
    for (Waiter<T> t; (t = takers.peek()) != null; ) {
      if (!t.suspension.isPending()) {
        // timed out or cancelled just now, and on its way out; or handed an element by a call
        // that then overflowed the stack of its thread before it took it off: skip it
        takers.poll();
        continue;
      }
      t.item = x;
      t.granted = true;
      boolean resumed;
      try {
        resumed = t.suspension.resume();
      } catch (Throwable e) { // a stack overflow: not handed, it waits on, first in line
        t.item = null;
        t.granted = false;
        throw e;
      }
      if (resumed) {
        handedOver++;
        takers.poll();
        return true;
      }
      t.item = null; // it timed out or was cancelled just now: skip it
      t.granted = false;
      takers.poll();
    }
    return false;
  }

  /** A taker cancelled after it was handed {@code x}: the next taker gets it, or the head. */
  private void giveBack(T x) {
    handedOver--;
    boolean handed = false;
    try {
      handed = handToTaker(x);
    } finally {
      if (!handed) { // no taker, or no stack left to wake one: back to the head
        items.addFirst(x);
      }
    }
  }

  /** Closed and nothing left, nor on its way: tasks still waiting to take are woken to throw. */
  private void wakeTakersIfDrained() {
    if (closed && items.isEmpty() && handedOver == 0) {
      wakeAll(takers);
    }
  }

  /**
   * Fills each free slot with the element of the longest-waiting putter, and wakes it: its put has
   * happened. The element goes in here, not when the putter runs, so that nothing put or offered
   * meanwhile comes before it.
   */
  private void grantSlots() {
    while (!putters.isEmpty() && items.size() < capacity) {
      Waiter<T> p = putters.peek();
      if (!p.suspension.isPending()) { // as in handToTaker
        putters.poll();
        continue;
      }
      items.add(p.item);
      p.granted = true;
      boolean resumed;
      try {
        resumed = p.suspension.resume();
      } catch (Throwable e) { // a stack overflow: not added, it waits on, first in line
        items.removeLast();
        p.granted = false;
        throw e;
      }
      putters.poll();
      if (!resumed) { // cancelled just now: its element is not added
        items.removeLast();
        p.granted = false;
      }
    }
  }

  private ChannelClosedException closedForPut() {
    return new ChannelClosedException("put on a closed " + this);
  }

  private ChannelClosedException closedForTake() {
    return new ChannelClosedException(this + ": closed and drained");
  }

  /**
   * What the channel is and holds: {@code "channel 'lines' (empty)"}, {@code "channel 'lines' (3 of
   * 64 queued)"}, {@code "channel 'lines' (full: 64 of 64)"}, {@code "channel 'lines' (closed, 2
   * left)"}. What a task waiting on it shows in diagnostics. Any thread.
   */
  @Override
  public synchronized String toString() {
    String what = name == null ? "channel" : "channel '" + name + "'";
    int n = items.size();
    String state;
    if (closed) {
      state = n == 0 ? "closed, empty" : "closed, " + n + " left";
    } else if (n == 0) {
      state = "empty";
    } else if (capacity == Integer.MAX_VALUE) {
      state = n + " queued";
    } else if (n >= capacity) {
      state = "full: " + n + " of " + capacity;
    } else {
      state = n + " of " + capacity + " queued";
    }
    return what + " (" + state + ")";
  }

  /** A task waiting to take or to put. Its fields are guarded by the channel's lock. */
  private static final class Waiter<T> {
    final Suspension suspension;
    /** Whether it was handed an element (a taker), or its element went in (a putter). */
    boolean granted;
    /** A taker's element, once granted; a putter's element. */
    T item;

    Waiter(Task<?> task, Channel<T> channel) {
      this.suspension = new Suspension(task, channel, /* external= */ true);
    }
  }
}
