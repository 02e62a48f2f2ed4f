package dev.tasko;

import java.util.Arrays;

/**
 * The loop's timer queue: tasks that sleep until a deadline, and {@linkplain CancelScope timeout
 * scopes} that expire at one, in a min-heap ordered by deadline, then by insertion (so equal
 * deadlines fire first come, first served). O(log n) to add, to take the earliest and to remove any
 * entry; no allocation per timer, because each entry carries its own heap position and sequence
 * number (a task sleeps on at most one timer at a time; a timeout is a separate entry of its own).
 *
 * <p>Each node has four children, and the deadlines are kept in an array of their own, beside the
 * entries, and nowhere else: with a million sleepers, the entries lie all over the heap and each
 * one read is a cache miss. Taking the earliest timer reads, at each level, four deadlines side
 * by side (in one cache line, or two when they straddle one) and writes the position of the one
 * entry that moves up; a binary heap of the entries alone reads two entries a level and has twice
 * the levels. Equal deadlines are told apart by the entries' sequence numbers, which are read
 * only then.
 *
 * <p>Indexes: the children of {@code k} are {@code 4k+1..4k+4}, which stays within an int while
 * there are fewer than 2^29 timers. Each timer is a task or a cancel scope of 100 bytes or more,
 * so 2^29 of them would take over 50 GB.
 *
 * <p>Guarded by the loop's baton: only the thread that runs the loop touches it.
 */
final class Timers {
  /**
   * Capacities are a power of two less four. The array of entries then takes exactly a power of
   * two of bytes (a 16-byte header and 4-byte references), and the array of deadlines 16 bytes
   * less than one: once large, each fills whole regions of a region-based collector (G1) or half
   * of one. An array a few bytes over a power of two, once it reaches half a region, is a
   * "humongous" object in G1, and most of the last region it takes goes unused.
   */
  private static final int MIN_CAPACITY = 60;
  private TimerEntry[] heap = new TimerEntry[MIN_CAPACITY];
  /** {@code keys[i]} is the deadline of {@code heap[i]}, for every {@code i < size}. */
  private long[] keys = new long[MIN_CAPACITY];
  private int size;
  private long nextSeq;
  /** The walks below keep their stack here: they run once per idle wake-up, with no allocation. */
  private int[] walk = new int[0];

  int size() {
    return size;
  }

