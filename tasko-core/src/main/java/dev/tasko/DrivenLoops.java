package dev.tasko;

/**
 * The loops being driven right now, and through them, the task that is calling: how
 * {@link Tasko#sleep}, {@link Suspension#await} and the other suspending calls find who called
 * them.
 *
 * <p>Invariant: a task's thread runs code only while its loop is driven (inside {@link Loop#run()}
 * or {@link Loop#step()}) and only while it holds that loop's baton, and {@code Runner.current}
 * names the baton holder, written before each hand-off. So the task calling is the one named by
 * {@code current} in one of the loops listed here, whose thread is the calling thread. The hand-off
 * orders the write before the task runs, so a task always finds itself; another thread may read a
 * stale {@code current}, but that value never names a task whose thread is the reader's own.
 *
 * <p>A {@linkplain Loop#scheduleCallback callback schedule}'s task has no thread: while the loop
 * runs one of its turns, {@code current} names it and its {@code thread} field is the thread that
 * holds the baton and runs it, so the same look finds it; both are put back before the baton
 * moves on.
 *
 * <p>This beats a {@code ThreadLocal}: nothing is stored per thread (a {@code ThreadLocal} costs
 * each task's thread a map), and the usual single loop costs one look.
 */
final class DrivenLoops {
  private DrivenLoops() {}

  /** The loops inside run() or step() right now. Copy-on-write: it changes only at enter/leave. */
  private static volatile Runner[] driven = new Runner[0];

  /** The task calling, or null when the calling thread is not a running task of any loop. */
  static Task<?> currentTask() {
    Thread me = Thread.currentThread();
    for (Runner l : driven) {
      Task<?> t = l.current;
      if (t != null && t.thread == me) {
        return t;
      }
    }
    return null;
  }

  /**
   * The task calling {@code op}, a call that may suspend, which must be a task of a running loop
   * and may not be a callback schedule's.
   *
   * @throws IllegalStateException if the caller is not a task of a running loop, or is a callback
   *     schedule's body
   */
  static Task<?> requireCurrentTask(String op) {
    Task<?> t = requireLoopCaller(op);
    if (t.runsInline) {
      throw cannotSuspend(op, t);
    }
    return t;
  }

  /**
   * The task calling {@code op}, a call that never suspends, which must be a task of a running
   * loop (a callback schedule's body counts).
   *
   * @throws IllegalStateException if the caller is not a task of a running loop
   */
  static Task<?> requireLoopCaller(String op) {
    Task<?> t = currentTask();
    if (t == null) {
      throw new IllegalStateException(op + "() must be called from a task of a running loop; "
          + "current thread: " + Thread.currentThread() + insteadOutsideATask(op));
    }
    return t;
  }

  /** What a thread that is not a task may call instead of {@code op}, as a sentence, or "". */
  private static String insteadOutsideATask(String op) {
    return switch (op) {
      case "put" -> ". Another thread may call offer(), which never waits";
      case "take", "poll" -> ". Another thread may call poll(), which never waits";
      case "sleep", "yieldNow", "withTimeout", "suspend", "blocking", "await", "acquire", "open" ->
          suspendInstead();
      default -> "";
    };
  }

  private static String suspendInstead() {
    Task<?> working = BlockingWork.taskOfCaller();
    if (working != null) {
      return ". This thread runs the blocking work of task '" + working.name() + "', off the loop:"
          + " it may block as any thread does (Thread.sleep, a plain call where blocking() was"
          + " meant); suspend in the task, once blocking() has returned";
    }
    return ". Run the code in a task (loop.addTask), or later on the loop (loop.runLater)";
  }

  /** What a callback schedule's body gets when it calls {@code op}, which would suspend it. */
  static IllegalStateException cannotSuspend(String op, Task<?> callback) {
    return new IllegalStateException(op + "() called from callback schedule '" + callback.name()
        + "' of loop '" + callback.loop.name() + "': its body runs between the loop's tasks and "
        + "must not suspend; make it with Loop.schedule if it has to wait");
  }

  /** The loops being driven now; a snapshot. Any thread. */
  static Runner[] all() {
    return driven;
  }

  static synchronized void register(Runner l) {
    Runner[] old = driven;
    Runner[] grown = java.util.Arrays.copyOf(old, old.length + 1);
    grown[old.length] = l;
    driven = grown;
  }

  static synchronized void unregister(Runner l) {
    Runner[] old = driven;
    Runner[] shrunk = new Runner[old.length - 1];
    int j = 0;
    for (Runner x : old) {
      if (x != l) {
        shrunk[j++] = x;
      }
    }
    driven = shrunk;
  }
}
