package dev.tasko;

/**
 * The loops being driven right now, and through them, the task that is calling: how
 * {@link Tasko#sleep}, {@link Suspension#await} and the other suspending calls find who called
 * them.
 *
 * <p>Invariant: a task's thread runs code only while its loop is driven (inside {@link Loop#run()}
 * or {@link Loop#step()}) and only while it holds that loop's baton, and {@code Loop.current} names
 * the baton holder, written before each hand-off. So the task calling is the one named by
 * {@code current} in one of the loops listed here, whose thread is the calling thread. The hand-off
 * orders the write before the task runs, so a task always finds itself; another thread may read a
 * stale {@code current}, but that value never names a task whose thread is the reader's own.
 *
 * <p>This beats a {@code ThreadLocal}: nothing is stored per thread (a {@code ThreadLocal} costs
 * each task's thread a map), and the usual single loop costs one look.
 */
final class DrivenLoops {
  private DrivenLoops() {}

  /** The loops inside run() or step() right now. Copy-on-write: it changes only at enter/leave. */
  private static volatile Loop[] driven = new Loop[0];

  /** The task calling, or null when the calling thread is not a running task of any loop. */
  static Task<?> currentTask() {
    Thread me = Thread.currentThread();
    for (Loop l : driven) {
      Task<?> t = l.current;
      if (t != null && t.thread == me) {
        return t;
      }
    }
    return null;
  }

  /** The loops being driven now; a snapshot. Any thread. */
  static Loop[] all() {
    return driven;
  }

  static synchronized void register(Loop l) {
    Loop[] old = driven;
    Loop[] grown = java.util.Arrays.copyOf(old, old.length + 1);
    grown[old.length] = l;
    driven = grown;
  }

  static synchronized void unregister(Loop l) {
    Loop[] old = driven;
    Loop[] shrunk = new Loop[old.length - 1];
    int j = 0;
    for (Loop x : old) {
      if (x != l) {
        shrunk[j++] = x;
      }
    }
    driven = shrunk;
  }
}
