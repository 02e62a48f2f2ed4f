package dev.tasko;

import java.util.Objects;

/**
 * Decides what an exception escaping a task does to the loop. Installed with
 * {@link Loop.Builder#failureHandler(FailureHandler)}.
 *
 * <p>Called on the loop, in the failing task (or, for a {@link ScheduledTask}, after the failing
 * iteration, in the schedule's task), before any other task runs. It is handed every
 * {@link Throwable}: exceptions, {@link Error}s, and whatever a forgotten lease's
 * {@code onRelease} threw when the loop closed it. If the handler throws anything, it stops
 * {@link Loop#run()} (or {@link Loop#step()}), which rethrows it; the loop is left usable and the
 * remaining tasks keep their places. If it returns, the loop goes on.
 *
 * <p>The handler may suspend (except for a {@linkplain Loop#scheduleCallback callback schedule},
 * whose failure is handled on the loop's turn, where a suspending call throws
 * {@link IllegalStateException}), for example to log over a busy {@link ManagedResource}: the
 * failed task is still live while it runs (other tasks run meanwhile), and it ends, {@link
 * Task.State#FAILED}, with its joiners woken, once the handler returns or throws. A cancellation
 * that came before the handler was called (a task that failed in its cleanup after a {@link
 * Task#cancel()}, or a cancelled task whose {@link TaskGroup#close()} reports a child's failure) is
 * held back while the handler runs, so that it can still wait; {@link Task#isCancelled()} stays
 * true. So is an expired {@link Tasko#withTimeout} the task is in (a task group's opener past its
 * timeout), or a {@link TaskGroup}'s block cut off by a failed child; a timeout the handler opens
 * itself works as anywhere. If the task is cancelled while
 * its handler waits, the waiting call throws {@link java.util.concurrent.CancellationException},
 * which stops {@code run()} like any exception thrown by the handler. An exception the handler
 * throws carries the failure it was handed, as a suppressed exception (unless it is its cause;
 * an exception made without suppression cannot, and the failure is logged at {@code WARNING}).
 * Leases and permits the handler leaves open are released when it returns or throws, with a
 * warning, as a task's are when it ends; what their {@code onRelease} throws stops {@code run()}
 * as the handler's own exception would.
 *
 * <p>A failure is handed to this handler only if nobody waits for the task: when a task that fails
 * is being {@linkplain Task#join() joined}, its joiners receive the failure instead.
 */
@FunctionalInterface
public interface FailureHandler {

  /**
   * Handles a failure.
   *
   * @param task the task that failed; for a scheduled iteration, the schedule's task
   * @param failure what escaped the task
   */
  void taskFailed(Task<?> task, Throwable failure);

  /**
   * The default, tasko's own behaviour: the first failure stops {@link Loop#run()}, which throws a
   * {@link TaskFailedException} naming the task, with the original exception as its cause. Its
   * {@code taskFailed} throws a {@link NullPointerException} if an argument is null.
   */
  static FailureHandler stopLoop() {
    return StandardFailureHandlers.STOP;
  }

  /**
   * Logs each failure at {@code ERROR} level through {@link System.Logger} ({@code dev.tasko.Loop})
   * and lets the loop go on; a scheduled task whose iteration fails keeps its schedule. Its
   * {@code taskFailed} throws a {@link NullPointerException} if an argument is null.
   */
  static FailureHandler logAndContinue() {
    return StandardFailureHandlers.LOG;
  }
}

enum StandardFailureHandlers implements FailureHandler {
  STOP {
    @Override
    public void taskFailed(Task<?> task, Throwable failure) {
      throw new TaskFailedException(requireTask(task), requireFailure(failure));
    }
  },
  LOG {
    @Override
    public void taskFailed(Task<?> task, Throwable failure) {
      requireTask(task);
      requireFailure(failure);
      Loop.LOG.log(System.Logger.Level.ERROR, "task '" + task.name() + "' of loop '"
          + task.loop.name() + "' failed; the loop goes on", failure);
    }
  };

  // A program may call a standard handler from its own (logging, then stopping the loop): a null
  // there is its mistake, refused naming the argument rather than met deep inside.
  private static Task<?> requireTask(Task<?> task) {
    return Objects.requireNonNull(task, "task == null");
  }

  private static Throwable requireFailure(Throwable failure) {
    return Objects.requireNonNull(failure, "failure == null");
  }
}
