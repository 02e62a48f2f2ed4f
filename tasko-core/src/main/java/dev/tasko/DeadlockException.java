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
 * <h2>Deadlocks across loops</h2>
 * A task, or its {@link Tasko#blocking} work, that joins a task of another loop waits for that
 * loop, which another thread runs. Loops run on threads of their own can deadlock through such
 * joins: {@code a} of loop {@code left} joins {@code b} of loop {@code right}, which joins
 * {@code a}; or a longer circle of loops; or a join of a task of a loop deadlocked in itself. Each
 * of these loops then reports it from its {@code run()}, once all of them are stuck: idle, with no
 * timer, no work sent from another thread still to run, and no wait another thread could end but
 * these joins. The message starts {@code "loop 'left' is deadlocked with loop 'right'"} and lists
 * the tasks of each loop, each with its loop. A loop that a timer or another thread may still wake
 * (a task that sleeps, a join inside {@link Tasko#withTimeout}, a wait on a channel or an event),
 * a loop stopped, or one not run yet is not stuck: the loops that wait for it keep waiting, and
 * report nothing.
 *
 * <p>The loop is left as it was: the stuck tasks can still be cancelled, and {@code run()} called
 * again. A loop deadlocked with others stays seen as such by them until it is run again.
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

  /**
   * The report of loops deadlocked with each other, {@code loops.get(0)} the one that throws it:
   * every task still live in each, and what each waits for. Under {@link CrossLoopDeadlocks}'
   * lock, which keeps the other loops from changing their tasks meanwhile.
   */
  static DeadlockException across(List<Runner> loops) {
    Runner self = loops.get(0);
    List<Task<?>> stuck = new ArrayList<>();
    StringBuilder others = new StringBuilder();
    StringBuilder report = new StringBuilder();
    for (Runner r : loops) {
      if (r != self) {
        others.append(others.isEmpty() ? "" : ", ").append('\'').append(r.loop.name())
            .append('\'');
      }
      for (Task<?> t = r.live.oldest(); t != null; t = t.nextLive) {
        stuck.add(t);
        report.append("\n  task '").append(t.name()).append("' of loop '").append(r.loop.name())
            .append("' waits for ").append(describe(t.waitingOn));
      }
    }
    return new DeadlockException("loop '" + self.loop.name() + "' is deadlocked with loop"
        + (loops.size() > 2 ? "s " : " ") + others + ": no task of theirs is ready, none sleeps, "
        + "and nothing outside them can wake the " + stuck.size() + " waiting task(s), each "
        + "waiting, in the end, for a task of one of them:" + report, stuck);
  }

  /** What a task waiting on {@code s} waits for, as reports and {@code Task.toString()} say it. */
  static String describe(Suspension s) {
    if (s == null) {
      return "nothing known";
    }
    if (s.blocker instanceof Task<?> t) {
      return joinOf(s.task, t);
    }
    return String.valueOf(s.blocker);
  }

  /**
   * What {@code waiter}, or its blocking work, waits for in a join of {@code target}: {@code "task
   * 'b' to finish (join)"}, with {@code " of loop 'other'"} after the name if {@code target} is a
   * task of another loop.
   */
  static String joinOf(Task<?> waiter, Task<?> target) {
    return "task '" + target.name() + "'"
        + (target.loop == waiter.loop ? "" : " of loop '" + target.loop.name() + "'")
        + " to finish (join)";
  }

  /**
   * The tasks that wait for each other, in the order they were created: the tasks of the loop that
   * throws it, then, for a deadlock across loops, those of each other loop, loop after loop.
   */
  public List<Task<?>> stuckTasks() {
    return stuck;
  }
}
