package dev.tasko;

import java.util.Objects;

/**
 * An exception escaped a task. Thrown by {@link Loop#run()} and {@link Loop#step()} under the
 * default {@link FailureHandler#stopLoop()}, and by {@link Task#join()} on a task that failed. The
 * original exception is the {@linkplain #getCause() cause}.
 */
public final class TaskFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Task<?> task;

  /**
   * Creates the exception for {@code task}, which failed with {@code cause}.
   *
   * @throws NullPointerException if an argument is null
   */
  public TaskFailedException(Task<?> task, Throwable cause) {
    super("task '" + Objects.requireNonNull(task, "task == null").name() + "' failed: "
        + Failures.describe(described(task, Objects.requireNonNull(cause, "cause == null"))),
        cause);
    this.task = task;
  }

  /**
   * What the message names as the failure: the cause, or, if the cause is this same task's
   * failure already (a checked exception of its {@link Tasko#blocking} work, escaping the task),
   * what that one wraps, so that the message does not say twice that the task failed. The cause
   * stays as given.
   */
  private static Throwable described(Task<?> task, Throwable cause) {
    if (cause instanceof TaskFailedException inner && inner.task == task
        && inner.getCause() != null) {
      return inner.getCause();
    }
    return cause;
  }

  /** The task that failed. */
  public Task<?> task() {
    return task;
  }
}
