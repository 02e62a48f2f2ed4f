package dev.tasko;

/**
 * A loop's tasks that have not finished yet, oldest first, in a list linked through the tasks
 * themselves ({@code Task.prevLive}, {@code Task.nextLive}): no allocation per task. {@link Loop#run()}
 * ends when it is empty; a deadlock report lists it.
 *
 * <p>Guarded by the loop's baton: only the thread that holds it adds and removes. {@link #size()}
 * may be read from any thread, as a snapshot.
 */
final class LiveTasks {
  private Task<?> head;
  private Task<?> tail;
  private int count;

  /** The oldest task not finished yet, or null; the rest follow through {@code Task.nextLive}. */
  Task<?> oldest() {
    return head;
  }

  int size() {
    return count;
  }

  void add(Task<?> t) {
    t.prevLive = tail;
    if (tail == null) {
      head = t;
    } else {
      tail.nextLive = t;
    }
    tail = t;
    count++;
  }

  void remove(Task<?> t) {
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
    count--;
  }
}
