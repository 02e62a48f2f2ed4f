package dev.tasko;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;

/**
 * What a task calls to suspend itself — {@link #sleep}, {@link #yieldNow}, {@link #suspend} — and
 * tasko's module-level functions on a lazily created {@linkplain #defaultLoop() default loop}
 * ({@link #addTask}, {@link #schedule}, {@link #scheduleLater}, {@link #runLater}, {@link #run}).
 *
 * <h2>Suspending calls</h2>
 * {@link #sleep}, {@link #yieldNow}, {@link #withTimeout}, {@link #blocking} and
 * {@link Suspension#await} (like {@link Task#join}, a busy {@link Handle#acquire} and the waits of
 * {@link Channel}, {@link Event}, {@link Semaphore} and {@link TaskGroup}) act on the task that
 * calls them, on that task's own loop. Each one:
 * <ul>
 *   <li>must be called from a task of a running loop, from any depth of ordinary method calls;
 *       anywhere else it throws {@link IllegalStateException};
 *   <li>is always a switch point: other tasks of the loop may run before it returns;
 *   <li>throws {@link CancellationException} if the task is cancelled before or while it waits;
 *       if the task swallows that exception and suspends again, it is thrown again at once twice
 *       more, then only after a wait (1 ms, doubling up to 1 s, on the loop's clock), and the loop
 *       logs one warning naming the task (see {@link Task});
 *   <li>ignores the thread's interrupt status and leaves it as it was: a task that restores its
 *       interrupt flag ({@code Thread.currentThread().interrupt()}) still waits without using
 *       the processor, and finds the flag set when the call returns.
 * </ul>
 */
public final class Tasko {
  private Tasko() {}

  /**
   * Suspends the calling task for {@code duration}; other tasks run meanwhile. It becomes ready
   * once the loop's ticker has passed now + {@code duration}. {@code Duration.ZERO} is the same as
   * {@link #yieldNow()}. A duration too long for a long of nanoseconds (over 292 years, such as
   * {@code ChronoUnit.FOREVER.getDuration()}) sleeps for the longest one that fits, as
   * {@link Thread#sleep(Duration)} does: until cancelled, in practice.
   *
   * @throws NullPointerException if {@code duration} is null
   * @throws IllegalArgumentException if {@code duration} is negative
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   * @throws CancellationException if the task is cancelled before or while it sleeps
   */
  public static void sleep(Duration duration) {
    long nanos = Durations.waitNanos(duration, "duration");
    Task<?> self = DrivenLoops.requireCurrentTask("sleep");
    if (nanos == 0) {
      Traps.yieldNow(self);
    } else {
      Traps.sleepUntil(self, Durations.saturatedAdd(self.loop.nanoTime(), nanos));
    }
  }

  /**
   * Lets every other ready task run once, then continues: the calling task goes to the back of the
   * ready queue and runs again at the loop's next pass.
   *
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   * @throws CancellationException if the task is cancelled
   */
  public static void yieldNow() {
    Task<?> self = DrivenLoops.requireCurrentTask("yieldNow");
    Traps.yieldNow(self);
  }

  /**
   * Makes a {@link Suspension} for the calling task: it parks at {@link Suspension#await()} until
   * someone, on any thread, calls {@link Suspension#resume()}.
   *
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   */
  public static Suspension suspend() {
    return suspend("a resume()");
  }

  /**
   * Like {@link #suspend()}, with a description of what the task waits for, shown in diagnostics
   * (control characters written as escapes such as {@code \n}, so that it stays on its line).
   *
   * @throws NullPointerException if {@code waitsFor} is null
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   */
  public static Suspension suspend(String waitsFor) {
    java.util.Objects.requireNonNull(waitsFor, "waitsFor == null");
    Task<?> self = DrivenLoops.requireCurrentTask("suspend");
    return new Suspension(self, Names.printable(waitsFor), /* external= */ true);
  }