  /** Slots in the heap's array. */
  int capacity() {
    return heap.length;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /**
   * The deadline of a queued entry's timer. Read without the baton (a dump taken from another
   * thread while the loop runs), it may be another entry's, as any field read then may be stale;
   * it never throws.
   */
  long deadlineOf(TimerEntry entry) {
    long[] k = keys;
    return k[Math.max(0, Math.min(entry.heapIndex, k.length - 1))];
  }

  /** Deadline of the earliest timer; only meaningful when not empty. */
  long earliestDeadline() {
    return keys[0];
  }

  /**
   * The latest deadline among the timers due no later than {@code earliest + window}: waking then
   * serves them all at once, none later than {@code window} past its own deadline. Looks at no
   * more than {@code limit} timers (the heap is pruned below any timer past the window).
   */
  long latestWithin(long window, int limit) {
    long end = Durations.saturatedAdd(keys[0], window);
    long latest = keys[0];
    int cap = Math.min(limit, size);
    int[] stack = walkStack(cap);
    int top = 0;
    int seen = 0;
    stack[top++] = 0;
    while (top > 0 && seen < limit) {
      int i = stack[--top];
      seen++;
      latest = Math.max(latest, keys[i]);
      for (int c = 4 * i + 1; c <= 4 * i + 4 && c < size; c++) {
        if (keys[c] <= end && top < cap) {
          stack[top++] = c;
        }
      }
    }
    return latest;
  }

  /**
   * The earliest deadline after {@code now}, or {@code now} itself when none is found among the
   * first {@code limit} timers due by then (or no timer is pending after it). Due timers form the
   * top of the heap, so the answer is the earliest of their children that is not due.
   */
  long earliestAfter(long now, int limit) {
    if (size == 0) {
      return now;
    }
    if (keys[0] > now) {
      return keys[0];
    }
    long earliest = Long.MAX_VALUE;
    boolean found = false;
    int cap = Math.min(limit, size);
    int[] stack = walkStack(cap);
    int top = 0;
    stack[top++] = 0;
    int seen = 0;
    while (top > 0) {
      if (++seen > limit) {
        return now;
      }
      int i = stack[--top];
      for (int c = 4 * i + 1; c <= 4 * i + 4 && c < size; c++) {
        long d = keys[c];
        if (d > now) {
          found = true;
          earliest = Math.min(earliest, d);
        } else if (top < cap) {
          stack[top++] = c;
        } else {
          return now;
        }
      }
    }
    return found ? earliest : now;
  }

  /** A stack of {@code n} slots for a walk of the heap's top (n is at most the walks' limit). */
  private int[] walkStack(int n) {
    if (walk.length < n) {
      walk = new int[n];
    }
    return walk;
  }

  // The heap changes only inside place(), which calls nothing, and by plain stores after it has
  // returned. A call may throw (a StackOverflowError when a task suspends on a nearly exhausted
  // stack); thrown on the way into place(), it leaves the heap as it was, never half-changed with
  // a timer lost.

  void add(TimerEntry entry, long deadline) {
    entry.timerSeq = nextSeq++;
    if (size == heap.length) {
      resize(2 * size + 4);
    }
    place(size, entry, deadline, size + 1);
    size++;
  }

  /** Both arrays at {@code capacity}: copied first, then stored, so they never differ in length. */
  private void resize(int capacity) {
    TimerEntry[] h = Arrays.copyOf(heap, capacity);
    long[] k = Arrays.copyOf(keys, capacity);
    heap = h;
    keys = k;
  }

  /** The sequence number the next timer set will get: timers set from now on have it or later. */
  long nextSeq() {
    return nextSeq;
  }

  /**
   * Removes and returns the earliest timer if its deadline is at or before {@code now}, else null;
   * but not one due at {@code now} itself that was set at or after sequence number {@code
   * setBefore}: a timer set with no delay while the due ones are taken, on a clock that has not
   * moved since {@code now} was read (virtual time), is due at {@code now} too, and taken in the
   * same phase it would let a task that sets such timers again and again keep the phase going for
   * ever. (One due at or before {@code now} set earlier comes first: ties go by sequence number.)
   * With {@code setBefore} read from {@link #nextSeq()} just before, every timer due by
   * {@code now} is taken, as the loop's timer phase takes them; tests call it so too.
   */
  TimerEntry pollDue(long now, long setBefore) {
    if (size == 0 || keys[0] > now || (keys[0] == now && heap[0].timerSeq >= setBefore)) {
      return null;
    }
    TimerEntry first = heap[0];
    removeAt(0);
    return first;
  }

  /** Removes the entry's timer, if it has one. Returns whether it had. */
  boolean remove(TimerEntry entry) {
    int i = entry.heapIndex;
    if (i < 0) {
      return false;
    }
    removeAt(i);
    return true;
  }

  private void removeAt(int i) {
    int n = size - 1;
    // Give back what a burst of sleepers took: halve the arrays when they are three quarters empty
    // (halving at a quarter, growing when full: no size makes it flip back and forth). Before the
    // removal, as add() grows them before it places: the copy may throw (a stack overflow), and
    // then nothing has changed. After it, a poll that threw would have lost its timer.
    if (heap.length > MIN_CAPACITY && n < heap.length / 4) {
      resize((heap.length - 4) / 2); // still holds all size entries: size <= length / 4
    }
    TimerEntry removed = heap[i];
    if (i < n) {
      place(i, heap[n], keys[n], n); // the last entry takes the removed one's place
    }
    heap[n] = null;
    size = n;
    removed.heapIndex = -1;
  }

  /**
   * Puts {@code t}, due at {@code td}, at {@code i} in the heap of its first {@code n} entries,
   * then moves it down or up to where it belongs. Earlier deadline first; equal deadlines in the
   * order they were set. Calls nothing (see above).
   */
  private void place(int i, TimerEntry t, long td, int n) {
    long ts = t.timerSeq;
    int k = i;
    for (int first = 4 * k + 1; first < n; first = 4 * k + 1) {
      int end = first + 4 < n ? first + 4 : n;
      int least = first;
      long ld = keys[first];
      for (int c = first + 1; c < end; c++) {
        long d = keys[c];
        if (d < ld || (d == ld && heap[c].timerSeq < heap[least].timerSeq)) {
          least = c;
          ld = d;
        }
      }
      if (ld > td || (ld == td && heap[least].timerSeq > ts)) {
        break; // t comes before its earliest child
      }
      TimerEntry c = heap[least];
      heap[k] = c;
      keys[k] = ld;
      c.heapIndex = k;
      k = least;
    }
    if (k == i) { // not moved down: it may belong higher up
      while (k > 0) {
        int parent = (k - 1) >>> 2;
        long pd = keys[parent];
        if (pd < td || (pd == td && heap[parent].timerSeq < ts)) {
          break;
        }
        TimerEntry p = heap[parent];
        heap[k] = p;
        keys[k] = pd;
        p.heapIndex = k;
        k = parent;
      }
    }
    heap[k] = t;
    keys[k] = td;
    t.heapIndex = k;
  }
}
