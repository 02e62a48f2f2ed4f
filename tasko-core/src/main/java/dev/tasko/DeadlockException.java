package dev.tasko;

import java.util.List;

/**
 * Thrown by {@link Loop#run()} when it can never make progress again: no task is ready, none sleeps,
 * nothing outside the loop can wake a task (no task awaits a {@link Suspension} from
 * {@link Tasko#suspend()}, a {@link Channel}, an {@link Event} or {@link Tasko#blocking} work), and
 * yet tasks remain, each waiting for something only another stuck task could do (a
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

  /** The tasks that wait for each other, in the order they were created. */
  public List<Task<?>> stuckTasks() {
    return stuck;
  }
}
