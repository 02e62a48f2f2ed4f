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
        + Failures.describe(Objects.requireNonNull(cause, "cause == null")), cause);
    this.task = task;
  }

  /** The task that failed. */
  public Task<?> task() {
    return task;
  }
}
