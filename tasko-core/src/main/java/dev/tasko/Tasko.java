package dev.tasko;

import dev.tasko.internal.Durations;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;

/**
 * What a task calls to suspend itself — {@link #sleep}, {@link #yieldNow}, {@link #suspend} — and
 * tasko's module-level functions on a lazily created {@linkplain #defaultLoop() default loop}
 * ({@link #addTask}, {@link #schedule}, {@link #scheduleLater}, {@link #runLater}, {@link #run}).
 *
 * <h2>Suspending calls</h2>
 * {@link #sleep}, {@link #yieldNow} and {@link Suspension#await} (like {@link Task#join} and a busy
 * {@link Handle#acquire}) act on the task that calls them, on that task's own loop. Each one:
 * <ul>
 *   <li>must be called from a task of a running loop, from any depth of ordinary method calls;
 *       anywhere else it throws {@link IllegalStateException};
 *   <li>is always a switch point: other tasks of the loop may run before it returns;
 *   <li>throws {@link CancellationException} if the task is cancelled before or while it waits;
 *       if the task swallows that exception and suspends again, the call waits a while (1 ms,
 *       doubling up to 1 s, on the loop's clock) before throwing again, and the loop logs one
 *       warning naming the task (see {@link Task});
 *   <li>ignores the thread's interrupt status and leaves it as it was: a task that restores its
 *       interrupt flag ({@code Thread.currentThread().interrupt()}) still waits without using
 *       the processor, and finds the flag set when the call returns.
 * </ul>
 */
public final class Tasko {
  private static volatile Loop defaultLoop;

  private Tasko() {}

  /**
   * Suspends the calling task for {@code duration}; other tasks run meanwhile. It becomes ready once
   * the loop's ticker has passed now + {@code duration}. {@code Duration.ZERO} is the same as
   * {@link #yieldNow()}.
   *
   * @throws NullPointerException if {@code duration} is null
   * @throws IllegalArgumentException if {@code duration} is negative or overflows a long of
   *     nanoseconds
   * @throws IllegalStateException if not called from a task of a running loop
   * @throws CancellationException if the task is cancelled before or while it sleeps
   */
  public static void sleep(Duration duration) {
    long nanos = Durations.nonNegativeNanos(duration, "duration");
    Task<?> self = current("sleep");
    if (nanos == 0) {
      self.loop.yieldNow(self);
    } else {
      self.loop.sleepUntil(self, Durations.saturatedAdd(self.loop.nanoTime(), nanos));
    }
  }

  /**
   * Lets every other ready task run once, then continues: the calling task goes to the back of the
   * ready queue and runs again at the loop's next pass.
   *
   * @throws IllegalStateException if not called from a task of a running loop
   * @throws CancellationException if the task is cancelled
   */
  public static void yieldNow() {
    Task<?> self = current("yieldNow");
    self.loop.yieldNow(self);
  }

  /**
   * Makes a {@link Suspension} for the calling task: it parks at {@link Suspension#await()} until
   * someone, on any thread, calls {@link Suspension#resume()}.
   *
   * @throws IllegalStateException if not called from a task of a running loop
   */
  public static Suspension suspend() {
    return suspend("a resume()");
  }

  /**
   * Like {@link #suspend()}, with a description of what the task waits for, shown in diagnostics.
   *
   * @throws NullPointerException if {@code waitsFor} is null
   * @throws IllegalStateException if not called from a task of a running loop
   */
  public static Suspension suspend(String waitsFor) {
    java.util.Objects.requireNonNull(waitsFor, "waitsFor == null");
    return new Suspension(current("suspend"), waitsFor, /* external= */ true);
  }

  /**
   * The task that is calling, or null when the caller is not a task.
   */
  public static Task<?> currentTask() {
    return Loop.currentTask();
  }

  private static Task<?> current(String op) {
    Task<?> t = Loop.currentTask();
    if (t == null) {
      throw new IllegalStateException(op + "() must be called from a task of a running loop; current thread: "
          + Thread.currentThread());
    }
    return t;
  }

  // ---- the default loop ----

  /** The default loop, created on first use with {@link Loop#create()} and named {@code "tasko"}. */
  public static Loop defaultLoop() {
    Loop l = defaultLoop;
    if (l == null) {
      synchronized (Tasko.class) {
        l = defaultLoop;
        if (l == null) {
          defaultLoop = l = Loop.builder().name("tasko").build();
        }
      }
    }
    return l;
  }

  /** {@link Loop#addTask(TaskBody)} on the default loop. */
  public static Task<Void> addTask(TaskBody body) {
    return defaultLoop().addTask(body);
  }

  /** {@link Loop#addTask(Callable)} on the default loop. */
  public static <T> Task<T> addTask(Callable<T> body) {
    return defaultLoop().addTask(body);
  }

  /** {@link Loop#runLater(Duration, TaskBody)} on the default loop. */
  public static Task<Void> runLater(Duration delay, TaskBody body) {
    return defaultLoop().runLater(delay, body);
  }

  /** {@link Loop#schedule(Duration, TaskBody)} on the default loop. */
  public static ScheduledTask schedule(Duration interval, TaskBody body) {
    return defaultLoop().schedule(interval, body);
  }

  /** {@link Loop#schedule(double, TaskBody)} on the default loop. */
  public static ScheduledTask schedule(double hz, TaskBody body) {
    return defaultLoop().schedule(hz, body);
  }

  /** {@link Loop#scheduleLater(Duration, TaskBody)} on the default loop. */
  public static ScheduledTask scheduleLater(Duration interval, TaskBody body) {
    return defaultLoop().scheduleLater(interval, body);
  }

  /** {@link Loop#scheduleLater(double, TaskBody)} on the default loop. */
  public static ScheduledTask scheduleLater(double hz, TaskBody body) {
    return defaultLoop().scheduleLater(hz, body);
  }

  /** {@link Loop#run()} on the default loop. */
  public static void run() {
    defaultLoop().run();
  }
}
