package dev.tasko;

/**
 * The code of a task that returns nothing: {@code loop.addTask(() -> { ... })}.
 *
 * <p>It may throw any exception; what happens then is decided by the loop's {@link FailureHandler}.
 * For a task that returns a value, pass a {@link java.util.concurrent.Callable} instead: the
 * overloads of {@link Loop#addTask} resolve like {@code ExecutorService.submit}.
 */
@FunctionalInterface
public interface TaskBody {
  /** Runs the task. May call suspending methods such as {@link Tasko#sleep}. */
  void run() throws Exception;
}
