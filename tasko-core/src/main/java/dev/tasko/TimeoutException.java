package dev.tasko;

import java.time.Duration;

/**
 * Thrown by {@link Tasko#withTimeout} when its body has not returned within the timeout. Unchecked,
 * and deliberately not a {@link java.util.concurrent.CancellationException}: a caller that catches
 * it knows its own deadline passed, and that nobody cancelled the task (an outside
 * {@link Task#cancel()} always stays a {@code CancellationException}).
 *
 * <p>Not to be confused with {@link java.util.concurrent.TimeoutException}, which is checked.
 */
public final class TimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final Duration timeout;

  TimeoutException(Duration timeout, CancelScope.Cancelled cause) {
    super("task '" + cause.scope.task.name() + "' timed out after " + timeout, cause);
    this.timeout = timeout;
  }

  /** The timeout that passed, as given to {@code withTimeout}. */
  public Duration timeout() {
    return timeout;
  }
}
