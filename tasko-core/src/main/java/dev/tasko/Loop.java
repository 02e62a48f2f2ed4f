package dev.tasko;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The task loop: {@code while (true)}, redefined. It runs many sequential jobs — {@linkplain Task
 * tasks}, {@linkplain ScheduledTask fixed-rate schedules}, delayed starts — interleaved on what
 * behaves as one thread, and lets the processor sleep when there is nothing to do.
 *
 * <pre>{@code
 * Loop loop = Loop.create();
 * loop.schedule(Rate.hz(100), () -> readButton());                 // 100 times a second
 * loop.addTask(() -> {
 *   sensor.startMeasurement();
 *   Tasko.sleep(Duration.ofSeconds(1));                              // the button keeps being read
 *   show(sensor.result());
 * });
 * loop.run();                      // until stop(): a schedule never ends, so neither does run()
 * }</pre>
 *
 * <h2>One task at a time</h2>
 * Each task runs on a virtual thread of its own, but the loop hands the processor from task to task
 * like a baton: exactly one runs at any moment, and it gives the processor up only at a suspension
 * point ({@link Tasko#sleep}, {@link Tasko#yieldNow}, {@link Suspension#await}, {@link Task#join},
 * {@link Handle#acquire} on a busy resource). Code between two suspension points is atomic with
 * respect to the loop's other tasks.
 *
 * <h2>Passes</h2>
 * The loop works in passes, like tasko's {@code _step()}. A pass runs, once each, the tasks that
 * were ready when it began (first come, first served), then the sleepers whose deadline has come
 * (earliest first, ties in the order they went to sleep). A task made ready during a pass waits for
 * the next one, so no task can starve the others by yielding in a loop. {@link #step()} runs one
 * pass; {@link #run()} runs passes until no task remains, waiting when nothing is due (see
 * {@link IdleStrategy}).
 *
 * <h2>Threads</h2>
 * {@link #addTask}, {@link #runLater}, {@link #schedule}, {@link #scheduleLater} and
 * {@link #stop()} may be called from any thread at any time, for example from a GPIO interrupt
 * listener; called from outside the loop, they take effect at the start of the next pass and wake
 * an idle loop. {@link #run()} and {@link #step()} are called by one thread at a time, never from a
 * task.
 *
 * <h2>Shutdown</h2>
 * {@link #shutdown()} ends a loop for good: it cancels the tasks, runs their cleanup, releases
 * their leases and closes what was registered with {@link #closeOnShutdown(AutoCloseable)}. From
 * then on, adding work throws {@link IllegalStateException}.
 *
 * <h2>Failures</h2>
 * By default, an exception escaping a task stops {@code run()}, which throws a
 * {@link TaskFailedException} naming the task (tasko's behaviour); the loop stays usable. See
 * {@link Builder#failureHandler(FailureHandler)} to log and go on instead.
 *
 * <p>A task that holds the processor for 100 ms without reaching a suspension point — a
 * {@code Thread.sleep} where {@link Tasko#sleep} was meant, a blocking read — is logged as a
 * stall, with the line it is on and the likely fix; see {@link Builder#stallWarning(Duration)}.
 *
 * <h2>Diagnostics</h2>
 * {@link #dump()} shows what every task is doing, from any thread; a {@link Timeline} given to
 * {@link Builder#timeline(Timeline)} records what ran when; {@link ManagedResource#withHoldLimit}
 * reports a bus held too long; and the loop commits JDK Flight Recorder events
 * ({@code dev.tasko.*}) when a recording runs and the {@code jdk.jfr} module is present.
 *
 * <p>Names (of loops, tasks, schedules, resources, channels, ...) are printed as given in these
 * reports, so a name that holds a control character, such as a line break or the {@code '\r'} left
 * by a line read from a Windows file, is refused with an {@link IllegalArgumentException}; so is
 * an empty or blank name, which would show as {@code task ''} and name nothing.
 */
public final class Loop {
  /**
   * The library's one logger, {@code dev.tasko.Loop}: loops, tasks and failure handlers log here.
   */
  static final System.Logger LOG = System.getLogger(Loop.class.getName());
  /** Stall warnings come after 100 ms: far beyond any well-behaved turn, soon enough to notice. */
  private static final long DEFAULT_STALL_NANOS = Duration.ofMillis(100).toNanos();
  /**
   * The shortest stall threshold: the driver parks a quarter threshold between checks (see
   * Runner.runUntilDriverTurn), 250 µs here; a threshold of a few nanoseconds made that a spin.
   */
  private static final long MIN_STALL_NANOS = Duration.ofMillis(1).toNanos();
  /** Numbers the loops built without a name, process-wide: loop-1, loop-2, ... */
  private static final AtomicLong loopNames = new AtomicLong();
  /** What a shut-down loop's refusal of a new task says. */
  private static final String NO_NEW_TASK = "it takes no new task";
  /** How long {@link #dump()} waits for a running loop to begin a pass and answer. */
  static final long DUMP_WAIT_MILLIS = 1000;

  private final String name;
  /**
   * The engine: the loop's state, the event loop and the hand-off between tasks. This class is
   * its public face: it adds work, runs the loop and reports on it.
   */
  final Runner runner;
  /** Makes the tasks' threads; null for the usual virtual threads (tests set it, see Builder). */
  private final ThreadFactory taskThreads;
  /** Numbers the tasks not given a name; package-private for a test of large numbers. */
  final AtomicLong taskNumbers = new AtomicLong();
  /**
   * Makes the threads of tasks not given a name, all named {@code "task of <loop name>"}: one
   * string for all of them, and no builder made per thread (a million tasks would make a million).
   */
  private final ThreadFactory unnamedTaskThreads;
  private final AtomicLong scheduleNames = new AtomicLong();
  /** Tasks and schedules added from outside the loop still in the inbox (as such, or commands). */
  private final AtomicInteger inboxTasks = new AtomicInteger();
  /** Refuses new work once shut down, and keeps what to close then. */
  final Shutdown shutdownControl = new Shutdown(this);

  private Loop(Builder b) {
    this.name = b.name != null ? b.name : "loop-" + loopNames.incrementAndGet();
    this.taskThreads = b.taskThreads;
    this.unnamedTaskThreads = Thread.ofVirtual().name("task of " + name).factory();
    this.runner = new Runner(this, name, b);
    ThreadExitWarmUp.ensure();
  }


  /** Creates a loop on the system clock, with low-power idle and the default failure handler. */
  public static Loop create() {
    return builder().build();
  }

  /**
   * Starts building a loop with a name, a ticker, virtual time, an idle strategy or a failure
   * handler.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** The loop's name, used in logs and errors. */
  public String name() {
    return name;
  }

  /**
   * This loop as a message about it and {@code other} names it: {@code "loop 'bus'"}, or
   * {@code "another loop also named 'bus'"} when both have that name.
   */
  String nameBeside(Loop other) {
    return other != this && other.name.equals(name) ? "another loop also named '" + name + "'"
        : "loop '" + name + "'";
  }

  /**
   * The loop's current time, in nanoseconds from its ticker's origin. May be called from any
   * thread.
   */
  public long nanoTime() {
    return runner.ticker.read();
  }

  /**
   * Runs passes until no task remains, or until {@link #stop()}. When nothing is ready and no timer
   * is due, the calling thread waits as its {@link IdleStrategy} says (a loop on virtual time jumps
   * its clock to the next deadline instead), and wakes for work sent from other threads.
   *
   * <p>Must not be called from a task, nor by two threads at once. If the calling thread is
   * interrupted, {@code run()} returns after the current pass with the interrupt status set.
   *
   * <p>When it returns or throws with tasks left (after a {@code stop()}, a failure, a deadlock),
   * they stay where they wait, each on a parked virtual thread, until the loop is run again or
   * {@link #shutdown()}: the JDK keeps every started virtual thread reachable, so a loop dropped
   * with tasks left keeps them, and everything they reference, for the life of the JVM. Shut down
   * a loop you are done with.
   *
   * @throws TaskFailedException under the default failure handler, when an exception escapes a task
   *     (or whatever another {@link FailureHandler} throws); the loop stays usable
   * @throws DeadlockException when tasks remain but none can ever run again
   * @throws IllegalStateException if called from a task or from a task's {@link Tasko#blocking}
   *     work (the loop would wait for the task, which waits for the work), or while another
   *     thread drives this loop
   */
  public void run() {
    runner.run();
  }

  /**
   * Runs one pass, tasko's {@code _step()}: once each task that was ready when the pass began, then
   * once each sleeper whose deadline has come. Never waits, and never moves a virtual clock: a
   * test can look at the loop between two instants. So on virtual time
   * {@code while (loop.step());} does not get past a sleep; {@link #run()} (or the test kit's
   * {@code TestLoop.runFor}) runs a program to its end there.
   *
   * <p>A {@link #stop()} during the pass is not used up by it: the next {@code run()} returns after
   * its first pass.
   *
   * @return true while any task remains (running, ready, sleeping or waiting)
   * @throws TaskFailedException under the default failure handler, when an exception escapes a task
   * @throws IllegalStateException if called from a task, or while another thread drives this loop
   */
  public boolean step() {
    return runner.step();
  }

  /**
   * Asks {@link #run()} to return after the current pass; the tasks stay where they are, and a
   * later {@code run()} goes on with them. May be called from any thread. If the loop is not
   * running, the next {@code run()} returns after its first pass.
   */
  public void stop() {
    runner.stop();
  }

  /**
   * Ends the loop for good. Cancels every task (a task not yet started never starts; schedules
   * stop), drives the tasks until each has ended — their {@code finally} blocks run, and every
   * {@link Lease} they hold is closed, by try-with-resources or, if forgotten, for them — then
   * closes what was registered with {@link #closeOnShutdown(AutoCloseable)}, newest first. From
   * the moment it is called, the loop refuses new work: {@code addTask}, {@code runLater},
   * {@code schedule}, {@code scheduleLater}, {@link ScheduledTask#start()} and
   * {@link TaskGroup#add} throw {@link IllegalStateException} (the tasks' cleanup may still
   * register resources with {@code closeOnShutdown}, until the closing begins). Once it has
   * returned, {@link #run()} and {@link #step()} return at once, no task being left.
   *
   * <p>Call it from a thread that is not a task, while no other thread drives the loop: after
   * {@code run()} has returned or thrown (for instance when a task failed and left others parked
   * holding a bus), or instead of running it further. Sleeping tasks need no time to pass: the
   * cancellation wakes them. What cannot be cut short, it waits for, idling as {@code run()} does:
   * blocking work that must end before its task can unwind ({@link Tasko#blocking}), and the
   * growing wait before a swallowed cancellation is thrown again (on a {@link ManualTicker}
   * without virtual time, until the ticker is advanced). Failures do not stop it: an exception
   * escaping a task's cleanup, or thrown by a registered resource's {@code close()}, is rethrown
   * once everything else is done (a checked one wrapped in {@code IllegalStateException}), further
   * ones added as suppressed. A task that catches
   * {@link java.util.concurrent.CancellationException} and goes on forever never ends, so
   * {@code shutdown()} does not return, as {@code run()} would not; the loop logs a warning naming
   * it. Cancelled tasks that wait for each other (a failure handler, which runs with its task's
   * cancellation held back, waiting for a bus that a task waiting in a group's {@code close()}
   * holds) are cancelled again, which ends the handler's wait; a deadlock in which no task runs
   * even then is thrown, its tasks left where they wait. An interrupt of the calling thread does
   * not end it, and the registered resources' {@code close()} do not see it (one that waits would
   * throw at once): it is set again when {@code shutdown()} returns, as it is when a
   * {@code close()} throws {@link InterruptedException}. Idempotent: a second call
   * returns at once, also while the first is still under way on another thread (a shutdown hook's
   * beside the main thread's); {@link #awaitShutdown} waits for that one to finish.
   *
   * @throws IllegalStateException if called from a task (of this loop or of another: a task must
   *     never drive a loop, but its blocking work may shut another loop down) or from the
   *     {@link Tasko#blocking} work of a task of this loop (the shutdown would wait for the task,
   *     which waits for the work), or while another thread drives the loop
   * @throws TaskFailedException if a task failed during its cleanup (under the default failure
   *     handler; whatever another {@link FailureHandler} throws otherwise)
   * @throws DeadlockException if cancelled tasks wait for each other and cancelling them again lets
   *     none of them run
   */
  public void shutdown() {
    Task<?> calling = DrivenLoops.currentTask();
    if (calling != null && calling.loop != this) {
      // Not its own loop, whose run() may long have returned: stop() is no way there.
      throw new IllegalStateException("shutdown() of loop '" + name + "' called from task '"
          + calling.name() + "' of " + calling.loop.nameBeside(this) + ": a task must never drive"
          + " a loop; shut it down from the task's blocking work (Tasko.blocking(() -> {"
          + " loop.shutdown(); return null; })) or another thread");
    }
    if (calling != null) {
      throw new IllegalStateException("shutdown() called from task '" + calling.name()
          + "' of loop '" + calling.loop.name
          + "': call stop() from a task, and shutdown() once run() has returned");
    }
    Thread d = runner.driver();
    // Read after the driver: a shutdown that drives the loop was requested before it began to.
    if (shutdownControl.isRequested()) {
      return; // another call's, ended or under way
    }
    Task<?> working = BlockingWork.taskOfCaller();
    if (working != null && working.loop == this) {
      throw new IllegalStateException("shutdown() called from the blocking work of task '"
          + working.name() + "' of loop '" + name + "': the shutdown would wait for that task, "
          + "which waits for this work to end; return from the work (the task may call stop()), "
          + "and shut the loop down once run() has returned");
    }
    if (d != null) {
      throw new IllegalStateException("shutdown(): loop '" + name + "' is driven by " + d
          + "; call stop() and shut it down once run() has returned");
    }
    shutdownControl.run();
  }

  /**
   * Waits until {@link #shutdown()} has returned (or thrown), for at most {@code timeout}: for a
   * JVM shutdown hook that must not let the JVM end while another thread's {@code shutdown()} still
   * runs the tasks' cleanup (motors still to stop). Returns at once if it has already returned;
   * waits for one to be called otherwise. It waits for {@code shutdown()} only, not for what the
   * thread that called it does next: register what must also happen before the JVM ends with
   * {@link #closeOnShutdown(AutoCloseable)}. Bounded, because the cleanup may itself wait for the
   * calling thread: a failure handler that calls {@code System.exit}, which waits for the
   * shutdown hooks, would otherwise never let either return.
   *
   * <pre>{@code
   * Runtime.getRuntime().addShutdownHook(new Thread(() -> {
   *   loop.stop();                                    // run() returns on the main thread...
   *   try {
   *     loop.awaitShutdown(Duration.ofSeconds(5));    // ...which then calls shutdown()
   *   } catch (InterruptedException e) {
   *     Thread.currentThread().interrupt();
   *   }
   * }));
   * try {
   *   loop.run();
   * } finally {
   *   loop.shutdown();                                // also when run() throws
   * }
   * }</pre>
   *
   * @return true if a shutdown has returned or thrown, false if the timeout passed first
   * @throws NullPointerException if {@code timeout} is null
   * @throws IllegalArgumentException if {@code timeout} is negative
   * @throws IllegalStateException if called from a task, or from a task's {@link Tasko#blocking}
   *     work, of this loop: the shutdown waits for that task
   * @throws InterruptedException if the calling thread is interrupted while it waits
   */
  public boolean awaitShutdown(Duration timeout) throws InterruptedException {
    long nanos = Durations.waitNanos(timeout, "timeout");
    Task<?> calling = DrivenLoops.currentTask();
    if (calling == null) {
      calling = BlockingWork.taskOfCaller();
    }
    if (calling != null && calling.loop == this) {
      throw new IllegalStateException("awaitShutdown() called from task '" + calling.name()
          + "' of loop '" + name + "' (or its blocking work): the shutdown waits for that task");
    }
    return shutdownControl.await(nanos);
  }

  /** Whether {@link #shutdown()} has been called. May be called from any thread. */
  public boolean isShutdown() {
    return shutdownControl.isRequested();
  }

  /**
   * Has {@link #shutdown()} close {@code resource} once the loop's tasks have ended: a GPIO
   * watcher, a device, a file the tasks share. Resources are closed newest first; registering one
   * twice closes it once. May be called from any thread.
   *
   * @throws NullPointerException if {@code resource} is null
   * @throws IllegalStateException if the loop's shutdown has already closed its resources
   */
  public void closeOnShutdown(AutoCloseable resource) {
    shutdownControl.register(Objects.requireNonNull(resource, "resource == null"));
  }

  /**
   * Undoes {@link #closeOnShutdown(AutoCloseable)}, for a resource closed before the loop ends.
   * Works while the shutdown closes the resources, too: a resource that another one's
   * {@code close()} closes and takes back is not closed again. May be called from any thread.
   *
   * @return whether {@code resource} was registered and not yet closed, nor being closed, by the
   *     shutdown
   * @throws NullPointerException if {@code resource} is null
   */
  public boolean cancelCloseOnShutdown(AutoCloseable resource) {
    return shutdownControl.unregister(Objects.requireNonNull(resource, "resource == null"));
  }
  // -----------------------------------------------------------------------------------------------
  // Adding work. Any thread.
  // -----------------------------------------------------------------------------------------------

  /**
   * Adds a task that runs {@code body}; it first runs at the loop's next pass. May be called from
   * any thread.
   *
   * <p>A method reference to a method with overloads ({@code ready::await}, where
   * {@link Event#await()} has a timed twin) may fit both this method and
   * {@link #addTask(Callable)}, and javac then calls the call ambiguous: write a lambda,
   * {@code () -> ready.await()}. The same holds for {@link Tasko#withTimeout}.
   *
   * @return the task, to join, cancel or inspect
   * @throws NullPointerException if {@code body} is null
   */
  public Task<Void> addTask(TaskBody body) {
    return spawn(null, requireBody(body), Runner.START_NOW);
  }

  /**
   * Like {@link #addTask(TaskBody)}, with a name used in logs, failures and deadlock reports.
   *
   * @throws NullPointerException if {@code name} or {@code body} is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public Task<Void> addTask(String name, TaskBody body) {
    return spawn(requireName(name), requireBody(body), Runner.START_NOW);
  }

  /**
   * Adds a task that computes a value, which {@link Task#join()} returns. May be called from any
   * thread.
   *
   * @throws NullPointerException if {@code body} is null
   */
  public <T> Task<T> addTask(Callable<T> body) {
    return spawn(null, requireBody(body), Runner.START_NOW);
  }

  /**
   * Like {@link #addTask(Callable)}, with a name used in logs, failures and deadlock reports.
   *
   * @throws NullPointerException if {@code name} or {@code body} is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public <T> Task<T> addTask(String name, Callable<T> body) {
    return spawn(requireName(name), requireBody(body), Runner.START_NOW);
  }

  /**
   * Adds a task that starts once, after {@code delay}. The start time is fixed now, when this is
   * called, not when the loop gets to it. A zero delay starts it at the loop's next timer phase:
   * the current pass's, if the pass has not reached its timers yet, else the next pass's (so a
   * task started this way that adds another the same way leaves the other tasks a turn between
   * the two). One too long for a long of nanoseconds (over 292 years) counts as the longest that
   * fits. May be called from any thread.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code delay} is negative
   */
  public Task<Void> runLater(Duration delay, TaskBody body) {
    return runLater0(null, delay, body);
  }

  /**
   * Like {@link #runLater(Duration, TaskBody)}, with a name.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break), or for a reason the method without a name gives
   */
  public Task<Void> runLater(String name, Duration delay, TaskBody body) {
    return runLater0(requireName(name), delay, body);
  }

  private Task<Void> runLater0(String name, Duration delay, TaskBody body) {
    long nanos = Durations.waitNanos(delay, "delay");
    return spawn(name, requireBody(body), Durations.saturatedAdd(runner.ticker.read(), nanos));
  }

  /**
   * Runs {@code body} at a fixed rate, once every {@code interval}, starting at the next pass. See
   * {@link ScheduledTask} for how runs are timed, what happens when a run overruns, and how a
   * schedule stops. May be called from any thread.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code interval} is zero, negative or overflows a long of
   *     nanoseconds
   */
  public ScheduledTask schedule(Duration interval, TaskBody body) {
    return schedule0(null, Rate.every(interval), body, /* later= */ false, /* callback= */ false);
  }

  /**
   * Runs {@code body} at a fixed {@code rate}, starting at the next pass: with
   * {@code import static dev.tasko.Rate.hz}, {@code loop.schedule(hz(100), body)} runs it 100 times
   * a second. Otherwise like {@link #schedule(Duration, TaskBody)}.
   *
   * @throws NullPointerException if an argument is null
   */
  public ScheduledTask schedule(Rate rate, TaskBody body) {
    return schedule0(null, requireRate(rate), body, /* later= */ false, /* callback= */ false);
  }

  /**
   * Like {@link #schedule(Duration, TaskBody)}, with a name.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break), or for a reason the method without a name gives
   */
  public ScheduledTask schedule(String name, Duration interval, TaskBody body) {
    return schedule0(requireName(name), Rate.every(interval), body, /* later= */ false,
        /* callback= */ false);
  }

  /**
   * Like {@link #schedule(Rate, TaskBody)}, with a name.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public ScheduledTask schedule(String name, Rate rate, TaskBody body) {
    return schedule0(requireName(name), requireRate(rate), body, /* later= */ false,
        /* callback= */ false);
  }

  /**
   * Like {@link #schedule(Duration, TaskBody)}, but the first run comes one interval after this
   * call instead of at once. If that lies past the end of the loop's clock ({@code Long.MAX_VALUE}
   * nanoseconds), it never comes (see {@link ScheduledTask}).
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code interval} is zero, negative or overflows a long of
   *     nanoseconds
   */
  public ScheduledTask scheduleLater(Duration interval, TaskBody body) {
    return schedule0(null, Rate.every(interval), body, /* later= */ true, /* callback= */ false);
  }

  /**
   * Like {@link #schedule(Rate, TaskBody)}, but the first run comes one interval after this call.
   *
   * @throws NullPointerException if an argument is null
   */
  public ScheduledTask scheduleLater(Rate rate, TaskBody body) {
    return schedule0(null, requireRate(rate), body, /* later= */ true, /* callback= */ false);
  }

  /**
   * Like {@link #scheduleLater(Duration, TaskBody)}, with a name.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break), or for a reason the method without a name gives
   */
  public ScheduledTask scheduleLater(String name, Duration interval, TaskBody body) {
    return schedule0(requireName(name), Rate.every(interval), body, /* later= */ true,
        /* callback= */ false);
  }

  /**
   * Like {@link #scheduleLater(Rate, TaskBody)}, with a name.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public ScheduledTask scheduleLater(String name, Rate rate, TaskBody body) {
    return schedule0(requireName(name), requireRate(rate), body, /* later= */ true,
        /* callback= */ false);
  }

  /**
   * Calls {@code callback} at a fixed {@code rate}, starting at the next pass, on the loop's own
   * turn: a schedule whose body never waits, run the way an executor runs a timer's task. The
   * loop calls it from the thread that holds the processor (the thread inside {@link #run()}, or
   * a task's thread between two tasks' turns), with no thread and no hand-off of its own, so each
   * run costs a method call where a {@link #schedule(Rate, TaskBody) schedule}'s costs two thread
   * switches. Timing, overruns, skipped runs, rate changes, failures, stopping, cancelling,
   * {@link ScheduledTask#stats()} and the leases a run forgets are as for a schedule.
   *
   * <p>The callback must not suspend: {@link Tasko#sleep}, {@link Tasko#yieldNow},
   * {@link Handle#acquire}, {@link Task#join}, {@link Channel#put} and every other call that may
   * wait throw {@link IllegalStateException} when it makes them. Calls that never wait are fine:
   * {@link Channel#offer}, {@link Event#set()}, {@link Semaphore#tryAcquire()}, starting and
   * stopping tasks and schedules, {@link ScheduledTask#changeRate}. While it runs,
   * {@link Tasko#currentTask()} is the schedule's task. A {@link FailureHandler} that handles its
   * failure runs on the loop's turn too, and must not suspend either. Stall warnings do not see a
   * callback run by the thread inside {@code run()}, since that is the thread that watches.
   *
   * <p>The thread a callback runs on is borrowed, with what comes with it: {@code
   * Thread.currentThread()}, its thread locals and the locks it holds are the host's, and so is
   * its stack (a callback that recurses deeply may overflow on a task's deep stack where a
   * schedule's body would not). An interrupt pending on the host is taken off while the callback
   * runs and put back after; an interrupt that comes during the run stays on the host (on the
   * thread inside {@code run()}, it makes {@code run()} return after the pass, as usual).
   *
   * <p>May be called from any thread.
   *
   * <pre>{@code
   * loop.scheduleCallback(hz(100), () -> count++);
   * }</pre>
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalStateException if the loop is {@linkplain #shutdown() shut down}
   */
  public ScheduledTask scheduleCallback(Rate rate, TaskBody callback) {
    return schedule0(null, requireRate(rate), callback, /* later= */ false, /* callback= */ true);
  }

  /**
   * Like {@link #scheduleCallback(Rate, TaskBody)}, once every {@code interval}.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code interval} is zero, negative or overflows a long of
   *     nanoseconds
   */
  public ScheduledTask scheduleCallback(Duration interval, TaskBody callback) {
    return schedule0(null, Rate.every(interval), callback, /* later= */ false,
        /* callback= */ true);
  }

  /**
   * Like {@link #scheduleCallback(Rate, TaskBody)}, with a name.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public ScheduledTask scheduleCallback(String name, Rate rate, TaskBody callback) {
    return schedule0(requireName(name), requireRate(rate), callback, /* later= */ false,
        /* callback= */ true);
  }

  /**
   * Like {@link #scheduleCallback(Duration, TaskBody)}, with a name.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break), or for a reason the method without a name gives
   */
  public ScheduledTask scheduleCallback(String name, Duration interval, TaskBody callback) {
    return schedule0(requireName(name), Rate.every(interval), callback, /* later= */ false,
        /* callback= */ true);
  }

  private ScheduledTask schedule0(String name, Rate rate, TaskBody body, boolean later,
      boolean callback) {
    Objects.requireNonNull(body, callback ? "callback == null" : "body == null");
    String n = name != null ? name : "schedule-" + scheduleNames.incrementAndGet();
    ScheduledTask s = new ScheduledTask(this, n, rate, body, callback);
    long now = later ? runner.ticker.read() : 0;
    long first = later
        ? Durations.saturatedAdd(now, rate.intervalNanos())
        : ScheduledTask.AT_FIRST_TURN;
    // One interval on lies past the end of the clock, where the sum saturated: that first run
    // never comes (a run at Long.MAX_VALUE would be off the grid). The test cannot overflow.
    boolean pastTheEnd = later && now > Long.MAX_VALUE - rate.intervalNanos();
    if (!runner.isOnLoop()) {
      s.markStarting(); // scheduled from the moment this returns, though it is still in the inbox
    }
    addOnLoop("it starts no new schedule", () -> s.startOnLoop(first, pastTheEnd));
    return s;
  }

  /**
   * Like {@link #runOnLoopIfOpen}, for a new schedule: one sent through the inbox counts in {@link
   * #taskCount()} from the moment this returns, though the loop takes it in only at its next pass.
   * (New tasks take the same ways in {@link #spawn}, one of them without a command.)
   */
  private void addOnLoop(String refusal, Runnable add) {
    if (runner.isOnLoop()) {
      shutdownControl.checkOpen(refusal);
      add.run();
    } else {
      addFromOutside(refusal, add);
    }
  }

  /** {@link #addOnLoop}'s way from outside the loop: {@code add} as a command, counted. */
  private void addFromOutside(String refusal, Runnable add) {
    Runnable command = () -> {
      try {
        add.run();
      } finally {
        inboxTaskTakenIn();
      }
    };
    countedIntoInbox(() -> shutdownControl.queue(refusal, command));
  }

  /**
   * Runs {@code queue}, which puts a new task or schedule in the inbox without waking the loop,
   * with it counted in {@link #taskCount()} from now until the loop calls {@link
   * #inboxTaskTakenIn()}; then wakes the loop. If {@code queue} throws, it queued nothing (refused
   * because the loop is shut down, or out of memory or stack before the inbox took the entry), and
   * it is not counted. The wake-up comes after, outside: should it throw (a stack overflow), the
   * entry is in the inbox and stays counted until the loop takes it in at a later pass (an idle
   * loop that waits for nothing but the inbox waits for another wake-up).
   */
  private void countedIntoInbox(Runnable queue) {
    inboxTasks.incrementAndGet();
    try {
      queue.run();
    } catch (Throwable e) {
      inboxTasks.decrementAndGet(); // it never reached the inbox
      throw e;
    }
    runner.wake();
  }

  /** A task or schedule counted by {@link #countedIntoInbox} has been taken in. On the loop. */
  void inboxTaskTakenIn() {
    inboxTasks.decrementAndGet();
  }

  /**
   * Runs {@code command} now if the caller is a task of this loop, else sends it to the inbox, as
   * {@link Runner#runOnLoop} does, for new work: refused with an {@link IllegalStateException}
   * saying {@code refusal} once the loop is shut down. Any thread.
   */
  void runOnLoopIfOpen(String refusal, Runnable command) {
    if (runner.isOnLoop()) {
      shutdownControl.checkOpen(refusal);
      command.run();
    } else {
      shutdownControl.submit(refusal, command);
    }
  }

  private <T> Task<T> spawn(String name, Object body, long startAt) {
    Task<T> t = newTask(name, body);
    if (runner.isOnLoop()) {
      shutdownControl.checkOpen(NO_NEW_TASK);
      runner.enqueue(t, startAt);
    } else if (startAt == Runner.START_NOW) {
      // Into the inbox as itself, with no command around it: a program that adds many tasks
      // before run() keeps them all there until the first pass, and the collector copies
      // whatever they keep alive meanwhile (a command and its counting wrapper would be two
      // objects more per task).
      countedIntoInbox(() -> shutdownControl.queueTask(NO_NEW_TASK, t));
    } else {
      addFromOutside(NO_NEW_TASK, () -> runner.enqueue(t, startAt));
    }
    return t;
  }

  /**
   * A task of this loop running {@code body}, a {@link TaskBody} or a {@link Callable}, named
   * {@code name}, or numbered if it is null.
   */
  <T> Task<T> newTask(String name, Object body) {
    return new Task<>(this, name, body);
  }

  private static Object requireBody(Object body) {
    return Objects.requireNonNull(body, "body == null");
  }

  private static String requireName(String name) {
    return Names.require(name);
  }

  private static Rate requireRate(Rate rate) {
    return Objects.requireNonNull(rate, "rate == null");
  }

  /** The number of the next task not given a name ({@code "task-7"}). */
  long nextTaskNumber() {
    return taskNumbers.incrementAndGet();
  }

  /**
   * The thread of the task named {@code taskName}, or of a task not given a name if it is null.
   * Named after a named task (its own string, no copy); the others share one name, so that a
   * task costs no string of its own.
   */
  Thread newThread(String taskName, Runnable body) {
    if (taskThreads != null) {
      return taskThreads.newThread(body);
    }
    return taskName == null ? unnamedTaskThreads.newThread(body)
        : Thread.ofVirtual().name(taskName).unstarted(body);
  }

  // -----------------------------------------------------------------------------------------------
  // The live tasks, the counters, and the builder.
  // -----------------------------------------------------------------------------------------------

  /**
   * How many tasks have not finished yet (including schedules' tasks). A task or schedule added
   * from another thread counts from the moment {@code addTask} or {@code schedule} returns, even
   * before the loop has taken it in at its next pass. May be called from any thread; read from
   * outside the loop while it runs, it is the count of a moment ago.
   */
  public int taskCount() {
    // The inbox's count first: the loop takes a task in by counting it live, then uncounting it
    // here, so a reader that sees it uncounted here sees it live. Read the other way round, a
    // task taken in between the two reads would be in neither.
    int queued = inboxTasks.get();
    return runner.live.size() + queued;
  }

  /**
   * The tasks that have not finished yet (including schedules' tasks), oldest first: for reports
   * and for tests that check what a program left running. A task or schedule added from another
   * thread is listed once the loop has taken it in, at its next pass ({@link #taskCount()} counts
   * it at once). A copy; it does not change as the loop runs.
   *
   * <p>Call it from a task of this loop, or from any thread while no thread drives the loop (for
   * example from a test between two {@link #step()} calls): the list is the driving thread's to
   * change, so reading it while another thread runs the loop could see it half-changed.
   *
   * @throws IllegalStateException if another thread is inside {@link #run()} or {@link #step()}
   */
  public List<Task<?>> tasks() {
    Thread d = runner.driver();
    if (d != null && !runner.isOnLoop()) {
      throw new IllegalStateException("tasks(): loop '" + name + "' is being driven by " + d
          + "; call it from one of its tasks or while it is not running");
    }
    List<Task<?>> tasks = new ArrayList<>(runner.live.size());
    for (Task<?> t = runner.live.oldest(); t != null; t = t.nextLive) {
      tasks.add(t);
    }
    return List.copyOf(tasks);
  }

  /**
   * A snapshot of everything the loop is doing, for people to read: for every task its state,
   * what it waits for and since when, the leases and permits it holds and its stack; for every
   * schedule its rate and stats; for every {@link ManagedResource} its tasks have used, its
   * holder, how long it has been held and who waits for it. {@code toString()} prints it like a
   * thread dump.
   *
   * <p>May be called from any thread, at any time, and never blocks for long. From a task of this
   * loop, or while no thread drives the loop, the snapshot is taken at once by the calling thread.
   * While another thread runs the loop, it is taken on the loop, between two turns, at the start
   * of its next pass (an idle loop is woken for it), and this call waits for it: everything in
   * it is then of one moment. If no pass begins within {@value #DUMP_WAIT_MILLIS} ms, a task is
   * holding the processor (a stall): the loop's state cannot be read safely then, so the
   * snapshot is {@linkplain LoopDump#complete() incomplete} and shows only that task, with its
   * stack, which is where the loop is stuck.
   *
   * <p>Cost: nothing while no dump is taken; a dump walks the tasks and takes a stack trace of
   * each (tens of microseconds per task), on the loop.
   */
  public LoopDump dump() {
    return LoopDump.of(this);
  }

  /**
   * Counters of the loop's work so far. May be called from any thread. Each counter is a value it
   * really had, never a half-written one; read from outside the loop while it runs, they are
   * approximate: each may be a moment old, and they are not all read at the same moment.
   *
   * @return passes run, task switches, and the time the driving thread spent idle
   */
  public Stats stats() {
    return runner.counters.stats();
  }

  /**
   * Counters of a loop's work.
   *
   * @param passes passes begun
   * @param switches hand-offs of the processor from one task (or the driver) to another
   * @param idleTime real time the driving thread has spent waiting for a deadline or a wake-up, a
   *     wait in progress included as far as it has gone (on virtual time, which never waits for a
   *     deadline, only the waits for another thread: {@link Tasko#blocking} work, a resume)
   */
  public record Stats(long passes, long switches, Duration idleTime) {
    /**
     * Checks the arguments.
     *
     * @throws NullPointerException if {@code idleTime} is null
     */
    public Stats {
      Objects.requireNonNull(idleTime, "idleTime == null");
    }

    /** The counts and the idle time for people to read: {@code "Stats[..., idleTime=1.23 s]"}. */
    @Override
    public String toString() {
      return "Stats[passes=" + passes + ", switches=" + switches + ", idleTime="
          + DurationText.approximate(idleTime) + "]";
    }
  }

  @Override
  public String toString() {
    return "Loop[" + name + ", tasks=" + runner.live.size() + "]";
  }

  /**
   * Builds a {@link Loop}. Not thread-safe; each {@link #build()} makes an independent loop.
   */
  public static final class Builder {
    /** Null until set: build() then numbers the loop. */
    String name;
    Ticker ticker;
    boolean virtualTime;
    IdleStrategy idleStrategy = IdleStrategy.lowPower();
    FailureHandler failureHandler = FailureHandler.stopLoop();
    long stallNanos = DEFAULT_STALL_NANOS;
    Timeline timeline;
    /**
     * For tests only: makes the tasks' threads instead of {@code Thread.ofVirtual()}. The thread
     * made must run {@code body} itself: it finds its task through the calling thread.
     */
    ThreadFactory taskThreads;

    private Builder() {}

    /**
     * Records what the loop runs when into {@code timeline}: each task's turns, its waits and
     * what ended them, idle periods, and the lateness of each scheduled run (see
     * {@link Timeline}). Off by default; while off, a switch pays one field read for it. A
     * timeline should record one loop.
     *
     * @throws NullPointerException if {@code timeline} is null
     */
    public Builder timeline(Timeline timeline) {
      this.timeline = Objects.requireNonNull(timeline, "timeline == null");
      return this;
    }

    /**
     * Names the loop; the name shows in logs and errors. By default each loop gets a name of its
     * own, {@code "loop-1"}, {@code "loop-2"}, ... in the order they are built in the process, so
     * messages about two loops tell them apart.
     *
     * @throws NullPointerException if {@code name} is null
     * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
     *     character (a line break)
     */
    public Builder name(String name) {
      this.name = Names.require(name);
      return this;
    }

    /** Sets the clock (default {@link Ticker#system()}). */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker == null");
      return this;
    }

    /**
     * Runs the loop on virtual time: when it would wait for a deadline, it moves its
     * {@link ManualTicker} to that deadline at once instead. An hour of schedules then runs
     * deterministically, as fast as the processor runs their bodies: an hour of ten schedules at
     * 10 to 100 Hz, nearly two million runs, takes about a second. Uses the
     * {@link #ticker(Ticker) ticker} if it is a {@code ManualTicker}, else a new one starting at
     * zero; {@link #build()} throws {@link IllegalStateException} if another kind of ticker was
     * set.
     *
     * <p>Only {@link Tasko#blocking} work holds the clock still while it is in flight. A task that
     * waits for another thread to resume it ({@link Suspension#resume()}, {@link Event#set()},
     * {@link Channel#offer}) does not: while it waits, the clock jumps from one deadline of the
     * other tasks to the next, as fast as they run, and a 1 Hz schedule beside it may run a
     * million times before the other thread acts. On virtual time, have such a wake-up come from
     * a task or a {@code runLater} (a simulated interrupt), or drive the loop with
     * {@code step()} and move the clock yourself.
     */
    public Builder virtualTime() {
      this.virtualTime = true;
      return this;
    }

    /** Sets how the loop waits when idle (default {@link IdleStrategy#lowPower()}). */
    public Builder idleStrategy(IdleStrategy idleStrategy) {
      this.idleStrategy = Objects.requireNonNull(idleStrategy, "idleStrategy == null");
      return this;
    }

    /** Sets what an exception escaping a task does (default {@link FailureHandler#stopLoop()}). */
    public Builder failureHandler(FailureHandler failureHandler) {
      this.failureHandler = Objects.requireNonNull(failureHandler, "failureHandler == null");
      return this;
    }

    /**
     * Sets when a stall warning comes (default 100 ms). If a task holds the processor longer than
     * {@code threshold} without reaching a suspension point — a forgotten {@code Thread.sleep}, a
     * blocking read, a busy loop — the thread driving the loop logs a {@code WARNING} (logger
     * {@code dev.tasko.Loop}) naming the loop and the task, how long it has held on, the line of
     * the program it is on, the likely cause and its fix ({@code Tasko.sleep} instead of
     * {@code Thread.sleep}; blocking work off the loop), and its stack trace; once per turn.
     * Measured in real time, even on virtual time, where turns are as short as on the system
     * clock; time spent loading or initialising classes, a first call's one-off cost, is not
     * counted. Each switch costs one more clock read while warnings are on.
     *
     * <p>The threshold is at least 1 ms: the driving thread wakes every quarter threshold to look
     * at the turn in progress, and a shorter one would keep it waking thousands of times a
     * millisecond (below 4 ns, never parking at all), taking a processor from the tasks it
     * watches.
     *
     * @throws NullPointerException if {@code threshold} is null
     * @throws IllegalArgumentException if {@code threshold} is zero or negative, shorter than
     *     1 ms, or too long for a long of nanoseconds (over 292 years)
     * @see #noStallWarning()
     */
    public Builder stallWarning(Duration threshold) {
      Objects.requireNonNull(threshold, "threshold == null");
      if (threshold.isZero() || threshold.isNegative()) {
        throw new IllegalArgumentException("threshold <= 0: " + threshold
            + " (noStallWarning() turns stall warnings off)");
      }
      long nanos = Durations.positiveNanos(threshold, "threshold");
      if (nanos < MIN_STALL_NANOS) {
        throw new IllegalArgumentException("threshold < 1 ms: " + threshold);
      }
      this.stallNanos = nanos;
      return this;
    }

    /**
     * Turns stall warnings off (see {@link #stallWarning(Duration)}): for a loop whose tasks block
     * on purpose, or to save the clock read each switch costs while they are on.
     */
    public Builder noStallWarning() {
      this.stallNanos = 0;
      return this;
    }

    /**
     * Creates the loop.
     *
     * @throws IllegalStateException if {@link #virtualTime()} was asked for with a ticker that is
     *     not a {@link ManualTicker}
     */
    public Loop build() {
      chosenTicker(); // refuses a ticker virtual time cannot move before the loop takes a number
      return new Loop(this);
    }

    /** The loop's clock: the ticker set, a new ManualTicker for virtual time, or the system's. */
    Ticker chosenTicker() {
      if (!virtualTime) {
        return ticker == null ? Ticker.system() : ticker;
      }
      if (ticker == null) {
        return new ManualTicker();
      }
      if (ticker instanceof ManualTicker) {
        return ticker;
      }
      throw new IllegalStateException("virtualTime() needs a ManualTicker or no ticker; got "
          + ticker);
    }
  }
}
