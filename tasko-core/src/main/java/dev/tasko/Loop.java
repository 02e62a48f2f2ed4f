package dev.tasko;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

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
 * loop.run();                                                        // until every task is done
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
 */
public final class Loop {
  /**
   * The library's one logger, {@code dev.tasko.Loop}: loops, tasks and failure handlers log here.
   */
  static final System.Logger LOG = System.getLogger(Loop.class.getName());
  /** Stall warnings come after 100 ms: far beyond any well-behaved turn, soon enough to notice. */
  private static final long DEFAULT_STALL_NANOS = Duration.ofMillis(100).toNanos();
  /** Numbers the loops built without a name, process-wide: loop-1, loop-2, ... */
  private static final AtomicLong loopNames = new AtomicLong();
  /** Back-off before a cancellation is thrown again to a task that swallowed it. */
  private static final long REDELIVERY_MIN_NANOS = 1_000_000L;
  /** Deliveries thrown at once, before a task counts as swallowing its cancellation. */
  private static final int IMMEDIATE_DELIVERIES = 3;
  private static final long REDELIVERY_MAX_NANOS = 1_000_000_000L;
  /** How long {@link #dump()} waits for a running loop to begin a pass and answer. */
  static final long DUMP_WAIT_MILLIS = 1000;
  /** For {@link #enqueue}: ready at once rather than on a timer (no ticker reads this value). */
  static final long START_NOW = Long.MIN_VALUE;
  private static final VarHandle PASSES;
  private static final VarHandle SWITCHES;
  private static final VarHandle IDLE_NANOS;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      PASSES = lookup.findVarHandle(Loop.class, "passes", long.class);
      SWITCHES = lookup.findVarHandle(Loop.class, "switches", long.class);
      IDLE_NANOS = lookup.findVarHandle(Loop.class, "idleNanos", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String name;
  private final Ticker ticker;
  /** The ticker to move when idle, when the loop runs on virtual time; otherwise null. */
  private final ManualTicker virtualClock;
  /** True when time moves only by hand: idle waits for a wake-up, not for a deadline. */
  private final boolean manualTime;
  /** The ticker when it is a ManualTicker, whose advance() wakes this loop while it idles. */
  private final ManualTicker manualTicker;
  private final Runnable wakeHook = this::wake;
  private final IdleStrategy idleStrategy;
  private final FailureHandler failureHandler;
  private final boolean trace;
  /** Warns about a task that holds the processor too long; null when stall warnings are off. */
  private final StallWatchdog watchdog;
  /** Records what ran when; null unless the builder was given one (see Builder.timeline). */
  private final Timeline timeline;
  private final AtomicLong taskNames = new AtomicLong();
  private final AtomicLong scheduleNames = new AtomicLong();

  // ---- Guarded by the baton: read and written only by the thread that holds the processor (the
  // running task, or the driving thread between tasks). Hand-offs go through volatile fields, so
  // each holder sees what the previous one wrote. ----
  private ArrayDeque<Task<?>> ready = new ArrayDeque<>();
  /** The most tasks a pass has begun with since the ready queue was last made anew. */
  private int readyPeak;
  private final Timers timers = new Timers();
  /** How many tasks at the head of {@code ready} still belong to the current pass. */
  private int passRemaining;
  /** Whether the current pass has moved on to due timers, and the time it compares them with. */
  private boolean inTimerPhase;
  private long passNow;
  /** Set while step() runs: the baton returns to the driver at the end of the pass. */
  private boolean stepping;
  /** What a failure handler threw: the driver rethrows it as soon as it gets the baton back. */
  private Throwable pendingFailure;
  /** Tasks awaiting a suspension that a thread outside the loop may resume. */
  private int externalWaiters;
  /** Tasko.blocking calls in flight: while any is, virtual time does not jump. */
  int blockingWork;
  /** Tasks not yet finished, oldest first: for run()'s end and for deadlock reports. */
  private final LiveTasks live = new LiveTasks();
  /**
   * The managed resources this loop's tasks have used, for {@link #dump()}; weakly, so that a
   * resource the program drops is not kept for the loop's sake.
   */
  private final Set<ManagedResource<?, ?>> resources =
      Collections.newSetFromMap(new WeakHashMap<>());
  private Thread driverThread;
  /**
   * The task holding the baton; null while the driver holds it. Written before each hand-off, so
   * the task handed the baton reads itself here (see currentTask()); other threads may read a
   * stale value, which never names a task running on their own thread.
   */
  Task<?> current;
  // Counters for stats(), written by the baton holder with opaque stores and read from any thread
  // with opaque loads: a reader never sees a long half-written (as a plain long may be on a 32-bit
  // JVM), and the switch path pays no fence for it.
  private long passes;
  private long switches;
  private long idleNanos;

  // ---- Shared with any thread. ----
  /** Commands from outside the loop (new tasks, resumes, cancels), run at the start of a pass. */
  private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
  /** Tasks and schedules added from outside the loop whose command is still in the inbox. */
  private final AtomicInteger inboxTasks = new AtomicInteger();
  /** The thread inside run() or step(), if any. */
  private final AtomicReference<Thread> driver = new AtomicReference<>();
  private volatile boolean driverTurn;
  /** The driver while it idles; a submit() unparks it. */
  private volatile Thread idleThread;
  private volatile boolean stopRequested;
  /** Refuses new work once shut down, and keeps what to close then. */
  final Shutdown shutdownControl = new Shutdown(this);
  /** The driving thread was interrupted while tasks ran: end the pass as stop() would. */
  private volatile boolean interruptRequested;

  private Loop(Builder b) {
    this.name = b.name != null ? b.name : "loop-" + loopNames.incrementAndGet();
    this.idleStrategy = b.idleStrategy;
    this.failureHandler = b.failureHandler;
    if (b.virtualTime) {
      if (b.ticker == null) {
        this.virtualClock = new ManualTicker();
      } else if (b.ticker instanceof ManualTicker m) {
        this.virtualClock = m;
      } else {
        throw new IllegalStateException("virtualTime() needs a ManualTicker or no ticker; got "
            + b.ticker);
      }
      this.ticker = virtualClock;
    } else {
      this.virtualClock = null;
      this.ticker = b.ticker == null ? Ticker.system() : b.ticker;
    }
    this.manualTime = ticker instanceof ManualTicker;
    this.manualTicker = ticker instanceof ManualTicker m ? m : null;
    this.trace = LOG.isLoggable(Level.DEBUG);
    this.watchdog = b.stallNanos == 0 ? null : new StallWatchdog(name, b.stallNanos);
    this.timeline = b.timeline;
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
   * The loop's current time, in nanoseconds from its ticker's origin. May be called from any
   * thread.
   */
  public long nanoTime() {
    return ticker.read();
  }

  // -----------------------------------------------------------------------------------------------
  // The event loop, in the order it runs: run() or step() on the driving thread, the driver's
  // turn, a pass (beginPass, next), spinning or skipping to a near timer, idling. Then the
  // hand-off between tasks (handTo, park), the suspension traps, and wake-ups from other threads.
  // -----------------------------------------------------------------------------------------------

  /**
   * Runs passes until no task remains, or until {@link #stop()}. When nothing is ready and no timer
   * is due, the calling thread waits as its {@link IdleStrategy} says (a loop on virtual time jumps
   * its clock to the next deadline instead), and wakes for work sent from other threads.
   *
   * <p>Must not be called from a task, nor by two threads at once. If the calling thread is
   * interrupted, {@code run()} returns after the current pass with the interrupt status set.
   *
   * @throws TaskFailedException under the default failure handler, when an exception escapes a task
   *     (or whatever another {@link FailureHandler} throws); the loop stays usable
   * @throws DeadlockException when tasks remain but none can ever run again
   * @throws IllegalStateException if called from a task, or while another thread drives this loop
   */
  public void run() {
    enter("run");
    boolean interrupted = false;
    try {
      // This 'for' is the event loop. Each turn opens a pass: if anything is ready or due, the
      // baton goes to the first task, and the tasks hand it on among themselves, pass after pass,
      // until nothing is left to do right now; then the baton comes back here and this thread idles
      // until the next deadline or wake-up.
      for (;;) {
        if (beginPass()) {
          interrupted |= runPass();
        } else if (!idle()) {
          return; // no task left
        }
        if (Thread.interrupted()) {
          interrupted = true;
        }
        if (stopRequested || interrupted) {
          stopRequested = false;
          return;
        }
      }
    } finally {
      interruptRequested = false;
      leave(interrupted);
    }
  }

  /**
   * Runs one pass, tasko's {@code _step()}: once each task that was ready when the pass began, then
   * once each sleeper whose deadline has come. Never waits, and never moves a virtual clock: a
   * test can look at the loop between two instants. So on virtual time
   * {@code while (loop.step());} does not get past a sleep; {@link #run()} (or the test kit's
   * {@code TestLoop.runFor}) runs a program to its end there.
   *
   * @return true while any task remains (running, ready, sleeping or waiting)
   * @throws TaskFailedException under the default failure handler, when an exception escapes a task
   * @throws IllegalStateException if called from a task, or while another thread drives this loop
   */
  public boolean step() {
    enter("step");
    stepping = true;
    boolean interrupted = false;
    try {
      if (beginPass()) {
        interrupted = runPass();
      }
      return live.size() > 0 || !inbox.isEmpty();
    } finally {
      stepping = false;
      interruptRequested = false;
      leave(interrupted);
    }
  }

  /**
   * Asks {@link #run()} to return after the current pass; the tasks stay where they are, and a
   * later {@code run()} goes on with them. May be called from any thread. If the loop is not
   * running, the next {@code run()} returns after its first pass.
   */
  public void stop() {
    stopRequested = true;
    wake();
  }

  /**
   * Ends the loop for good. Cancels every task (a task not yet started never starts; schedules
   * stop), drives the tasks until each has ended — their {@code finally} blocks run, and every
   * {@link Lease} they hold is closed, by try-with-resources or, if forgotten, for them — then
   * closes what was registered with {@link #closeOnShutdown(AutoCloseable)}, newest first. From
   * the moment it is called, the loop refuses new work: {@code addTask}, {@code runLater},
   * {@code schedule}, {@code scheduleLater}, {@link ScheduledTask#start()} and
   * {@code closeOnShutdown} throw {@link IllegalStateException}; {@link #run()} and
   * {@link #step()} return at once, no task being left.
   *
   * <p>Call it from a thread that is not a task, while no other thread drives the loop: after
   * {@code run()} has returned or thrown (for instance when a task failed and left others parked
   * holding a bus), or instead of running it further. It does not wait for time to pass: sleeping
   * tasks are woken by the cancellation. Failures do not stop it: an exception escaping a task's
   * cleanup, or thrown by a registered resource's {@code close()}, is rethrown once everything else
   * is done (a checked one wrapped in {@code IllegalStateException}), further ones added as
   * suppressed. A task that catches {@link java.util.concurrent.CancellationException} and goes on
   * forever never gives the processor back (in a cancelled task every suspension point throws at
   * once), so {@code shutdown()} does not return, as {@code run()} would not; a
   * {@linkplain Builder#stallWarning stall warning} names it. Idempotent: a second call returns at
   * once.
   *
   * @throws IllegalStateException if called from a task, or while another thread drives the loop
   * @throws TaskFailedException if a task failed during its cleanup (under the default failure
   *     handler; whatever another {@link FailureHandler} throws otherwise)
   */
  public void shutdown() {
    Task<?> calling = currentTask();
    if (calling != null) {
      throw new IllegalStateException("shutdown() called from task '" + calling.name()
          + "' of loop '" + calling.loop.name
          + "': call stop() from a task, and shutdown() once run() has returned");
    }
    Thread d = driver.get();
    if (d != null) {
      throw new IllegalStateException("shutdown(): loop '" + name + "' is driven by " + d
          + "; call stop() and shut it down once run() has returned");
    }
    shutdownControl.run();
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
   * Undoes {@link #closeOnShutdown(AutoCloseable)}, for a resource closed before the loop ends. May
   * be called from any thread.
   *
   * @return whether {@code resource} was registered
   */
  public boolean cancelCloseOnShutdown(AutoCloseable resource) {
    return shutdownControl.unregister(resource);
  }

  private void enter(String op) {
    Task<?> calling = currentTask();
    if (calling != null) {
      throw new IllegalStateException(op + "() called from task '" + calling.name() + "' of loop '"
          + calling.loop.name + "': a task must never drive a loop");
    }
    Thread me = Thread.currentThread();
    if (!driver.compareAndSet(null, me)) {
      throw new IllegalStateException(op + "(): loop '" + name + "' is already driven by "
          + driver.get());
    }
    driverThread = me;
    passNow = ticker.read(); // waits begun before the first timer phase date from here
    DrivenLoops.register(this);
    Flight.loopDriven();
  }

  /** Undoes {@link #enter}; restores the interrupt status the driver saw while tasks ran. */
  private void leave(boolean interrupted) {
    DrivenLoops.unregister(this);
    driver.set(null);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Runs the pass {@link #beginPass()} has just opened: hands the baton to its first task, waits
   * until it comes back (after this pass in step(); in run(), after every pass that follows on
   * without idling), then rethrows what a failure handler threw meanwhile. Returns whether the
   * driving thread was interrupted.
   */
  private boolean runPass() {
    boolean interrupted = false;
    Task<?> first = next();
    if (first != null) {
      interrupted = runUntilDriverTurn(first);
    }
    rethrowPendingFailure();
    return interrupted;
  }

  /**
   * Hands the baton to {@code first} and waits until it comes back. Returns whether interrupted.
   */
  private boolean runUntilDriverTurn(Task<?> first) {
    handTo(first);
    boolean interrupted = false;
    while (!driverTurn) {
      if (watchdog == null) {
        LockSupport.park(this);
      } else {
        LockSupport.parkNanos(this, watchdog.stallNanos / 4); // see Builder.stallWarning
        watchdog.check();
      }
      if (Thread.interrupted()) {
        // Reported once the baton is back: a task is running now. Busy tasks open pass after
        // pass among themselves, so ask them to hand the baton back at the end of this one.
        interrupted = true;
        interruptRequested = true;
      }
    }
    driverTurn = false;
    return interrupted;
  }

  /**
   * Opens a pass: runs the commands other threads sent, and fixes the batch of tasks this pass
   * runs. Returns whether the pass has anything to run.
   */
  private boolean beginPass() {
    Runnable command;
    while ((command = inbox.poll()) != null) {
      command.run();
    }
    PASSES.setOpaque(this, passes + 1);
    passRemaining = ready.size();
    if (passRemaining > readyPeak) {
      readyPeak = passRemaining;
    }
    if (trace) {
      LOG.log(Level.DEBUG, "{0}: pass {1}: {2} ready, {3} sleeping, {4} tasks", name, passes,
          passRemaining, timers.size(), live.size());
    }
    if (passRemaining > 0) {
      inTimerPhase = false;
      return true;
    }
    shrinkReadyQueue(); // nothing is ready: a good time to give back what a burst took
    inTimerPhase = true;
    passNow = ticker.read();
    return !timers.isEmpty() && timers.earliestDeadline() <= passNow;
  }

  /**
   * Picks who holds the processor next: a task, or null for the driving thread. Called by the baton
   * holder whenever it stops running (it suspends or ends). This is where passes happen.
   */
  private Task<?> next() {
    for (;;) {
      if (pendingFailure != null) {
        return null; // a failure stops run() now; the rest of the pass keeps its place
      }
      // 1. The tasks that were ready when the pass began, first come, first served. A task made
      //    ready during the pass (a yield, a resume, a release) waits for the next pass, so a task
      //    that yields in a loop cannot starve the others.
      if (passRemaining > 0) {
        // Looked at before it is taken: an error (a stack overflow) thrown by a call in between
        // must not lose a task that is out of the queue but not yet running.
        if (ready.peek().isDone()) {
          ready.poll(); // cancelled before it started, or ended by an error in the loop's code
          passRemaining--;
          continue;
        }
        Task<?> t = ready.poll();
        passRemaining--;
        return t;
      }
      // 2. Then the sleepers whose deadline has come, earliest first. The time is read once per
      //    pass, so a timer set while this phase runs cannot fire in it.
      if (!inTimerPhase) {
        inTimerPhase = true;
        passNow = ticker.read();
      }
      TimerEntry due = timers.pollDue(passNow);
      if (due instanceof Task<?> t) {
        return t;
      }
      if (due instanceof TimeoutScope scope) {
        expire(scope); // may ready its task, for the next pass
        continue;
      }
      if (due != null) {
        Lease<?> lease = (Lease<?>) due; // held past its resource's hold limit
        lease.handle.resource.holdLimitPassed(lease, passNow);
        continue;
      }
      // The pass is over. step() gets the baton back here; so does run() when asked to stop.
      if (stepping || stopRequested || interruptRequested) {
        return null;
      }
      // 3. run() opens the next pass right here, on whichever task holds the baton, so a busy loop
      //    never pays for a round trip through the driving thread. With nothing to do now, the
      //    baton goes back to the driver, which idles; on virtual time there is no waiting to do,
      //    so the clock jumps to the next deadline here too.
      if (!beginPass() && !skipToNextTimer() && !spinToNextTimer()) {
        return null;
      }
    }
  }

  /**
   * With nothing to run now but a timer due very soon, spins until it is due and reopens the pass,
   * on the task holding the baton: cheaper and more punctual than idling, which costs a round trip
   * through the driving thread. Returns false if the driver should idle instead.
   */
  private boolean spinToNextTimer() {
    if (manualTime || timers.isEmpty() || !inbox.isEmpty() || stopRequested || interruptRequested) {
      return false;
    }
    long deadline = timers.earliestDeadline();
    if (deadline - ticker.read() > idleStrategy.shortWaitNanos()) {
      return false;
    }
    while (ticker.read() < deadline && inbox.isEmpty() && !stopRequested && !interruptRequested) {
      Thread.onSpinWait();
    }
    return beginPass();
  }

  /**
   * On virtual time, with nothing to run now but a timer pending, moves the clock to that timer
   * and reopens the pass. Returns false if the driver should take over instead.
   */
  private boolean skipToNextTimer() {
    if (virtualClock == null || timers.isEmpty() || !inbox.isEmpty() || blockingWork > 0) {
      return false;
    }
    long from = ticker.read();
    virtualClock.advanceTo(timers.earliestDeadline());
    if (timeline != null) {
      timeline.idled(from, ticker.read());
    }
    return beginPass();
  }

  /**
   * Nothing is ready and no timer is due: waits for the earliest deadline, or for work from another
   * thread. Returns false when no task is left. Runs on the driving thread.
   */
  private boolean idle() {
    if (!inbox.isEmpty() || stopRequested) {
      return true;
    }
    // Whether there is a deadline is a flag of its own: every long, Long.MAX_VALUE included, is
    // a deadline a timer may have.
    long deadline = 0;
    boolean hasDeadline = !timers.isEmpty();
    if (hasDeadline) {
      long slack = idleStrategy.slackNanos();
      deadline = slack == 0 ? timers.earliestDeadline() : timers.latestWithin(slack, 64);
    } else if (externalWaiters > 0) {
      // only another thread can wake a task now
    } else if (live.size() == 0) {
      return false;
    } else {
      DeadlockException e = DeadlockException.of(name, live.oldest());
      Flight.deadlock(name, e.stuckTasks().size(), e.getMessage());
      throw e;
    }
    // Blocking work in flight (Tasko.blocking) holds virtual time still: the loop waits for it.
    if (virtualClock != null && hasDeadline && blockingWork == 0) {
      long from = ticker.read();
      virtualClock.advanceTo(deadline);
      passNow = deadline;
      if (timeline != null) {
        timeline.idled(from, deadline);
      }
      return true;
    }
    if (trace) {
      LOG.log(Level.DEBUG, "{0}: idle until {1}", name,
          !hasDeadline ? "a wake-up" : "+" + Duration.ofNanos(deadline - ticker.read()));
    }
    long start = System.nanoTime();
    long idleFrom = timeline == null ? 0 : ticker.read();
    idleThread = Thread.currentThread();
    if (manualTicker != null) {
      manualTicker.addWaiter(wakeHook); // only while idle: the ticker keeps no loop that is gone
    }
    try {
      // Checked after idleThread is published: work submitted from now on unparks us, and work
      // submitted before is seen here. The same goes for a manual ticker's advance().
      if (inbox.isEmpty() && !stopRequested && (!hasDeadline || ticker.read() < deadline)) {
        if (!hasDeadline || manualTime) {
          LockSupport.park(this);
        } else {
          idleStrategy.await(ticker, deadline, this::hasWork);
        }
      }
    } finally {
      if (manualTicker != null) {
        manualTicker.removeWaiter(wakeHook);
      }
      idleThread = null;
      IDLE_NANOS.setOpaque(this, idleNanos + (System.nanoTime() - start));
      passNow = ticker.read(); // the pass that follows may run ready tasks without reading it
      if (timeline != null) {
        timeline.idled(idleFrom, passNow);
      }
    }
    return true;
  }

  /**
   * An ArrayDeque never gives back the array a burst made it grow to; when a burst of ready tasks
   * has passed and the queue is empty, a new small queue takes its place.
   */
  private void shrinkReadyQueue() {
    if (readyPeak > 256 && ready.isEmpty()) {
      ready = new ArrayDeque<>();
      readyPeak = 0;
    }
  }

  private boolean hasWork() {
    return !inbox.isEmpty() || stopRequested;
  }

  private void rethrowPendingFailure() {
    Throwable f = pendingFailure;
    if (f == null) {
      return;
    }
    pendingFailure = null;
    if (f instanceof RuntimeException r) {
      throw r;
    }
    if (f instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException("failure handler threw a checked exception", f);
  }

  // -----------------------------------------------------------------------------------------------
  // Switching: the hand-off of the baton. Runs on the thread that holds it.
  // -----------------------------------------------------------------------------------------------

  /** Hands the processor to {@code next}, or to the driving thread when null. */
  private void handTo(Task<?> next) {
    SWITCHES.setOpaque(this, switches + 1);
    if (timeline != null && next != null) {
      timeline.turnBegan(next, ticker.read());
    }
    current = next;
    if (watchdog != null) {
      watchdog.turnTo(next);
    }
    if (next == null) {
      driverTurn = true;
      LockSupport.unpark(driverThread);
    } else {
      next.takeTurn();
    }
  }

  /**
   * Gives up the processor until someone makes {@code self} ready and its turn comes. The caller
   * has already put {@code self} wherever it waits (the ready queue, a timer, a suspension).
   */
  private void park(Task<?> self) {
    if (timeline != null) {
      timeline.turnEnded(self, ticker.read()); // before next(), which may move virtual time
    }
    Task<?> next;
    try {
      next = next();
    } catch (Throwable e) {
      // An error in the loop's own code (a stack overflow) before the hand-off: the task still
      // holds the processor and goes on with the error, so take it out of where it was queued.
      // Best effort: if this throws too, its stale place is skipped once it ends.
      timers.remove(self);
      if (ready.removeLastOccurrence(self) && passRemaining > ready.size()) {
        passRemaining = ready.size(); // it may have been counted in a pass opened meanwhile
      }
      self.setState(Task.State.RUNNING);
      throw e;
    }
    if (next == self) {
      self.setState(Task.State.RUNNING); // its own turn came round again: no switch needed
      if (watchdog != null) {
        watchdog.turnTo(self); // a new turn all the same: not a stall
      }
      if (timeline != null) {
        timeline.turnBegan(self, ticker.read());
      }
      return;
    }
    handTo(next);
    // Parked here until handed the processor again (inlined: every frame here is kept in the
    // stack of every sleeping task). park() returns at once while the thread's interrupt flag is
    // set, so the flag is taken off while the task waits (else its thread would spin on a core)
    // and put back before it runs on: the task finds its flag as it left it.
    boolean interrupted = false;
    try {
      while (!self.turn) {
        LockSupport.park(this);
        if (Thread.interrupted()) {
          interrupted = true;
        }
      }
    } catch (Throwable e) {
      // A stack overflow (or out of memory) on the way into park(), after the processor was
      // handed on: this task must not run on while another does. Wait for its turn without
      // calling anything that could throw again, then let the error end it.
      while (!self.turn) {
        // spin: only reached by a task whose stack is already exhausted
      }
      self.turn = false; // as clearTurn(), without a call
      throw e;
    }
    self.clearTurn();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The last thing a task's thread does: the task has ended (its failure, if any, reported).
   * Whatever an error thrown inside the loop's own code on the task's stack (a stack overflow at
   * a suspension point) left behind is taken away here: a timer, a place in the ready queue
   * (next() skips finished tasks).
   */
  void exit(Task<?> t) {
    timers.remove(t);
    t.waitingOn = null;
    live.remove(t);
    if (t.onEnd != null) {
      t.onEnd.run();
    }
    if (trace) {
      LOG.log(Level.DEBUG, "{0}: task ''{1}'' ended: {2}", name, t.name(), t.state());
    }
    if (timeline != null) {
      timeline.turnEnded(t, ticker.read());
    }
    Task<?> next = next();
    t.thread = null; // a finished task keeps no thread (its result may be kept for a long time)
    handTo(next);
  }

  /** Ends a task cancelled before its first turn, without ever giving it a thread. */
  private void endUnstarted(Task<?> t) {
    timers.remove(t); // a runLater start; in the ready queue, next() skips it once it is done
    t.endUnstarted();
    live.remove(t);
    if (t.onEnd != null) {
      t.onEnd.run();
    }
  }

  void reportFailure(Task<?> task, Throwable failure) {
    Flight.taskFailed(name, task.name(), failure);
    if (trace) {
      LOG.log(Level.DEBUG, name + ": " + task + " failed", failure);
    }
    try {
      failureHandler.taskFailed(task, failure);
    } catch (Throwable e) {
      if (pendingFailure == null) {
        pendingFailure = e;
      } else {
        pendingFailure.addSuppressed(e);
      }
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Suspension traps: what Tasko.sleep and yieldNow, Suspension.await, Task.join and
  // Task.cancel do on the loop. They run on the task that holds the baton.
  // -----------------------------------------------------------------------------------------------

  /**
   * Sleeps until {@code deadline} (loop time); returns early only when cancelled or woken early.
   */
  void sleepUntil(Task<?> self, long deadline) {
    checkCancelled(self);
    timers.add(self, deadline);
    self.waitSince = passNow;
    self.setState(Task.State.WAITING);
    park(self);
    checkCancelled(self);
  }

  void yieldNow(Task<?> self) {
    checkCancelled(self);
    self.setState(Task.State.READY);
    ready.add(self);
    park(self);
    checkCancelled(self);
  }

  /**
   * Throws if the task has a pending cancellation: an outside cancel
   * ({@link CancellationException}) or an expired timeout scope ({@link TimeoutScope.Expired}). An
   * outside cancel comes first, so it is never taken for a timeout.
   */
  static void checkCancelled(Task<?> self) {
    if (self.cancelRequested) {
      throw self.loop.deliverCancellation(self, self.cancelled());
    }
    if (self.timeouts != null) {
      TimeoutScope expired = TimeoutScope.expiredScope(self);
      if (expired != null) {
        throw self.loop.deliverCancellation(self, new TimeoutScope.Expired(expired));
      }
    }
  }

  /** Whether {@link #checkCancelled} would throw. */
  static boolean cancelPending(Task<?> self) {
    return self.cancelRequested
        || (self.timeouts != null && TimeoutScope.expiredScope(self) != null);
  }
  /**
   * Returns {@code e} for the caller to throw at a suspension point. The first deliveries are at
   * once: cleanup on the way out may meet a cancellation point or two (a task group's
   * {@code close()}, a {@code finally} that suspends) and rethrow there. A task that keeps reaching
   * suspension points after that has swallowed its cancellation (a {@code catch (Exception e)}
   * around a sleep): were it thrown at once again, the task would spin holding the processor and
   * no other task, nor stop(), would ever run. So from then on a re-delivery first sleeps on the
   * loop's clock, 1 ms the first time, doubling up to 1 s, and the first such one logs a warning
   * naming the task.
   */
  CancellationException deliverCancellation(Task<?> self, CancellationException e) {
    int delivered = self.cancelDeliveries;
    self.cancelDeliveries = delivered == Integer.MAX_VALUE ? delivered : delivered + 1;
    if (delivered >= IMMEDIATE_DELIVERIES) {
      int late = delivered - IMMEDIATE_DELIVERIES;
      if (late == 0) {
        LOG.log(Level.WARNING, "loop ''{0}'': task ''{1}'' reached a suspension point after its "
            + "cancellation was thrown: it swallowed the CancellationException (a catch of "
            + "Exception or Throwable around a suspending call?). It is thrown again at each "
            + "suspension point, after a wait that grows to {2}.", name, self.name(),
            DurationText.approximate(Duration.ofNanos(REDELIVERY_MAX_NANOS)));
      }
      long wait = REDELIVERY_MIN_NANOS << Math.min(late, 30);
      timers.add(self,
          Durations.saturatedAdd(ticker.read(), Math.min(wait, REDELIVERY_MAX_NANOS)));
      self.setState(Task.State.WAITING);
      park(self);
    }
    return e;
  }


  /**
   * Parks the suspension's task until it is resumed, cancelled, or {@code timeoutNanos} pass
   * (negative: no timeout). Returns false on timeout.
   */
  boolean await(Suspension s, long timeoutNanos) {
    return await(s, timeoutNanos, /* resumeWins= */ false);
  }

  /**
   * Awaits a join's suspension. A join that was resumed (its task ended and woke the caller)
   * before a cancel of the caller arrived returns, so the caller receives the outcome it was
   * handed (a failure counted as seen by it would otherwise be lost); the cancellation is thrown
   * at the caller's next suspension point.
   */
  void awaitJoin(Suspension s) {
    await(s, -1, /* resumeWins= */ true);
  }

  private boolean await(Suspension s, long timeoutNanos, boolean resumeWins) {
    Task<?> self = s.task;
    if (cancelPending(self)) {
      s.cancel();
      checkCancelled(self);
    }
    s.markAwaited(); // one-shot: a second await throws
    if (!s.beginAwait()) {
      yieldNow(self); // resumed before it was awaited: return, but still as a switch point
      return true;
    }
    self.waitingOn = s;
    self.waitSince = passNow;
    self.setState(Task.State.WAITING);
    if (s.external) {
      externalWaiters++;
    }
    try {
      if (timeoutNanos >= 0) {
        timers.add(self, Durations.saturatedAdd(ticker.read(), timeoutNanos));
      }
      park(self);
      if (!s.isResumed() && !cancelPending(self)) {
        // The timer fired. Claim the suspension so a late resume() does nothing...
        if (s.cancel()) {
          return false;
        }
        // ...unless a resume() from another thread got there first: its wake-up is on its way
        // through the inbox, so wait for it rather than run twice.
        self.setState(Task.State.WAITING);
        park(self);
      }
    } finally {
      self.waitingOn = null;
      timers.remove(self);
      if (s.external) {
        externalWaiters--;
      }
    }
    if (!(resumeWins && s.isResumed())) {
      checkCancelled(self);
    }
    return true;
  }

  /**
   * Parks the suspension's task until it is resumed, whatever a cancel or an expired timeout says
   * meanwhile: for waits a task must not walk away from (its task group's children, its blocking
   * work). The suspension must be shielded, so that neither can claim it.
   */
  void awaitShielded(Suspension s) {
    Task<?> self = s.task;
    if (!s.beginAwait()) {
      return; // resumed already
    }
    self.waitingOn = s;
    self.waitSince = passNow;
    if (s.external) {
      externalWaiters++;
    }
    try {
      do {
        self.setState(Task.State.WAITING);
        park(self);
      } while (!s.isResumed());
    } finally {
      self.waitingOn = null;
      if (s.external) {
        externalWaiters--;
      }
    }
  }

  void join(Task<?> caller, Task<?> target) {
    if (target.isDone()) {
      yieldNow(caller);
      return;
    }
    Suspension s = new Suspension(caller, target, /* external= */ false);
    target.addJoiner(s);
    try {
      awaitJoin(s);
    } catch (Throwable e) { // a cancel, or an error at the suspension point: no longer a joiner
      s.cancel();
      target.removeJoiner(s);
      throw e;
    }
  }

  /** Delivers a cancel request: a waiting task is woken to throw at its suspension point. */
  void cancel(Task<?> t) {
    if (t.isDone()) {
      return;
    }
    t.cancelRequested = true;
    if (t.thread == null) {
      endUnstarted(t);
      return;
    }
    boolean wake = timers.remove(t);
    Suspension s = t.waitingOn;
    if (s != null && s.cancel()) {
      wake = true;
    }
    if (wake) {
      makeReady(t);
    }
  }

  /**
   * Whether the loop has ended: no thread drives it and no task is left (run() returned for lack
   * of work), or it was shut down. Any thread: the driver's release in leave() publishes the count.
   */
  boolean hasEnded() {
    return driver.get() == null
        && ((live.size() == 0 && inbox.isEmpty()) || shutdownControl.isRequested());
  }

  /** Cancels every live task: the first thing a shutdown does on the loop. */
  void cancelAll() {
    for (Task<?> t = live.oldest(); t != null; ) {
      Task<?> next = t.nextLive; // read first: a task that never started leaves the list at once
      cancel(t);
      t = next;
    }
  }

  /**
   * Ends a task's sleep before its deadline (a stopped schedule); does nothing if it is not asleep.
   */
  void wakeEarly(Task<?> t) {
    if (timers.remove(t)) {
      makeReady(t);
    }
  }

  void makeReady(Task<?> t) {
    if (t.state() != Task.State.NEW) {
      t.setState(Task.State.READY);
    }
    ready.add(t);
  }

  // ---- Timeout scopes (Tasko.withTimeout): entries of their own in the timer queue. ----

  /** Opens {@code scope} for its task, expiring {@code timeoutNanos} from now. */
  void openTimeout(TimeoutScope scope, long timeoutNanos) {
    scope.task.timeouts = scope;
    timers.add(scope, Durations.saturatedAdd(ticker.read(), timeoutNanos));
  }

  /** Closes the task's innermost scope, {@code scope}: its timer, if still queued, goes too. */
  void closeTimeout(TimeoutScope scope) {
    timers.remove(scope);
    scope.task.timeouts = scope.outer;
  }

  /**
   * A timeout scope's deadline has come: its task throws at its suspension point. Woken as by
   * {@link #cancel}, but the task's cancel flag stays as it was.
   */
  private void expire(TimeoutScope scope) {
    scope.expired = true;
    Task<?> t = scope.task;
    boolean wake = timers.remove(t);
    Suspension s = t.waitingOn;
    if (s != null && s.cancel()) {
      wake = true;
    }
    if (wake) {
      makeReady(t);
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Wake-ups from other threads: a resume, a command for the inbox, an idle driver to unpark.
  // -----------------------------------------------------------------------------------------------

  /** A suspension was resumed, on any thread: its task becomes ready, once. */
  void resumed(Suspension s) {
    runOnLoop(() -> wakeFrom(s));
  }

  /**
   * Readies the suspension's task if it is still parked on it. The check makes a wake-up that
   * arrives late through the inbox harmless: by then the task may have been woken by its timeout or
   * a cancel, and be running, or waiting on something else.
   */
  private void wakeFrom(Suspension s) {
    Task<?> t = s.task;
    if (t.waitingOn == s && t.state() == Task.State.WAITING) {
      timers.remove(t);
      makeReady(t);
    }
  }

  /** The task calling, or null when the calling thread is not a running task of any loop. */
  static Task<?> currentTask() {
    return DrivenLoops.currentTask();
  }

  /**
   * The task calling {@code op}, which must be a task of a running loop.
   *
   * @throws IllegalStateException if the caller is not a task of a running loop
   */
  static Task<?> requireCurrentTask(String op) {
    Task<?> t = currentTask();
    if (t == null) {
      throw new IllegalStateException(op + "() must be called from a task of a running loop; "
          + "current thread: " + Thread.currentThread());
    }
    return t;
  }

  /** Whether the calling thread is a task of this loop (and so holds its baton). */
  boolean isOnLoop() {
    Task<?> calling = currentTask();
    return calling != null && calling.loop == this;
  }

  /**
   * Runs {@code command} now if the caller is a task of this loop (it holds the baton), else sends
   * it to the inbox, to run at the start of the next pass. Any thread.
   */
  void runOnLoop(Runnable command) {
    if (isOnLoop()) {
      command.run();
    } else {
      submit(command);
    }
  }

  /**
   * Like {@link #runOnLoop}, for new work: refused with an {@link IllegalStateException} saying
   * {@code refusal} once the loop is shut down. Any thread.
   */
  void runOnLoopIfOpen(String refusal, Runnable command) {
    if (isOnLoop()) {
      shutdownControl.checkOpen(refusal);
      command.run();
    } else {
      shutdownControl.submit(refusal, command);
    }
  }

  /**
   * Runs {@code command} on the loop at the start of its next pass; wakes it if idle. Any thread.
   */
  void submit(Runnable command) {
    inbox.add(command);
    wake();
  }

  private void wake() {
    Thread t = idleThread;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Adding work. Any thread.
  // -----------------------------------------------------------------------------------------------

  /**
   * Adds a task that runs {@code body}; it first runs at the loop's next pass. May be called from
   * any thread.
   *
   * @return the task, to join, cancel or inspect
   * @throws NullPointerException if {@code body} is null
   */
  public Task<Void> addTask(TaskBody body) {
    return spawn(null, requireBody(body), START_NOW);
  }

  /**
   * Like {@link #addTask(TaskBody)}, with a name used in logs, failures and deadlock reports.
   *
   * @throws NullPointerException if {@code name} or {@code body} is null
   */
  public Task<Void> addTask(String name, TaskBody body) {
    return spawn(requireName(name), requireBody(body), START_NOW);
  }

  /**
   * Adds a task that computes a value, which {@link Task#join()} returns. May be called from any
   * thread.
   *
   * @throws NullPointerException if {@code body} is null
   */
  public <T> Task<T> addTask(Callable<T> body) {
    return spawn(null, requireBody(body), START_NOW);
  }

  /**
   * Like {@link #addTask(Callable)}, with a name used in logs, failures and deadlock reports.
   *
   * @throws NullPointerException if {@code name} or {@code body} is null
   */
  public <T> Task<T> addTask(String name, Callable<T> body) {
    return spawn(requireName(name), requireBody(body), START_NOW);
  }

  /**
   * Adds a task that starts once, after {@code delay}. The start time is fixed now, when this is
   * called, not when the loop gets to it. A zero delay starts it at the next pass's timer phase.
   * May be called from any thread.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code delay} is negative or overflows a long of
   *     nanoseconds
   */
  public Task<Void> runLater(Duration delay, TaskBody body) {
    return runLater0(null, delay, body);
  }

  /** Like {@link #runLater(Duration, TaskBody)}, with a name. */
  public Task<Void> runLater(String name, Duration delay, TaskBody body) {
    return runLater0(requireName(name), delay, body);
  }

  private Task<Void> runLater0(String name, Duration delay, TaskBody body) {
    long nanos = Durations.nonNegativeNanos(delay, "delay");
    return spawn(name, requireBody(body), Durations.saturatedAdd(ticker.read(), nanos));
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
    return schedule0(null, Rate.every(interval), body, /* later= */ false);
  }

  /**
   * Runs {@code body} at a fixed {@code rate}, starting at the next pass: with
   * {@code import static dev.tasko.Rate.hz}, {@code loop.schedule(hz(100), body)} runs it 100 times
   * a second. Otherwise like {@link #schedule(Duration, TaskBody)}.
   *
   * @throws NullPointerException if an argument is null
   */
  public ScheduledTask schedule(Rate rate, TaskBody body) {
    return schedule0(null, requireRate(rate), body, /* later= */ false);
  }

  /** Like {@link #schedule(Duration, TaskBody)}, with a name. */
  public ScheduledTask schedule(String name, Duration interval, TaskBody body) {
    return schedule0(requireName(name), Rate.every(interval), body, /* later= */ false);
  }

  /** Like {@link #schedule(Rate, TaskBody)}, with a name. */
  public ScheduledTask schedule(String name, Rate rate, TaskBody body) {
    return schedule0(requireName(name), requireRate(rate), body, /* later= */ false);
  }

  /**
   * Like {@link #schedule(Duration, TaskBody)}, but the first run comes one interval after this
   * call instead of at once.
   */
  public ScheduledTask scheduleLater(Duration interval, TaskBody body) {
    return schedule0(null, Rate.every(interval), body, /* later= */ true);
  }

  /**
   * Like {@link #schedule(Rate, TaskBody)}, but the first run comes one interval after this call.
   */
  public ScheduledTask scheduleLater(Rate rate, TaskBody body) {
    return schedule0(null, requireRate(rate), body, /* later= */ true);
  }

  /** Like {@link #scheduleLater(Duration, TaskBody)}, with a name. */
  public ScheduledTask scheduleLater(String name, Duration interval, TaskBody body) {
    return schedule0(requireName(name), Rate.every(interval), body, /* later= */ true);
  }

  /** Like {@link #scheduleLater(Rate, TaskBody)}, with a name. */
  public ScheduledTask scheduleLater(String name, Rate rate, TaskBody body) {
    return schedule0(requireName(name), requireRate(rate), body, /* later= */ true);
  }

  private ScheduledTask schedule0(String name, Rate rate, TaskBody body, boolean later) {
    Objects.requireNonNull(body, "body == null");
    String n = name != null ? name : "schedule-" + scheduleNames.incrementAndGet();
    ScheduledTask s = new ScheduledTask(this, n, rate, body);
    long first = later
        ? Durations.saturatedAdd(ticker.read(), rate.intervalNanos())
        : ScheduledTask.AT_FIRST_TURN;
    if (!isOnLoop()) {
      s.markStarting(); // scheduled from the moment this returns, though it is still in the inbox
    }
    addOnLoop("it starts no new schedule", () -> s.startOnLoop(first));
    return s;
  }

  /**
   * Like {@link #runOnLoopIfOpen}, for a new task or schedule: one sent through the inbox counts
   * in {@link #taskCount()} from the moment this returns, though the loop takes it in only at its
   * next pass.
   */
  private void addOnLoop(String refusal, Runnable add) {
    if (isOnLoop()) {
      runOnLoopIfOpen(refusal, add);
      return;
    }
    inboxTasks.incrementAndGet();
    try {
      runOnLoopIfOpen(refusal, () -> {
        try {
          add.run();
        } finally {
          inboxTasks.decrementAndGet();
        }
      });
    } catch (RuntimeException e) {
      inboxTasks.decrementAndGet(); // refused: it never reached the inbox
      throw e;
    }
  }

  private <T> Task<T> spawn(String name, Object body, long startAt) {
    Task<T> t = newTask(name != null ? name : "task-" + taskNames.incrementAndGet(), body);
    addOnLoop("it takes no new task", () -> enqueue(t, startAt));
    return t;
  }

  /** A task of this loop running {@code body}, a {@link TaskBody} or a {@link Callable}. */
  <T> Task<T> newTask(String name, Object body) {
    return new Task<>(this, name, body);
  }

  /**
   * Makes a new task live: ready at once ({@link #START_NOW}), or on a timer until {@code startAt}.
   */
  void enqueue(Task<?> t, long startAt) {
    live.add(t);
    if (startAt == START_NOW) {
      ready.add(t);
    } else {
      timers.add(t, startAt);
    }
    if (trace) {
      LOG.log(Level.DEBUG, "{0}: added task ''{1}''", name, t.name());
    }
  }

  private static Object requireBody(Object body) {
    return Objects.requireNonNull(body, "body == null");
  }

  private static String requireName(String name) {
    return Objects.requireNonNull(name, "name == null");
  }

  private static Rate requireRate(Rate rate) {
    return Objects.requireNonNull(rate, "rate == null");
  }

  Thread newThread(String taskName, Runnable body) {
    // the task's own name: no copy per task
    return Thread.ofVirtual().name(taskName).unstarted(body);
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
    return live.size() + inboxTasks.get();
  }

  /**
   * The tasks that have not finished yet (including schedules' tasks), oldest first: for reports
   * and for tests that check what a program left running. A copy; it does not change as the loop
   * runs.
   *
   * <p>Call it from a task of this loop, or from any thread while no thread drives the loop (for
   * example from a test between two {@link #step()} calls): the list is the driving thread's to
   * change, so reading it while another thread runs the loop could see it half-changed.
   *
   * @throws IllegalStateException if another thread is inside {@link #run()} or {@link #step()}
   */
  public List<Task<?>> tasks() {
    if (!isOnLoop() && driver.get() != null) {
      throw new IllegalStateException("tasks(): loop '" + name + "' is being driven by "
          + driver.get() + "; call it from one of its tasks or while it is not running");
    }
    List<Task<?>> tasks = new ArrayList<>(live.size());
    for (Task<?> t = live.oldest(); t != null; t = t.nextLive) {
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
    if (isOnLoop() || driver.get() == null) {
      return LoopDump.take(this, live.oldest(), resources);
    }
    CompletableFuture<LoopDump> answer = new CompletableFuture<>();
    Runnable command = () -> answer.complete(LoopDump.take(this, live.oldest(), resources));
    submit(command);
    long deadline = System.nanoTime() + DUMP_WAIT_MILLIS * 1_000_000L;
    boolean interrupted = false;
    try {
      for (;;) {
        try {
          return answer.get(10, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          if (driver.get() == null && inbox.remove(command)) {
            return LoopDump.take(this, live.oldest(), resources); // run() returned meanwhile
          }
          if (System.nanoTime() - deadline >= 0) {
            return LoopDump.unanswered(this, current);
          }
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          throw new IllegalStateException("dump of loop '" + name + "' failed", e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The loop time of the current pass, to within a pass: read without a clock read. */
  long passTime() {
    return passNow;
  }

  /** The timeline this loop records into, or null. */
  Timeline timeline() {
    return timeline;
  }

  /** Starts the timer of a lease whose resource has a hold limit. On the loop. */
  void startHoldTimer(Lease<?> lease, long deadline) {
    timers.add(lease, deadline);
  }

  /** Stops a lease's hold-limit timer, if it has one. On the loop. */
  void stopHoldTimer(Lease<?> lease) {
    timers.remove(lease);
  }

  /** Notes a resource one of this loop's tasks has begun to use, for {@link #dump()}. */
  void resourceUsed(ManagedResource<?, ?> r) {
    resources.add(r);
  }

  /**
   * Counters of the loop's work so far. May be called from any thread. Each counter is a value it
   * really had, never a half-written one; read from outside the loop while it runs, they are
   * approximate: each may be a moment old, and they are not all read at the same moment.
   *
   * @return passes run, task switches, and the time the driving thread spent idle
   */
  public Stats stats() {
    return new Stats((long) PASSES.getOpaque(this), (long) SWITCHES.getOpaque(this),
        Duration.ofNanos((long) IDLE_NANOS.getOpaque(this)));
  }

  /**
   * Counters of a loop's work.
   *
   * @param passes passes begun
   * @param switches hand-offs of the processor from one task (or the driver) to another
   * @param idleTime real time the driving thread spent waiting for a deadline or a wake-up (zero
   *     on virtual time, which never waits for a deadline)
   */
  public record Stats(long passes, long switches, Duration idleTime) {
    /** The counts and the idle time for people to read: {@code "Stats[..., idleTime=1.23 s]"}. */
    @Override
    public String toString() {
      return "Stats[passes=" + passes + ", switches=" + switches + ", idleTime="
          + DurationText.approximate(idleTime) + "]";
    }
  }

  /** The ready queue itself, for tests. */
  Object readyQueue() {
    return ready;
  }

  @Override
  public String toString() {
    return "Loop[" + name + ", tasks=" + live.size() + "]";
  }

  /**
   * Builds a {@link Loop}. Not thread-safe; each {@link #build()} makes an independent loop.
   */
  public static final class Builder {
    /** Null until set: build() then numbers the loop. */
    private String name;
    private Ticker ticker;
    private boolean virtualTime;
    private IdleStrategy idleStrategy = IdleStrategy.lowPower();
    private FailureHandler failureHandler = FailureHandler.stopLoop();
    private long stallNanos = DEFAULT_STALL_NANOS;
    private Timeline timeline;

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
     */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name == null");
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
     * @throws NullPointerException if {@code threshold} is null
     * @throws IllegalArgumentException if {@code threshold} is zero or negative
     * @see #noStallWarning()
     */
    public Builder stallWarning(Duration threshold) {
      Objects.requireNonNull(threshold, "threshold == null");
      if (threshold.isZero() || threshold.isNegative()) {
        throw new IllegalArgumentException("threshold <= 0: " + threshold
            + " (noStallWarning() turns stall warnings off)");
      }
      this.stallNanos = Durations.positiveNanos(threshold, "threshold");
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
      return new Loop(this);
    }
  }
}
