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

  void add(TimerEntry entry, long deadline) {
    entry.deadline = deadline;
    entry.timerSeq = nextSeq++;
    if (size == heap.length) {
      heap = Arrays.copyOf(heap, size * 2);
    }
    siftUp(size++, entry);
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
    removed.heapIndex = -1;
    TimerEntry last = heap[--size];
    heap[size] = null;
    if (i < size) {
      siftDown(i, last);
      if (heap[i] == last) {
        siftUp(i, last);
      }
    }
    // Give back what a burst of sleepers took: halve the array when it is three quarters empty
    // (halving at a quarter, growing when full: no size makes it flip back and forth).
    if (heap.length > MIN_CAPACITY && size < heap.length / 4) {
      heap = Arrays.copyOf(heap, heap.length / 2);
    }
  }

  private void siftUp(int i, TimerEntry t) {
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      TimerEntry p = heap[parent];
      if (!before(t, p)) {
        break;
      }
      heap[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    heap[i] = t;
    t.heapIndex = i;
  }

  private void siftDown(int i, TimerEntry t) {
    int half = size >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      TimerEntry c = heap[child];
      int right = child + 1;
      if (right < size && before(heap[right], c)) {
        child = right;
        c = heap[child];
      }
      if (!before(c, t)) {
        break;
      }
      heap[i] = c;
      c.heapIndex = i;
      i = child;
    }
    heap[i] = t;
    t.heapIndex = i;
  }

  private static boolean before(TimerEntry a, TimerEntry b) {
    return a.deadline < b.deadline || (a.deadline == b.deadline && a.timerSeq < b.timerSeq);
  }
}
