package dev.tasko;

import java.util.ArrayList;
import java.util.List;

/**
 * Thrown by {@link Loop#run()} when it can never make progress again: no task is ready, none
 * sleeps, nothing outside the loop can wake a task (no task awaits a {@link Suspension} from
 * {@link Tasko#suspend()}, a {@link Channel}, an {@link Event} or {@link Tasko#blocking} work,
 * unless that work itself waits in a {@link Task#join()} of a task of the same loop), and yet tasks
 * remain, each waiting for something only another stuck task could do (a
 * {@link ManagedResource}, a {@link Task#join()}, a {@link Semaphore}, a {@link TaskGroup}). The
 * message lists every stuck task and what it waits for.
 *
 * <p>The loop is left as it was: the stuck tasks can still be cancelled, and {@code run()} called
 * again.
 */
public final class DeadlockException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  private final transient List<Task<?>> stuck;

  DeadlockException(String message, List<Task<?>> stuck) {
    super(message);
    this.stuck = List.copyOf(stuck);
  }

  /**
   * The report of a deadlocked loop: every task still live, from {@code oldestLive} on, and what
   * each waits for.
   */
  static DeadlockException of(String loopName, Task<?> oldestLive) {
    List<Task<?>> stuck = new ArrayList<>();
    StringBuilder report = new StringBuilder();
    for (Task<?> t = oldestLive; t != null; t = t.nextLive) {
      stuck.add(t);
      report.append("\n  task '").append(t.name()).append("' waits for ")
          .append(describe(t.waitingOn));
    }
    return new DeadlockException("loop '" + loopName + "' is deadlocked: no task is ready, none "
        + "sleeps, and nothing outside the loop can wake the " + stuck.size()
        + " waiting task(s):" + report, stuck);
  }

  /** What a task waiting on {@code s} waits for, as reports and {@code Task.toString()} say it. */
  static String describe(Suspension s) {
    if (s == null) {
      return "nothing known";
    }
    if (s.blocker instanceof Task<?> t) {
      return "task '" + t.name() + "' to finish (join)";
    }
    return String.valueOf(s.blocker);
  }

  /** The tasks that wait for each other, in the order they were created. */
  public List<Task<?>> stuckTasks() {
    return stuck;
  }
}