  /**
   * Runs {@code body} in the calling task, giving it at most {@code timeout} (loop time) to return.
   * If it has not returned when the timeout passes, the suspension point it waits at (or its next
   * one, if it is running) throws a {@link CancellationException}, so its {@code finally} blocks
   * and {@link Lease}s unwind as for a cancel, and {@code withTimeout} then throws
   * {@link TimeoutException}. A body that never suspends cannot be interrupted: it runs to its end.
   *
   * <pre>{@code
   * int mm = Tasko.withTimeout(Duration.ofSeconds(2), () -> rangeFinder.read()); // at most 2 s
   * }</pre>
   *
   * <h4>Nesting and cancellation</h4>
   * Timeouts nest: when an inner one passes, only the inner {@code withTimeout} throws
   * {@code TimeoutException} (the outer body may catch it and go on); when an outer one passes,
   * the inner body unwinds too and only the outer {@code withTimeout} throws. An outside
   * {@link Task#cancel()} is never turned into a timeout: it stays a {@code CancellationException},
   * as does the cancellation of an enclosing {@link TaskGroup}'s block when a child fails. So does
   * the cancellation of a task group's block inside the body, when the body lets it through: it
   * is the body's exception even if the timeout passed meanwhile, while that group's
   * {@code close()} waited.
   * If the body catches the timeout's exception and returns anyway, {@code withTimeout} returns its
   * value. The timeout is a timer of its own, separate from the task's sleeps; it is removed when
   * {@code withTimeout} returns or throws, so a body that finishes in time leaves nothing behind.
   * {@code Duration.ZERO} expires at the body's first suspension point. A timeout too long for a
   * long of nanoseconds (over 292 years) counts as the longest that fits.
   *
   * @return what {@code body} returned
   * @throws TimeoutException if {@code timeout} passed before {@code body} returned
   * @throws CancellationException if the task is cancelled, an enclosing timeout passed, or an
   *     enclosing task group's block was cancelled
   * @throws TaskFailedException wrapping a checked exception thrown by {@code body}; unchecked ones
   *     pass through unchanged
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code timeout} is negative
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   */
  public static <T> T withTimeout(Duration timeout, Callable<T> body) {
    long nanos = Durations.waitNanos(timeout, "timeout");
    java.util.Objects.requireNonNull(body, "body == null");
    Task<?> self = DrivenLoops.requireCurrentTask("withTimeout");
    CancelScope scope = new CancelScope(self, timeout);
    Traps.openScope(scope, nanos);
    try {
      return body.call();
    } catch (CancelScope.Cancelled e) {
      if (e.scope != scope) {
        throw e; // an enclosing scope's: a timeout's withTimeout turns it into a TimeoutException
      }
      // Handled here, not swallowed: leaving the scope (finally, below) takes back its deliveries.
      if (Traps.cancelRequested(self)) {
        throw self.cancelled(); // cancelled as well: the cancel wins
      }
      throw new TimeoutException(timeout, e);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new TaskFailedException(self, e);
    } finally {
      Traps.leaveScope(scope);
    }
  }

  /**
   * Like {@link #withTimeout(Duration, Callable)}, for a body that returns nothing.
   *
   * <pre>{@code
   * Tasko.withTimeout(Duration.ofMillis(500), () -> modem.send("AT")); // or TimeoutException
   * }</pre>
   *
   * @throws TimeoutException if {@code timeout} passed before {@code body} returned
   * @throws CancellationException if the task is cancelled, an enclosing timeout passed, or an
   *     enclosing task group's block was cancelled
   * @throws TaskFailedException wrapping a checked exception thrown by {@code body}
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code timeout} is negative
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   */
  public static void withTimeout(Duration timeout, TaskBody body) {
    java.util.Objects.requireNonNull(body, "body == null");
    withTimeout(timeout, (Callable<Void>) () -> {
      body.run();
      return null;
    });
  }

  /**
   * Runs blocking {@code work} (a file, a socket, a JNI call) on a virtual thread of its own,
   * outside the loop: the calling task suspends, every other task runs meanwhile, and the result or
   * exception comes back to the task.
   *
   * <pre>{@code
   * byte[] image = Tasko.blocking(() -> Files.readAllBytes(path));
   * }</pre>
   *
   * <h4>Cancellation</h4>
   * If the task is cancelled (or a {@link #withTimeout} around it passes) while the work runs, the
   * work's thread is interrupted and the task waits, uninterruptibly, until the work has ended:
   * a task never outlives its work. Then it throws the {@link CancellationException}; the work's
   * result is dropped. An exception the work ends with is given to the loop's failure handler
   * unless it is what interrupted work throws (an {@code InterruptedException}, an interrupted
   * I/O call's) or a cancellation: so a failure in the work's cleanup, or that of a task the work
   * joined, is not lost. Work that ignores interrupts holds the task until it ends.
   *
   * <h4>Time</h4>
   * The loop waits for the work like for any outside wake-up. On virtual time, the clock does not
   * move while blocking work is in flight: a test sees the same interleaving on every run, however
   * long the work takes (and so a {@link #withTimeout} around the call cannot expire
   * before the work returns there). Work that waits in a {@link Task#join()} of a task of the same
   * loop is the exception: only the loop can end that wait, so the clock moves on for it.
   *
   * @return what {@code work} returned
   * @throws TaskFailedException wrapping a checked exception thrown by {@code work}; unchecked ones
   *     pass through unchanged
   * @throws CancellationException if the task is cancelled before or while the work runs
   * @throws NullPointerException if {@code work} is null
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   */
  public static <T> T blocking(Callable<T> work) {
    java.util.Objects.requireNonNull(work, "work == null");
    Task<?> self = DrivenLoops.requireCurrentTask("blocking");
    return BlockingWork.run(self, BlockingWork.VIRTUAL_THREAD, work);
  }

