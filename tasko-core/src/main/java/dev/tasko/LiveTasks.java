package dev.tasko;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A loop's tasks that have not finished yet, oldest first, in a list linked through the tasks
 * themselves ({@code Task.prevLive}, {@code Task.nextLive}): no allocation per task.
 * {@link Loop#run()} ends when it is empty; a deadlock report lists it.
 *
 * <p>Guarded by the loop's baton: only the thread that holds it adds and removes. {@link #size()}
 * may be read from any thread, as a snapshot.
 */
final class LiveTasks {
  private static final VarHandle COUNT;

  static {
    try {
      COUNT = MethodHandles.lookup().findVarHandle(LiveTasks.class, "count", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private Task<?> head;
  private Task<?> tail;
  /**
   * Written with opaque stores, read with opaque loads: {@link #size()} is read from any thread.
   */
  private int count;

  /** The oldest task not finished yet, or null; the rest follow through {@code Task.nextLive}. */
  Task<?> oldest() {
    return head;
  }

  int size() {
    return (int) COUNT.getOpaque(this);
  }

  void add(Task<?> t) {
    t.prevLive = tail;
    if (tail == null) {
      head = t;
    } else {
      tail.nextLive = t;
    }
    tail = t;
    COUNT.setOpaque(this, count + 1);
  }

  /**
   * Removes {@code t}; does nothing if it is not in the list (a task cancelled before the loop took
   * it in, or removed already).
   */
  void remove(Task<?> t) {
    if (t.prevLive == null && head != t) {
      return;
    }
    Task<?> prev = t.prevLive;
    Task<?> nextLive = t.nextLive;
    if (prev == null) {
      head = nextLive;
    } else {
      prev.nextLive = nextLive;
    }
    if (nextLive == null) {
      tail = prev;
    } else {
      nextLive.prevLive = prev;
    }
    t.prevLive = null;
    t.nextLive = null;
    COUNT.setOpaque(this, count - 1);
  }
}
