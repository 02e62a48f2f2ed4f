package dev.tasko;

import java.util.Arrays;

/**
 * The loop's timer queue: tasks that sleep until a deadline, and {@linkplain TimeoutScope timeout
 * scopes} that expire at one, in a binary min-heap ordered by deadline, then by insertion (so equal
 * deadlines fire first come, first served). O(log n) to add, to take the earliest and to remove any
 * entry; no allocation per timer, because each entry carries its own deadline and heap position (a
 * task sleeps on at most one timer at a time; a timeout is a separate entry of its own).
 *
 * <p>Guarded by the loop's baton: only the thread that runs the loop touches it.
 */
final class Timers {
  private static final int MIN_CAPACITY = 64;
  private TimerEntry[] heap = new TimerEntry[MIN_CAPACITY];
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

  /** Deadline of the earliest timer; only meaningful when not empty. */
  long earliestDeadline() {
    return heap[0].deadline;
  }

  /**
   * The latest deadline among the timers due no later than {@code earliest + window}: waking then
   * serves them all at once, none later than {@code window} past its own deadline. Looks at no
   * more than {@code limit} timers (the heap is pruned below any timer past the window).
   */
  long latestWithin(long window, int limit) {
    long end = Durations.saturatedAdd(heap[0].deadline, window);
    long latest = heap[0].deadline;
    int cap = Math.min(limit, size);
    int[] stack = walkStack(cap);
    int top = 0;
    int seen = 0;
    stack[top++] = 0;
    while (top > 0 && seen < limit) {
      int i = stack[--top];
      seen++;
      latest = Math.max(latest, heap[i].deadline);
      for (int c = 2 * i + 1; c <= 2 * i + 2 && c < size; c++) {
        if (heap[c].deadline <= end && top < cap) {
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
    if (heap[0].deadline > now) {
      return heap[0].deadline;
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
      for (int c = 2 * i + 1; c <= 2 * i + 2 && c < size; c++) {
        long d = heap[c].deadline;
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
    entry.deadline = deadline;
    entry.timerSeq = nextSeq++;
    if (size == heap.length) {
      heap = Arrays.copyOf(heap, size * 2);
    }
    place(size, entry, size + 1);
    size++;
  }

  /**
   * Removes and returns the earliest timer if its deadline is at or before {@code now}, else null.
   */
  TimerEntry pollDue(long now) {
    if (size == 0 || heap[0].deadline > now) {
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
    TimerEntry removed = heap[i];
    int n = size - 1;
    if (i < n) {
      place(i, heap[n], n); // the last entry takes the removed one's place
    }
    heap[n] = null;
    size = n;
    removed.heapIndex = -1;
    // Give back what a burst of sleepers took: halve the array when it is three quarters empty
    // (halving at a quarter, growing when full: no size makes it flip back and forth).
    if (heap.length > MIN_CAPACITY && size < heap.length / 4) {
      heap = Arrays.copyOf(heap, heap.length / 2);
    }
  }

  /**
   * Puts {@code t} at {@code i} in the heap of its first {@code n} entries, then moves it down or
   * up to where it belongs. Earlier deadline first; equal deadlines in the order they were set.
   * Calls nothing (see above).
   */
  private void place(int i, TimerEntry t, int n) {
    int half = n >>> 1;
    int k = i;
    while (k < half) {
      int child = 2 * k + 1;
      TimerEntry c = heap[child];
      int right = child + 1;
      if (right < n) {
        TimerEntry r = heap[right];
        if (r.deadline < c.deadline || (r.deadline == c.deadline && r.timerSeq < c.timerSeq)) {
          child = right;
          c = r;
        }
      }
      if (c.deadline > t.deadline || (c.deadline == t.deadline && c.timerSeq > t.timerSeq)) {
        break; // t comes before its earlier child
      }
      heap[k] = c;
      c.heapIndex = k;
      k = child;
    }
    if (k == i) { // not moved down: it may belong higher up
      while (k > 0) {
        int parent = (k - 1) >>> 1;
        TimerEntry p = heap[parent];
        if (p.deadline < t.deadline || (p.deadline == t.deadline && p.timerSeq < t.timerSeq)) {
          break;
        }
        heap[k] = p;
        p.heapIndex = k;
        k = parent;
      }
    }
    heap[k] = t;
    t.heapIndex = k;
  }
}