  /**
   * Like {@link #blocking(Callable)}, but runs {@code work} on {@code executor} (a pool sized for a
   * driver that allows one caller at a time, say). A work still queued in the executor when the
   * task is cancelled is skipped when its turn comes. An executor that runs the work on the
   * calling thread (a {@code CallerRunsPolicy} when its queue is full) runs it in the task's turn,
   * holding up the loop as any code of the task does.
   *
   * @throws java.util.concurrent.RejectedExecutionException if {@code executor} refuses the work
   * @throws NullPointerException if an argument is null
   */
  public static <T> T blocking(java.util.concurrent.Executor executor, Callable<T> work) {
    java.util.Objects.requireNonNull(executor, "executor == null");
    java.util.Objects.requireNonNull(work, "work == null");
    return BlockingWork.run(DrivenLoops.requireCurrentTask("blocking"), executor, work);
  }

  /**
   * The task that is calling, or null when the caller is not a task.
   */
  public static Task<?> currentTask() {
    return DrivenLoops.currentTask();
  }

  /**
   * The task whose {@link #blocking} work the calling thread is running, or null when it runs
   * none: from the moment the work starts until it returns or throws. {@link #currentTask()} is
   * null there (the work runs off the loop, on a thread of its own), yet the task waits for the
   * work to end; code that must not be called from a task for that reason (it would wait for
   * the loop, or drive it) uses this to refuse the work as well. Work run on the task's own
   * thread by an executor that runs it in place (a {@code CallerRunsPolicy}) counts too; there
   * {@link #currentTask()} is the same task. May be called from any thread; never blocks.
   */
  public static Task<?> currentBlockingWorkTask() {
    return BlockingWork.taskOfCaller();
  }


  // ---- the default loop ----

  /**
   * The default loop, created on first use with {@link Loop#create()} and named {@code "tasko"}.
   */
  public static Loop defaultLoop() {
    return DefaultLoop.INSTANCE;
  }

  /**
   * The default loop, for module-level function {@code op}: refused from a task of another loop,
   * whose program meant its own loop (it would add to one nobody runs, with no word of it). Each
   * function checks its arguments first, as {@link Loop}'s methods do before they look at the
   * loop's state: a null or invalid argument is refused the same way wherever it is called from.
   */
  private static Loop defaultLoopFor(String op) {
    Loop d = defaultLoop();
    Task<?> caller = DrivenLoops.currentTask();
    boolean fromWork = caller == null;
    if (fromWork) {
      caller = BlockingWork.taskOfCaller(); // its blocking work means the task's loop as well
    }
    if (caller != null && caller.loop != d) {
      throw new IllegalStateException("Tasko." + op + "() adds to the default loop 'tasko', but"
          + " was called from " + (fromWork ? "the blocking work of task '" : "task '")
          + caller.name() + "' of " + caller.loop.nameBeside(d) + ": call " + op + "() on that"
          + " loop (" + (fromWork ? "the task's loop" : "Tasko.currentTask().loop()") + "." + op
          + "(...))");
    }
    return d;
  }

  private static void requireBody(Object body) {
    java.util.Objects.requireNonNull(body, "body == null");
  }

  private static void requireRate(Rate rate) {
    java.util.Objects.requireNonNull(rate, "rate == null");
  }

  /** Holds the default loop: the JVM creates it, once, when this class is first used. */
  private static final class DefaultLoop {
    static final Loop INSTANCE = Loop.builder().name("tasko").build();
  }

  /**
   * {@link Loop#addTask(TaskBody)} on the default loop.
   *
   * @throws NullPointerException if an argument is null, wherever it is called from
   * @throws IllegalStateException if called from a task of another loop (or from its
   *     {@link #blocking} work), or for a reason the loop's method gives
   */
  public static Task<Void> addTask(TaskBody body) {
    requireBody(body);
    return defaultLoopFor("addTask").addTask(body);
  }

