package dev.tasko.bench;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * The JDK reference for sleepers run one at a time: plain virtual threads that pass one baton, as
 * tasko's tasks do, with nothing else on top. It is to {@link Scale}'s workload what {@link Baton}
 * is to the switch: the least any scheduler must do, on standard JDK APIs, to run its tasks one at
 * a time, so the part of tasko's figure that the contract costs and the part its own code costs
 * can be told apart.
 *
 * <p>Each sleeper starts when it is handed the baton, sets its deadline, goes into a timer heap,
 * hands the baton on and parks; woken with the baton, it finishes and hands it on. The holder picks
 * who is next the way tasko's loop does: threads not started yet first, in order, then the earliest
 * due sleeper; with neither, the main thread takes the baton and parks until the earliest deadline.
 * The heap is four-way with the deadlines in a {@code long[]} of their own, as tasko's is, so that
 * a million scattered entries cost what they must and no more. No names, statistics, failure
 * handling, cancellation or checks: none of what a library adds.
 */
final class SerialSleepers {
  /** The baton holder when it is the main thread. */
  private static final Object MAIN = new Object();

  // Guarded by the baton.
  private final ArrayDeque<Sleeper> unstarted = new ArrayDeque<>();
  private long[] keys = new long[64];
  private Sleeper[] values = new Sleeper[64];
  private int size;
  private long now;

  private final Thread main = Thread.currentThread();
  private volatile Object holder = MAIN;
  /** For tests, else null: each sleeper's deadline, and when it woke with the baton. */
  private final long[] deadlines;
  private final long[] wokeAt;

  private SerialSleepers(long[] deadlines, long[] wokeAt) {
    this.deadlines = deadlines;
    this.wokeAt = wokeAt;
  }

  /** Runs one sleeper per delay (nanoseconds), one at a time; returns when every one has ended. */
  static void run(long[] delays) {
    run(delays, null, null);
  }

  /**
   * {@link #run(long[])}, recording into {@code deadlines} and {@code wokeAt} (both null, or as
   * long as {@code delays}) each sleeper's deadline and the {@code System.nanoTime()} it woke at.
   */
  static void run(long[] delays, long[] deadlines, long[] wokeAt) {
    // One virtual thread ended first, as tasko's first loop does: compiled before any had ended,
    // the JDK's thread body would keep a trap for its end-of-thread code, and every sleeper would
    // fall into it as it ends.
    try {
      Thread.ofVirtual().start(() -> { }).join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    SerialSleepers s = new SerialSleepers(deadlines, wokeAt);
    for (int i = 0; i < delays.length; i++) {
      s.unstarted.add(s.new Sleeper(i, delays[i]));
    }
    s.drive();
  }

  private void drive() {
    for (;;) {
      while (holder != MAIN) {
        LockSupport.park(this);
      }
      if (size == 0 && unstarted.isEmpty()) {
        return;
      }
      Object next = next();
      if (next != MAIN) {
        handTo(next);
      } else {
        LockSupport.parkNanos(this, keys[0] - now); // nothing due: wait for the earliest
      }
    }
  }

  /** Who holds the baton next: a sleeper not started yet, a due one, or else the main thread. */
  private Object next() {
    Sleeper s = unstarted.poll();
    if (s != null) {
      return s;
    }
    if (size == 0) {
      return MAIN;
    }
    if (keys[0] > now) {
      now = System.nanoTime(); // read only when the earliest deadline is not yet known to be due
      if (keys[0] > now) {
        return MAIN;
      }
    }
    return poll();
  }

  private void handTo(Object next) {
    holder = next;
    if (next == MAIN) {
      LockSupport.unpark(main);
    } else {
      Sleeper s = (Sleeper) next;
      if (s.thread == null) {
        s.thread = Thread.ofVirtual().unstarted(s); // set before the start, which publishes it
        s.thread.start();
      } else {
        LockSupport.unpark(s.thread);
      }
    }
  }

  private final class Sleeper implements Runnable {
    final int index;
    final long delay;
    Thread thread;

    Sleeper(int index, long delay) {
      this.index = index;
      this.delay = delay;
    }

    @Override
    public void run() { // started with the baton
      long deadline = System.nanoTime() + delay;
      add(deadline, this);
      handTo(next());
      // The turn is tested after each park only, never before the first, as tasko's park does:
      // compiled while the first tasks go to sleep, a test that has only ever failed would be
      // compiled as a trap where it passes, and every sleeper would fall into it as it wakes.
      do {
        LockSupport.park(this);
      } while (holder != this);
      if (wokeAt != null) {
        deadlines[index] = deadline;
        wokeAt[index] = System.nanoTime();
      }
      handTo(next()); // the sleep is over, and so is the body
    }
  }

  // A four-way heap of deadlines, ties in any order (the workload draws distinct ones).

  private void add(long key, Sleeper value) {
    if (size == keys.length) {
      keys = Arrays.copyOf(keys, size * 2);
      values = Arrays.copyOf(values, size * 2);
    }
    int i = size++;
    while (i > 0) {
      int parent = (i - 1) >>> 2;
      if (keys[parent] <= key) {
        break;
      }
      keys[i] = keys[parent];
      values[i] = values[parent];
      i = parent;
    }
    keys[i] = key;
    values[i] = value;
  }

  private Sleeper poll() {
    Sleeper first = values[0];
    int n = --size;
    long key = keys[n];
    Sleeper value = values[n];
    values[n] = null;
    int i = 0;
    for (;;) {
      int child = 4 * i + 1;
      if (child >= n) {
        break;
      }
      int end = Math.min(child + 4, n);
      int least = child;
      for (int c = child + 1; c < end; c++) {
        if (keys[c] < keys[least]) {
          least = c;
        }
      }
      if (key <= keys[least]) {
        break;
      }
      keys[i] = keys[least];
      values[i] = values[least];
      i = least;
    }
    if (n > 0) {
      keys[i] = key;
      values[i] = value;
    }
    return first;
  }
}