  /**
   * {@link Loop#addTask(Callable)} on the default loop.
   *
   * @throws NullPointerException if an argument is null, wherever it is called from
   * @throws IllegalStateException if called from a task of another loop (or from its
   *     {@link #blocking} work), or for a reason the loop's method gives
   */
  public static <T> Task<T> addTask(Callable<T> body) {
    requireBody(body);
    return defaultLoopFor("addTask").addTask(body);
  }

  /**
   * {@link Loop#runLater(Duration, TaskBody)} on the default loop.
   *
   * @throws NullPointerException if an argument is null, wherever it is called from
   * @throws IllegalArgumentException if {@code delay} is negative, wherever it is called from
   * @throws IllegalStateException if called from a task of another loop (or from its
   *     {@link #blocking} work), or for a reason the loop's method gives
   */
  public static Task<Void> runLater(Duration delay, TaskBody body) {
    Durations.waitNanos(delay, "delay");
    requireBody(body);
    return defaultLoopFor("runLater").runLater(delay, body);
  }

  /**
   * {@link Loop#schedule(Duration, TaskBody)} on the default loop.
   *
   * @throws NullPointerException if an argument is null, wherever it is called from
   * @throws IllegalArgumentException if {@code interval} is zero, negative or overflows a long of
   *     nanoseconds, wherever it is called from
   * @throws IllegalStateException if called from a task of another loop (or from its
   *     {@link #blocking} work), or for a reason the loop's method gives
   */
  public static ScheduledTask schedule(Duration interval, TaskBody body) {
    Durations.positiveNanos(interval, "interval");
    requireBody(body);
    return defaultLoopFor("schedule").schedule(interval, body);
  }

  /**
   * {@link Loop#schedule(Rate, TaskBody)} on the default loop.
   *
   * @throws NullPointerException if an argument is null, wherever it is called from
   * @throws IllegalStateException if called from a task of another loop (or from its
   *     {@link #blocking} work), or for a reason the loop's method gives
   */
  public static ScheduledTask schedule(Rate rate, TaskBody body) {
    requireRate(rate);
    requireBody(body);
    return defaultLoopFor("schedule").schedule(rate, body);
  }

  /**
   * {@link Loop#scheduleLater(Duration, TaskBody)} on the default loop.
   *
   * @throws NullPointerException if an argument is null, wherever it is called from
   * @throws IllegalArgumentException if {@code interval} is zero, negative or overflows a long of
   *     nanoseconds, wherever it is called from
   * @throws IllegalStateException if called from a task of another loop (or from its
   *     {@link #blocking} work), or for a reason the loop's method gives
   */
  public static ScheduledTask scheduleLater(Duration interval, TaskBody body) {
    Durations.positiveNanos(interval, "interval");
    requireBody(body);
    return defaultLoopFor("scheduleLater").scheduleLater(interval, body);
  }

  /**
   * {@link Loop#scheduleLater(Rate, TaskBody)} on the default loop.
   *
   * @throws NullPointerException if an argument is null, wherever it is called from
   * @throws IllegalStateException if called from a task of another loop (or from its
   *     {@link #blocking} work), or for a reason the loop's method gives
   */
  public static ScheduledTask scheduleLater(Rate rate, TaskBody body) {
    requireRate(rate);
    requireBody(body);
    return defaultLoopFor("scheduleLater").scheduleLater(rate, body);
  }

  /**
   * {@link Loop#scheduleCallback(Duration, TaskBody)} on the default loop.
   *
   * @throws NullPointerException if an argument is null, wherever it is called from
   * @throws IllegalArgumentException if {@code interval} is zero, negative or overflows a long of
   *     nanoseconds, wherever it is called from
   * @throws IllegalStateException if called from a task of another loop (or from its
   *     {@link #blocking} work), or for a reason the loop's method gives
   */
  public static ScheduledTask scheduleCallback(Duration interval, TaskBody callback) {
    Durations.positiveNanos(interval, "interval");
    java.util.Objects.requireNonNull(callback, "callback == null");
    return defaultLoopFor("scheduleCallback").scheduleCallback(interval, callback);
  }

  /**
   * {@link Loop#scheduleCallback(Rate, TaskBody)} on the default loop.
   *
   * @throws NullPointerException if an argument is null, wherever it is called from
   * @throws IllegalStateException if called from a task of another loop (or from its
   *     {@link #blocking} work), or for a reason the loop's method gives
   */
  public static ScheduledTask scheduleCallback(Rate rate, TaskBody callback) {
    requireRate(rate);
    java.util.Objects.requireNonNull(callback, "callback == null");
    return defaultLoopFor("scheduleCallback").scheduleCallback(rate, callback);
  }

  /** {@link Loop#run()} on the default loop. */
  public static void run() {
    defaultLoop().run();
  }
}
