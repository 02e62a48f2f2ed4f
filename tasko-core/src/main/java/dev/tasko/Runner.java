package dev.tasko;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The engine behind a {@link Loop}: its state, the event loop itself and the hand-off of the
 * processor between tasks. {@code Loop} is the public face (adding work, running, inspecting);
 * the suspension points that park a task are in {@link Traps}.
 *
 * <p>Read in the order it runs: {@link #run()} or {@link #step()} on the driving thread, the
 * driver's turn, a pass ({@link #beginPass()}, {@link #next()}), spinning or skipping to a near
 * timer, idling; then the hand-off between tasks ({@link #handTo}, {@link #park}), a task's end,
 * and work from other threads (through the {@link Inbox}). Its counters are in {@link Counters}.
 */
final class Runner {
  private static final System.Logger LOG = Loop.LOG;
  /** For {@link #enqueue}: ready at once rather than on a timer (no ticker reads this value). */
  static final long START_NOW = Long.MIN_VALUE;
  /**
   * How long a task woken early spins for its turn before it parks again (see {@link
   * #wakeAfterNext}): several times a switch, so long enough for the turn before it to pass when
   * tasks only yield or do a little work; short, since a carrier it spins on runs nothing else.
   */
  private static final long SPIN_AHEAD_NANOS = 5_000;
  /**
   * Chances to wake ahead (hand-offs within a pass with a task after the next) let pass after a
   * task woken early gave up spinning: its turn came later
   * than the spin, because the turns are long or the carriers busy with other work (another loop's
   * tasks, say), and spinning then takes a carrier from threads that need it.
   */
  private static final int WAKE_AHEAD_PAUSE = 256;
  /**
   * Hand-offs between two looks at whether the loop switches fast enough to have the other
   * carrier held (see {@link #countHandOff}).
   */
  private static final int HOLD_CHECK_EVERY = 128;
  /**
   * The longest mean time from one hand-off to the next for which the other carrier is held: a
   * turn this short is about as long as a switch that moves to the other carrier, which keeps
   * both cores busy anyway (BENCHMARKS.md, run AJ). Longer turns leave the other carrier idle
   * most of the time, and holding it would spend a core for little.
   */
  static final long HOLD_TURN_NANOS = 2_000;
  /** {@link #switchAway}, which {@link #park} calls through {@link #switchAwayCall}. */
  private static final MethodHandle SWITCH_AWAY;
  /** {@link #awaitTurn}, which {@link #park} calls through {@link #awaitTurnCall}. */
  private static final MethodHandle AWAIT_TURN;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      SWITCH_AWAY = lookup.findVirtual(Runner.class, "switchAway",
          MethodType.methodType(Thread.class, Task.class));
      AWAIT_TURN = lookup.findVirtual(Runner.class, "awaitTurn",
          MethodType.methodType(Thread.class, Task.class));
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * The handle {@link #park} calls {@link #switchAway} through, read from a field of this runner:
   * the JIT inlines a call through a handle only when the handle is a constant, and this one is
   * not. So the hand-off stays out of the compiled frame that every sleeping task keeps. That
   * frame is smaller for it, and, above all, it holds no copy of the hand-off code compiled with a
   * profile from the past. Code compiled during a first pass has only seen tasks start, and the
   * waking side of its branches is a trap there. A task that loops (sleep, work, sleep) re-enters
   * the hand-off from that frame after it wakes: with the code inlined, each such task was
   * deoptimized once, and then ran its loop interpreted. Through the handle it calls the current
   * compiled code instead. Measured with 100,000 looping sleepers: 12 s instead of 16 s for
   * four million wake-ups. The call through the handle costs nothing measurable in a switch; a
   * million one-shot sleepers may take about a tenth longer (BENCHMARKS.md, run K).
   */
  private final MethodHandle switchAwayCall = SWITCH_AWAY;
  /**
   * The handle {@link #park} calls {@link #awaitTurn} through once woken, for the same reason: the
   * tests of the turn after a wake-up run in the current compiled code, not in the frame a
   * sleeping task keeps, compiled with the profile of its day. A rare outcome there (a spurious
   * wake-up, a turn taken back by a failed hand-off) would be a trap in every task that met it.
   */
  private final MethodHandle awaitTurnCall = AWAIT_TURN;

  /** The public face this engine runs for: tasks and failure handlers are given it. */
  final Loop loop;
  private final String name;
  /** The loop's clock; traps read it to set deadlines. */
  final Ticker ticker;
  /** The ticker to move when idle, when the loop runs on virtual time; otherwise null. */
  private final ManualTicker virtualClock;
  /** True when time moves only by hand: idle waits for a wake-up, not for a deadline. */
  private final boolean manualTime;
  /** The ticker when it is a ManualTicker, whose advance() wakes this loop while it idles. */
  private final ManualTicker manualTicker;
  private final Runnable wakeHook = this::wake;
  /** What the idle strategy polls while it spins; made once, not on every idle. */
  private final BooleanSupplier wakeUpCheck = this::hasWork;
  private final IdleStrategy idleStrategy;
  private final FailureHandler failureHandler;
  private final boolean trace;
  /** Warns about a task that holds the processor too long; null when stall warnings are off. */
  final StallWatchdog watchdog;
  /** Records what ran when; null unless the builder was given one (see Builder.timeline). */
  private final Timeline timeline;
  /**
   * Whether a holder wakes the task after the next one early (see {@link #next}): only when
   * virtual threads have two carriers or more. On one, the task woken early would spin on the
   * carrier the task whose turn it is waits for.
   */
  private final boolean wakeAhead = carriers() >= 2;
  /** {@link #HOLD_TURN_NANOS}, unless a test set another limit before this loop was made. */
  private final long holdTurnNanos = holdTurnNanosForTests;
  /**
   * Whether this loop asks for the other carrier to be held while it switches fast (see
   * {@link CarrierHold}): only with exactly two carriers.
   */
  private final boolean holdCarrier = carriers() == 2 && holdTurnNanos > 0;
  /**
   * Set by tests, read when a loop is made: 0 never holds (the early wake-up then runs with two
   * carriers too); a long time holds whatever the machine's speed.
   */
  static volatile long holdTurnNanosForTests = HOLD_TURN_NANOS;
  /**
   * Set by a task woken early that gave up spinning (see {@link #spinForTurn}), read and cleared
   * by the holder, which then pauses waking ahead (see {@link #WAKE_AHEAD_PAUSE}).
   */
  private volatile boolean spinGivenUp;

  // ---- Guarded by the baton: read and written only by the thread that holds the processor (the
  // running task, or the driving thread between tasks). Hand-offs go through volatile fields, so
  // each holder sees what the previous one wrote. ----
  ArrayDeque<Task<?>> ready = new ArrayDeque<>();
  /** The most tasks a pass has begun with since the ready queue was last made anew. */
  private int readyPeak;
  final Timers timers = new Timers();
  /**
   * How many of the timers are leases' hold limits, which report and wake no task: a loop whose
   * only timers they are is as stuck as one with none (see idle). On the baton.
   */
  private int holdTimers;
  /** How many tasks at the head of {@code ready} still belong to the current pass. */
  private int passRemaining;
  /** Chances left to let pass before the holder wakes ahead again (see WAKE_AHEAD_PAUSE). */
  private int wakeAheadPause;
  /** Hand-offs since the last look at the switch rate (see countHandOff). */
  private int handOffs;
  /** When that look was (System.nanoTime), or 0 after the driver got the baton back. */
  private long handOffsSince;
  /** Whether the other carrier is held for this loop (see countHandOff). */
  private boolean holding;
  /**
   * A task whose hand-off threw and was taken back (see {@link #handTo}): put back first in the
   * ready queue by the caller, from a frame nearer the stack's base (park), or else by the next
   * pass. Almost always null.
   */
  private Task<?> handOffFailed;
  /** Whether the current pass has moved on to due timers, and the time it compares them with. */
  private boolean inTimerPhase;
  long passNow;
  /** Timers set from this sequence number on were set during the current timer phase. */
  private long timerPhaseSeq;
  /**
   * Set when {@link #next()} returns null because a pass it opened found nothing to run: run(),
   * handed the baton, then idles at once rather than open the same empty pass again (idle() looks
   * at the inbox and the clock itself). Taken back if the hand-back fails, so that it is only ever
   * true while the baton goes back to the driver.
   */
  private boolean nothingDue;
  /** Set while step() runs: the baton returns to the driver at the end of the pass. */
  private boolean stepping;
  /** What a failure handler threw: the driver rethrows it as soon as it gets the baton back. */
  private Throwable pendingFailure;
  /**
   * Tasks running the failure handler whose cancellation or cancelled scopes came before it: held
   * back from the handler's suspension points until a new cancel (see reportFailure). Almost
   * always null.
   */
  private ArrayDeque<Shield> shielded;
  /** Tasks awaiting a suspension that a thread outside the loop may resume. */
  int externalWaiters;
  /**
   * Blocking work of this loop's tasks waiting in a join of one of its tasks: another thread's
   * wait, yet one that only this loop can end. Added to and removed by the work's thread.
   */
  final Set<BlockingWork<?>> joiningWorks = ConcurrentHashMap.newKeySet();
  /** Tasko.blocking calls in flight: while any is, virtual time does not jump. */
  int blockingWork;
  /**
   * The tasks of other loops this idle loop waits for, published while every wait of its tasks
   * that another thread could end is a join of one of them (empty: deadlocked in itself); null
   * while it has published nothing. Written by the driver under {@link CrossLoopDeadlocks}' lock,
   * and read under it by other loops; the driver reads its own writes without it.
   */
  Task<?>[] stuckOn;
  /** Set by the driver when its run() throws a DeadlockException; cleared when it is run again. */
  private boolean reportedDeadlock;
  /** Tasks not yet finished, oldest first: for run()'s end and for deadlock reports. */
  final LiveTasks live = new LiveTasks();
  /**
   * The managed resources this loop's tasks have used, for {@link Loop#dump()}; weakly, so that a
   * resource the program drops is not kept for the loop's sake.
   */
  final Set<ManagedResource<?, ?>> resources =
      Collections.newSetFromMap(new WeakHashMap<>());
  private Thread driverThread;
  /**
   * The task holding the baton; null while the driver holds it. Written before each hand-off, so
   * the task handed the baton reads itself here (see DrivenLoops.currentTask()); other threads may
   * read a stale value, which never names a task running on their own thread. While the holder
   * runs a callback schedule's turn (runInline), the callback's task, then the holder again.
   */
  Task<?> current;
  /** For stats(): passes, switches, idle time. */
  final Counters counters = new Counters();

  // ---- Shared with any thread. ----
  /** Commands from outside the loop (new tasks, resumes, cancels), run at the start of a pass. */
  private final Inbox inbox = new Inbox();
  /** The thread inside run() or step(), if any. */
  private final AtomicReference<Thread> driver = new AtomicReference<>();
  /**
   * Set by {@link #lookAgain()}: the idle driver looks again whether anything can still run before
   * it parks. Cleared by the driver as it begins to look, in idle().
   */
  private volatile boolean deadlockCheckDue;
  /**
   * When run() or step() was first entered (System.nanoTime), or 0: where the first summary of the
   * loop's work for Java Flight Recorder begins (see FlightEvents). Read by JFR's thread.
   */
  volatile long firstDrivenAt;
  /**
   * Time (System.nanoTime) spent with no thread driving the loop since it was first driven, up to
   * its last entry: idle, for the summaries (see FlightEvents). Written by the driver, read by
   * JFR's thread.
   */
  private volatile long undrivenNanos;
  /** When the driver last left run() or step(); published to the next by the driver's place. */
  private long leftAt;
  /** Entries into run() or step(): a thread joining from outside tells a step-driven loop by it. */
  private volatile int drives;
  private volatile boolean driverTurn;
  /**
   * Set by the driver while it waits for the baton in a timed park that ends by
   * {@code driverWakeAt}: a task that hands the baton back needs no unpark then, if the driver
   * would idle until then anyway (see {@link #handBack}). Written, then driverTurn read, by the
   * driver; driverTurn written, then this read, by the task: one of the two sees the other.
   */
  private volatile boolean driverWakesItself;
  /** When the driver's timed park ends; read after driverWakesItself, written before it. */
  private long driverWakeAt;
  /** Set by a hand-back that left the driver asleep (its idle period began then: see Counters). */
  private boolean quietHandBack;
  private volatile boolean stopRequested;
  /** The driving thread was interrupted while tasks ran: end the pass as stop() would. */
  private volatile boolean interruptRequested;

  Runner(Loop loop, String name, Loop.Builder b) {
    this.loop = loop;
    this.name = name;
    this.idleStrategy = b.idleStrategy;
    this.failureHandler = b.failureHandler;
    this.ticker = b.chosenTicker();
    this.virtualClock = b.virtualTime ? (ManualTicker) ticker : null;
    this.manualTime = ticker instanceof ManualTicker;
    this.manualTicker = ticker instanceof ManualTicker m ? m : null;
    this.trace = LOG.isLoggable(Level.DEBUG);
    this.watchdog = b.stallNanos == 0 ? null : new StallWatchdog(name, b.stallNanos);
    this.timeline = b.timeline;
  }

  // -----------------------------------------------------------------------------------------------
  // The event loop, in the order it runs: run() or step() on the driving thread, the driver's
  // turn, a pass (beginPass, next), spinning or skipping to a near timer, idling. Then the
  // hand-off between tasks (handTo, park), a task's end, and wake-ups from other threads.
  // -----------------------------------------------------------------------------------------------

  /** See {@link Loop#run()}. */
  void run() {
    enter("run");
    boolean interrupted = false;
    try {
      // This 'for' is the event loop. Each turn opens a pass: if anything is ready or due, the
      // baton goes to the first task, and the tasks hand it on among themselves, pass after pass,
      // until nothing is left to do right now; then the baton comes back here and this thread idles
      // until the next deadline or wake-up. A pass that has just found nothing to do is not opened
      // again before idling (see nothingDue): idle() looks at the inbox and the clock itself.
      for (;;) {
        boolean idleNow = nothingDue;
        nothingDue = false;
        if (!idleNow && beginPass()) {
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

  /** See {@link Loop#step()}. */
  boolean step() {
    enter("step");
    stepping = true;
    boolean interrupted = false;
    try {
      if (beginPass()) {
        interrupted = runPass();
      }
      return hasWorkLeft();
    } finally {
      stepping = false;
      interruptRequested = false;
      leave(interrupted);
    }
  }

  /** See {@link Loop#stop()}. */
  void stop() {
    stopRequested = true;
    wake();
  }

  /**
   * Whether a thread drives the loop now, or has entered {@code run()} or {@code step()} since
   * {@link #drives()} returned {@code mark}. Any thread.
   */
  boolean drivenSince(int mark) {
    return driver.get() != null || drives != mark;
  }

  /**
   * A task of this loop joining a task of another loop, from when the join began: see
   * {@link #joinBegan}. Guarded by this loop's baton.
   */
  static final class CrossLoopJoin {
    final Task<?> joiner;
    final Task<?> target;
    /** The other loop's count of drives when the join began. */
    final int drives;
    /** When a warning is due (System.nanoTime) if that loop has not been run by then. */
    final long warnAt;
    boolean warned;

    CrossLoopJoin(Task<?> joiner, Task<?> target) {
      this.joiner = joiner;
      this.target = target;
      this.drives = target.loop.runner.drives();
      this.warnAt = System.nanoTime() + Task.outsideJoinWarningNanos;
    }
  }

  /** Joins of tasks of other loops that this loop's tasks wait in; null until the first. */
  private ArrayList<CrossLoopJoin> crossLoopJoins;

  /** Notes that {@code joiner}, a task of this loop, waits for {@code target}, of another. */
  CrossLoopJoin joinBegan(Task<?> joiner, Task<?> target) {
    if (crossLoopJoins == null) {
      crossLoopJoins = new ArrayList<>(2);
    }
    CrossLoopJoin j = new CrossLoopJoin(joiner, target);
    crossLoopJoins.add(j);
    return j;
  }

  /** Undoes {@link #joinBegan}. */
  void joinEnded(CrossLoopJoin j) {
    crossLoopJoins.remove(j);
  }

  /**
   * When the idle driver must look at the cross-loop joins again (System.nanoTime), or 0 if none
   * is still to be warned about.
   */
  private long nextJoinCheck() {
    long at = 0;
    if (crossLoopJoins != null) {
      for (CrossLoopJoin j : crossLoopJoins) {
        if (!j.warned && (at == 0 || j.warnAt - at < 0)) {
          at = j.warnAt;
        }
      }
    }
    return at;
  }

  /**
   * Warns, once each, about the joins of tasks of other loops that have waited long enough while
   * no thread ran that loop: nothing but a thread running it will end them.
   */
  private void checkJoins(long now) {
    for (CrossLoopJoin j : crossLoopJoins) {
      if (!j.warned && now - j.warnAt >= 0 && !j.target.isDone()) {
        j.warned = true;
        Runner other = j.target.loop.runner;
        if (!other.drivenSince(j.drives)) {
          LOG.log(Level.WARNING, "loop ''{0}'': task ''{1}'' has waited {2} in join() of task "
              + "''{3}'' of loop ''{4}'', which has not ended, and no thread runs that loop. "
              + "Run it on another thread (before this loop''s run() returns, it cannot run it "
              + "after).",
              name, j.joiner.name(), DurationText.approximate(
                  Duration.ofNanos(Task.outsideJoinWarningNanos)), j.target.name(),
              j.target.loop.name());
        }
      }
    }
  }

  /** How many times {@code run()} or {@code step()} has been entered. Any thread. */
  int drives() {
    return drives;
  }

  private void enter(String op) {
    Task<?> calling = DrivenLoops.currentTask();
    if (calling != null) {
      throw new IllegalStateException(op + "() called from task '" + calling.name() + "' of loop '"
          + calling.loop.name() + "': a task must never drive a loop");
    }
    Task<?> working = op.equals("run") ? BlockingWork.taskOfCaller() : null;
    if (working != null && working.loop == loop) {
      // Its task waits for this work to end, so run() would wait for ever: refused, changing
      // nothing (step() never waits, and may run the other tasks from here).
      throw new IllegalStateException("run() called from the blocking work of task '"
          + working.name() + "' of loop '" + name + "': it would wait for that task, which waits "
          + "for this work to end; return from the work, and run the loop from another thread");
    }
    Thread me = Thread.currentThread();
    Thread other = driver.compareAndExchange(null, me);
    if (other != null) { // the thread that was driving it then, never null (as a second read was)
      throw new IllegalStateException(op + "(): loop '" + name + "' is already driven by "
          + other);
    }
    driverThread = me;
    drives++; // only the thread that won the driver's place writes it
    reportedDeadlock = false;
    nothingDue = false;
    passNow = ticker.read(); // waits begun before the first timer phase date from here
    if (firstDrivenAt == 0) {
      firstDrivenAt = System.nanoTime(); // published by register() below
    } else {
      undrivenNanos += System.nanoTime() - leftAt; // only the driver writes it
    }
    DrivenLoops.register(this);
    Flight.loopDriven();
  }

  /** Time with no thread driving the loop, between its first entry and its last. Any thread. */
  long undrivenNanos() {
    return undrivenNanos;
  }

  /** Undoes {@link #enter}; restores the interrupt status the driver saw while tasks ran. */
  private void leave(boolean interrupted) {
    if (stuckOn != null && !reportedDeadlock) {
      // Stopped or interrupted while idle in joins of other loops' tasks: a loop no thread runs
      // reports nothing, and another thread may change it before it runs again.
      CrossLoopDeadlocks.retract(this);
    }
    DrivenLoops.unregister(this);
    leftAt = System.nanoTime(); // before the driver's place is given up: the next driver reads it
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
   *
   * <p>On the system clock, with a timer pending, the driver waits in a timed park that ends when
   * it would have to wake from idling anyway (the earliest deadline, as the idle strategy places
   * its wake-up). A task that hands the baton back with nothing sooner to do then leaves it asleep:
   * the loop reaches its next deadline with two wake-ups (the driver's timer and the task's
   * carrier) instead of three. Anything that needs the driver sooner unparks it as before.
   *
   * <p>With no timer pending, when the task handed the baton is a schedule's (most often woken for
   * a run, which ends in a sleep until the next target), the driver sleeps until that schedule's
   * next target, less the spin window: a lone schedule's timer is out of the queue while its task
   * runs. Whatever happens meanwhile, the hand-back's own check decides whether the driver may stay
   * asleep; a wrong guess costs at most one wake-up.
   */
  private boolean runUntilDriverTurn(Task<?> first) {
    boolean clock = !manualTime && timeline == null && !stepping;
    boolean timed = clock && !timers.isEmpty();
    long wakeAt = 0;
    if (timed) {
      // Timers due in this pass are still queued; the driver sleeps until the first one after.
      long after = timers.earliestAfter(passNow, 64);
      timed = after != passNow;
      wakeAt = timers.earliestDeadline() > passNow ? parkTarget()
          : after - idleStrategy.spinNanos();
    } else if (clock && first != null) {
      ScheduledTask s = first.schedule();
      long next = s == null ? ScheduledTask.NO_TARGET : s.followingTarget();
      timed = next != ScheduledTask.NO_TARGET;
      wakeAt = next - idleStrategy.spinNanos();
    }
    LockSupport.unpark(handTo(first)); // null: no one to wake
    boolean interrupted = false;
    while (!driverTurn) {
      long wait = 0;
      if (timed) {
        wait = wakeAt - ticker.read();
        timed = wait > 0;
      }
      if (timed) {
        driverWakeAt = wakeAt;
        driverWakesItself = true;
        if (!driverTurn) {
          LockSupport.parkNanos(this, watchdog == null ? wait
              : Math.min(wait, watchdog.stallNanos / 4));
        }
        driverWakesItself = false;
      } else if (watchdog == null) {
        LockSupport.park(this);
      } else {
        LockSupport.parkNanos(this, watchdog.stallNanos / 4); // see Builder.stallWarning
      }
      if (watchdog != null) {
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
    inbox.sleeper(null); // set by a quiet hand-back
    if (quietHandBack) {
      quietHandBack = false;
      nothingDue = false; // it said so before the driver slept until its next deadline
      counters.idleEnded();
      passNow = ticker.read(); // as after idle(): the next pass may run ready tasks without it
    }
    return interrupted;
  }

  /**
   * Where the idle strategy would end a park that waits for the earliest timer: the deadline, a
   * later one within the strategy's slack, less its spin window. On the baton; a timer pending.
   */
  private long parkTarget() {
    long slack = idleStrategy.slackNanos();
    long deadline = slack == 0 ? timers.earliestDeadline() : timers.latestWithin(slack, 64);
    return deadline - idleStrategy.spinNanos();
  }

  /**
   * Opens a pass: runs the commands other threads sent and takes in the tasks they added, in the
   * order sent, and fixes the batch of tasks this pass runs. Returns whether the pass has anything
   * to run.
   */
  private boolean beginPass() {
    if (stuckOn != null) {
      CrossLoopDeadlocks.retract(this); // before anything runs: see CrossLoopDeadlocks
    }
    requeueHandOffFailed();
    Object entry;
    while ((entry = inbox.poll()) != null) {
      if (entry instanceof Task<?> t) {
        try {
          enqueue(t, START_NOW);
        } finally {
          loop.inboxTaskTakenIn();
        }
      } else {
        ((Runnable) entry).run();
      }
    }
    long pass = counters.passBegun();
    passRemaining = ready.size();
    if (passRemaining > readyPeak) {
      readyPeak = passRemaining;
    }
    if (trace) {
      LOG.log(Level.DEBUG, "{0}: pass {1}: {2} ready, {3} sleeping, {4} tasks", name, pass,
          passRemaining, timers.size(), live.size());
    }
    if (passRemaining > 0) {
      inTimerPhase = false;
      return true;
    }
    shrinkReadyQueue(); // nothing is ready: a good time to give back what a burst took
    inTimerPhase = true;
    passNow = ticker.read();
    timerPhaseSeq = timers.nextSeq();
    return !timers.isEmpty() && timers.earliestDeadline() <= passNow;
  }

  /**
   * Picks who holds the processor next: a task, or null for the driving thread. Called by the baton
   * holder whenever it stops running (it suspends or ends). This is where passes happen.
   */
  private Task<?> next() {
    for (;;) {
      if (pendingFailure != null) {
        driverTakesOver();
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
        if (t.runsInline) {
          runInline(t);
          continue;
        }
        if (wakeAhead) {
          try {
            if (!countHandOff() && passRemaining > 0) {
              wakeAfterNext(ready.peek());
            }
          } catch (Throwable e) {
            // A stack overflow costs the guess only: t, out of the queue, must still be returned.
          }
        }
        return t;
      }
      // 2. Then the sleepers whose deadline has come, earliest first. The time is read once per
      //    pass, so a timer set while this phase runs cannot fire in it: one set for later than
      //    that time is not due, and one set with no delay on a clock that has not moved since
      //    (virtual time) is due at that very time, and held back by its sequence number.
      if (!inTimerPhase) {
        inTimerPhase = true;
        passNow = ticker.read();
        timerPhaseSeq = timers.nextSeq();
      }
      TimerEntry due = timers.pollDue(passNow, timerPhaseSeq);
      if (due instanceof Task<?> t) {
        if (t.runsInline) {
          runInline(t);
          continue;
        }
        if (holdCarrier) {
          try {
            countHandOff();
          } catch (Throwable e) {
            // A stack overflow costs a count only: t, out of the queue, must still be returned.
          }
        }
        return t;
      }
      if (due instanceof CancelScope scope) {
        Traps.cancelScope(scope); // may ready its task, for the next pass
        continue;
      }
      if (due != null) {
        Lease<?> lease = (Lease<?>) due; // held past its resource's hold limit
        holdTimers--;
        lease.handle.resource.holdLimitPassed(lease, passNow);
        continue;
      }
      // The pass is over. step() gets the baton back here; so does run() when asked to stop.
      if (stepping || stopRequested || interruptRequested) {
        driverTakesOver();
        return null;
      }
      // 3. run() opens the next pass right here, on whichever task holds the baton, so a busy loop
      //    never pays for a round trip through the driving thread. With nothing to do now, the
      //    baton goes back to the driver, which idles; on virtual time there is no waiting to do,
      //    so the clock jumps to the next deadline here too.
      if (!beginPass() && !skipToNextTimer() && !spinToNextTimer()) {
        nothingDue = true;
        driverTakesOver();
        return null;
      }
    }
  }

  /**
   * Counts a hand-off to a task; every {@link #HOLD_CHECK_EVERY} of them, asks for the other
   * carrier to be held if they came fast enough (see {@link CarrierHold}). Returns whether it is
   * held for this loop: then no task is woken early, as it would wait in the same carrier's queue
   * as the task whose turn it is. On the baton; with two carriers or more.
   */
  private boolean countHandOff() {
    if (!holdCarrier || ++handOffs < HOLD_CHECK_EVERY) {
      if (holding) {
        CarrierHold.JVM.resume(); // a spinner that parked to let other threads run goes on
      }
      return holding;
    }
    long now = System.nanoTime();
    boolean fast =
        handOffsSince != 0 && now - handOffsSince <= HOLD_CHECK_EVERY * holdTurnNanos;
    handOffs = 0;
    handOffsSince = now;
    holding = fast && CarrierHold.JVM.renew(this, now);
    return holding;
  }

  /** Whether the other carrier is held for this loop now. On the baton. */
  boolean holdsCarrier() {
    return holding;
  }

  /** The driving thread gets the baton back: the loop no longer switches from task to task. */
  private void driverTakesOver() {
    handOffs = 0;
    handOffsSince = 0;
    if (holding) {
      holding = false;
      CarrierHold.JVM.release(this, System.nanoTime());
    }
  }

  /**
   * The carrier threads the JDK gives virtual threads: the value of the standard property {@code
   * jdk.virtualThreadScheduler.parallelism} if set to a number, else the processors available.
   */
  static int carriers() {
    String set = System.getProperty("jdk.virtualThreadScheduler.parallelism");
    if (set != null) {
      try {
        return Integer.parseInt(set.trim());
      } catch (NumberFormatException e) {
        // the JDK rejects it too; count processors
      }
    }
    return Runtime.getRuntime().availableProcessors();
  }

  /**
   * Wakes {@code after}, whose turn comes after the one about to be handed on, so that its thread
   * is mounted on another carrier and spinning by the time its turn comes: that hand-off is then a
   * store the other carrier sees, with no trip through the JDK's scheduler, which would have
   * woken the idle carrier to take the task over. Only a guess (the task may be cancelled, or the
   * next one may run long): the task spins for a bounded time, then parks again (see awaitTurn).
   * Not for a task that runs inline, has no thread yet, or is the caller's own.
   */
  private void wakeAfterNext(Task<?> after) {
    if (wakeAheadPause > 0) {
      if (--wakeAheadPause == 0) {
        spinGivenUp = false; // spins given up during the pause, by tasks woken before it
      }
      return;
    }
    if (spinGivenUp) {
      spinGivenUp = false;
      wakeAheadPause = WAKE_AHEAD_PAUSE;
      counters.wakeAheadPauses++;
      return;
    }
    if (after.runsInline || after.thread == Thread.currentThread()) {
      return;
    }
    try {
      after.wakeEarly();
    } catch (Throwable e) {
      // A stack overflow here only costs the guess: wakeEarly() has set the turn back, so the
      // hand-off wakes the task when its turn comes.
    }
  }

  /**
   * Runs a turn of a callback schedule's task right here, on the thread that holds the baton (a
   * task's, or the driver's): no hand-off, no thread of its own, as an executor runs a timer's
   * task on the thread that waited for it. The turn puts the task back on a timer or in the ready
   * queue, or ends it (see ScheduledTask#runTurn). While it runs, the task is the one calling, so
   * its body finds itself (and is refused if it tries to suspend).
   *
   * <p>The thread is borrowed: an interrupt pending on it is taken off for the turn, so that it
   * does not make the callback's interruptible calls fail, and put back after, together with any
   * that came during the turn (aimed at the thread, they are the host's). An interrupt of the
   * driver seen here ends the pass, as one seen while it waits for the baton does.
   */
  private void runInline(Task<?> t) {
    Task<?> holder = current;
    boolean hostInterrupted = Thread.interrupted();
    current = t;
    t.thread = Thread.currentThread();
    try {
      if (watchdog != null) {
        watchdog.turnTo(t);
      }
      if (timeline != null) {
        timeline.turnBegan(t, ticker.read());
      }
      t.schedule().runTurn(t);
      if (timeline != null) {
        timeline.turnEnded(t, ticker.read());
      }
    } finally {
      t.thread = null;
      current = holder;
      if (watchdog != null) {
        watchdog.turnTo(holder);
      }
      if (Thread.interrupted() || hostInterrupted) {
        if (holder == null) {
          interruptRequested = true; // the driver: end the pass, then run() sees the flag
        }
        Thread.currentThread().interrupt();
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
    // A task would otherwise hand the baton back to the driver, a round trip that costs more than
    // a short spin; the driver itself (after running callback schedules) only saves a park.
    long limit = current == null ? idleStrategy.driverShortWaitNanos()
        : idleStrategy.shortWaitNanos();
    if (deadline - ticker.read() > limit) {
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
    if (virtualClock == null || timers.isEmpty() || !inbox.isEmpty() || blockingWorkHoldsTime()
        || (onlyHoldTimers() && externalWaiters == 0)) { // stuck: idle() reports it, jumps not
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
   * Whether blocking work in flight holds virtual time still: any does, but for work that waits in
   * a join of a task of this loop that has not ended, which only this loop's progress (perhaps its
   * clock's) can end. On the baton.
   */
  private boolean blockingWorkHoldsTime() {
    return blockingWork > 0 && stuckJoins() < blockingWork;
  }

  /**
   * With no task ready, no timer and the inbox empty: whether every wait another thread could end
   * is the blocking work of a task of this loop, waiting in a join of another task of this loop
   * that has not ended. Then nothing can ever run again (a task's work joins a task that waits for
   * the first, say), as when no other thread can wake a task at all.
   */
  private boolean onlyStuckJoinsWait() {
    return !joiningWorks.isEmpty() && stuckJoins() == externalWaiters;
  }

  /**
   * With no task ready, no timer and the inbox empty: the tasks of other loops that this loop's
   * tasks wait for in joins, if every wait another thread could end is such a join (the task's
   * own, or its blocking work's) or blocking work stuck in a join of a task of this loop, and
   * there is at least one; else null. Looked at only when some task of this loop joins a task of
   * another loop.
   */
  private Task<?>[] joinsOfOtherLoops() {
    if ((crossLoopJoins == null || crossLoopJoins.isEmpty()) && joiningWorks.isEmpty()) {
      return null;
    }
    int joins = 0;
    ArrayList<Task<?>> targets = new ArrayList<>(2);
    if (crossLoopJoins != null) {
      for (CrossLoopJoin j : crossLoopJoins) {
        Suspension s = j.joiner.waitingOn;
        if (s != null && s.blocker == j.target && !j.target.isDone()) {
          joins++;
          targets.add(j.target);
        }
      }
    }
    for (BlockingWork<?> w : joiningWorks) {
      Task<?> target = w.stuckJoinTarget();
      if (target != null) {
        joins++;
        if (target.loop != loop) {
          targets.add(target);
        }
      }
    }
    return joins == externalWaiters && !targets.isEmpty() ? targets.toArray(new Task<?>[0]) : null;
  }

  /** Notes that run() throws {@code e}, a deadlock report, and returns it. */
  private DeadlockException reportDeadlock(DeadlockException e) {
    reportedDeadlock = true; // leave() keeps what it published: other loops still see it
    Flight.deadlock(name, e.stuckTasks().size(), e.getMessage());
    return e;
  }

  /** Whether work from another thread waits in the inbox. Any thread. */
  boolean hasInboxWork() {
    return !inbox.isEmpty();
  }

  /** How many of this loop's tasks wait for blocking work stuck in a join (see stuckInJoin). */
  private int stuckJoins() {
    int stuck = 0;
    for (BlockingWork<?> w : joiningWorks) {
      if (w.stuckInJoin()) {
        stuck++;
      }
    }
    return stuck;
  }

  /**
   * Nothing is ready and no timer is due: waits for the earliest deadline, or for work from another
   * thread. Returns false when no task is left. Runs on the driving thread.
   */
  private boolean idle() {
    if (!inbox.isEmpty() || stopRequested) {
      passNow = ticker.read(); // the pass that follows may run ready tasks without reading it
      return true;
    }
    // A request to look again (see lookAgain) is taken before the looks below, which then see
    // what it was made for; one made after them is seen before the driver parks.
    if (deadlockCheckDue) {
      deadlockCheckDue = false;
    }
    // Whether there is a deadline is a flag of its own: every long, Long.MAX_VALUE included, is
    // a deadline a timer may have.
    long deadline = 0;
    boolean hasDeadline = !timers.isEmpty();
    if (hasDeadline) {
      // On a manual clock (virtual time included) no wake-up is saved, and a timer taken late
      // would fire at another's time, or, the clock moved just before, not until it moves again.
      long slack = manualTime ? 0 : idleStrategy.slackNanos();
      deadline = slack == 0 ? timers.earliestDeadline() : timers.latestWithin(slack, 64);
    }
    // A hold limit's timer only reports a lease held too long and wakes no task: a loop whose
    // only timers they are is looked at as if it had none (a deadlock is reported now, not once
    // the limit has passed); when it is not stuck, it still idles until they are due.
    if (!hasDeadline || onlyHoldTimers()) {
      if (externalWaiters > 0 && !onlyStuckJoinsWait()) {
        // Only another thread can wake a task now: unless each such wait is a join of a task of
        // another loop, and those loops are as stuck (see CrossLoopDeadlocks).
        Task<?>[] targets = joinsOfOtherLoops();
        DeadlockException e = targets == null ? null
            : CrossLoopDeadlocks.idleInJoins(this, targets);
        if (e != null) {
          throw reportDeadlock(e);
        }
      } else if (live.size() == 0) {
        return false;
      } else {
        DeadlockException e = DeadlockException.of(name, live.oldest());
        CrossLoopDeadlocks.deadlockedInItself(this); // for the loops whose tasks join its tasks
        throw reportDeadlock(e);
      }
    }
    // Blocking work in flight (Tasko.blocking) holds virtual time still: the loop waits for it.
    if (virtualClock != null && hasDeadline && !blockingWorkHoldsTime()) {
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
    long idleFrom = timeline == null ? 0 : ticker.read();
    inbox.sleeper(driverThread);
    if (manualTicker != null) {
      manualTicker.addWaiter(wakeHook); // only while idle: the ticker keeps no loop that is gone
    }
    counters.idleBegan(System.nanoTime());
    try {
      // Checked after the sleeper is published: work submitted from now on unparks us, and work
      // submitted before is seen here. The same goes for a manual ticker's advance().
      // The same goes for a request to look again (see lookAgain): either it is seen here, or
      // the request, made after, sees the driver as the sleeper and wakes it.
      if (inbox.isEmpty() && !stopRequested && (!hasDeadline || ticker.read() < deadline)
          && !deadlockCheckDue) {
        long joinCheck = !hasDeadline || manualTime ? nextJoinCheck() : 0;
        if (joinCheck != 0) {
          // A join of another loop's task may wait for ever: look again when a warning is due.
          LockSupport.parkNanos(this, joinCheck - System.nanoTime());
        } else if (!hasDeadline || manualTime) {
          LockSupport.park(this);
        } else {
          idleStrategy.await(ticker, deadline, wakeUpCheck);
        }
      }
    } finally {
      if (manualTicker != null) {
        manualTicker.removeWaiter(wakeHook);
      }
      inbox.sleeper(null);
      counters.idleEnded();
      if (crossLoopJoins != null && !crossLoopJoins.isEmpty()) {
        checkJoins(System.nanoTime());
      }
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

  /**
   * Hands the processor to {@code next}, or to the driving thread when null. Returns the thread
   * to unpark once the caller has let go of everything guarded by the processor, which is no
   * longer its own: the driver, unless it wakes by itself; null for a task, which is woken here.
   *
   * <p>Whatever this throws (a stack overflow on a deep task's stack, out of memory starting a
   * thread) it throws with the hand-off undone (see {@link Task#takeTurn}): the caller holds the
   * processor again, and {@code next} goes back first in the ready queue, not lost.
   */
  private Thread handTo(Task<?> next) {
    Task<?> from = current;
    boolean counted = false;
    try {
      counters.switched();
      counted = true;
      if (timeline != null && next != null) {
        timeline.turnBegan(next, ticker.read());
      }
      current = next;
      if (watchdog != null) {
        watchdog.turnTo(next);
      }
      if (next == null) {
        return handBack();
      }
      if (next.takeTurn()) {
        counters.spunHandOffs++; // past the hand-off: a store, no call that could throw
      }
      return null;
    } catch (Throwable e) {
      // Only stores, no call, which could throw again on an exhausted stack: the caller puts the
      // task back in the ready queue from a frame nearer the stack's base.
      current = from;
      if (watchdog != null) {
        // Its turn start stays the failed hand-off's: a stall of this turn is reported late at
        // worst, and may be reported twice (once per turn start).
        watchdog.holder = from;
      }
      handOffFailed = next; // null for the driver: nothing to put back
      nothingDue = false; // the pass goes on: what next() found no longer holds
      if (counted) {
        counters.switches--; // no switch took place
      }
      throw e;
    }
  }

  /** Puts the task whose hand-off failed, if any, first in the ready queue: first of the pass. */
  private void requeueHandOffFailed() {
    Task<?> t = handOffFailed;
    if (t != null) {
      ready.addFirst(t);
      handOffFailed = null; // only once queued: should the call above throw, the task stays here
      passRemaining++;
    }
  }

  /**
   * Gives the baton back to the driving thread, and returns the driver for the caller to unpark,
   * or null to leave it asleep: if the driver waits in a timed park that ends no later than it
   * would idle until, and nothing needs it sooner, it wakes by itself.
   */
  private Thread handBack() {
    // The conditions under which runUntilDriverTurn() may be in a timed park, and nothing that
    // needs the driver before its next deadline.
    boolean quiet = !manualTime && timeline == null && !stepping && !timers.isEmpty()
        && inbox.isEmpty() && !stopRequested && !interruptRequested && pendingFailure == null;
    long target = 0;
    if (quiet) {
      target = parkTarget();
      long at = System.nanoTime();
      inbox.sleeper(driverThread); // from here, submit() and stop() wake it, as when idle
      // Stores only from here to the hand-off: a call that threw here (a stack overflow) would
      // leave the flag set for a hand-back that never took place.
      quietHandBack = true; // published by the write of driverTurn
      counters.idleSeq++; // Counters.idleBegan(at), in stores
      counters.idleSince = at;
      counters.idleSeq++;
    }
    driverTurn = true; // the hand-off
    // Left asleep only if it sleeps until no later than it must, and no work or stop came in:
    // what other threads send after this check finds the driver published, and wakes it.
    try {
      if (quiet && driverWakesItself && target - driverWakeAt >= 0 && inbox.isEmpty()
          && !stopRequested) {
        counters.quietHandBack();
        return null;
      }
    } catch (Throwable e) {
      // Past the hand-off, nothing may be thrown (see handTo); an error in this check (a stack
      // overflow) only costs the driver a wake-up it could have done without.
    }
    return driverThread;
  }

  /**
   * The first half of {@link #park}: picks the task to run next and hands it the processor. Returns
   * the thread to unpark for it (see {@link #handTo}), or the calling thread itself when that task
   * is {@code self}, whose turn came round again (no switch needed). Throws only before the
   * hand-off.
   */
  private Thread switchAway(Task<?> self) {
    if (timeline != null) {
      timeline.turnEnded(self, ticker.read()); // before next(), which may move virtual time
    }
    Task<?> next = next();
    if (next == self) {
      self.setState(Task.State.RUNNING);
      if (watchdog != null) {
        watchdog.turnTo(self); // a new turn all the same: not a stall
      }
      if (timeline != null) {
        timeline.turnBegan(self, ticker.read());
      }
      return Thread.currentThread();
    }
    return handTo(next);
  }

  /**
   * Gives up the processor until someone makes {@code self} ready and its turn comes. The caller
   * has already put {@code self} wherever it waits (the ready queue, a timer, a suspension).
   */
  void park(Task<?> self) {
    Thread wake;
    try {
      wake = (Thread) switchAwayCall.invokeExact(this, self);
    } catch (Throwable e) {
      // An error in the loop's own code (a stack overflow) before the hand-off, which handTo has
      // undone if it had begun: the task still holds the processor and goes on with the error.
      // Before its code runs (it may cancel or resume the task it was handing to), that task goes
      // back in the ready queue, and this one out of where it was queued. Best effort: if this
      // throws too, the next pass puts the other task back, and this one's stale place is
      // skipped once it ends.
      requeueHandOffFailed();
      timers.remove(self);
      if (ready.removeLastOccurrence(self) && passRemaining > ready.size()) {
        passRemaining = ready.size(); // it may have been counted in a pass opened meanwhile
      }
      self.setState(Task.State.RUNNING);
      if (timeline != null) {
        timeline.turnBegan(self, ticker.read()); // its turn goes on, not the other task's
      }
      if (e instanceof RuntimeException r) {
        throw r;
      }
      if (e instanceof Error err) {
        throw err;
      }
      throw new AssertionError(e); // switchAway() throws no checked exception
    }
    if (wake == Thread.currentThread()) {
      return; // its turn came round again
    }
    // Parked here until handed the processor again (inlined: every frame here is kept in the
    // stack of every sleeping task). park() returns at once while the thread's interrupt flag is
    // set, so the flag is taken off while the task waits (else its thread would spin on a core)
    // and put back before it runs on: the task finds its flag as it left it.
    // After the park, no test of the turn in this frame: a sleeping task's stack keeps this
    // method's compiled code, and code compiled while tasks were only going to sleep (a first
    // pass of thousands) has seen the turn test fail and never pass. A test here would be
    // compiled with a trap on its passing side, and every one of those tasks would be
    // deoptimized on waking. The tests are in awaitTurn(), called out of line.
    boolean interrupted = false;
    try {
      if (wake != null) {
        LockSupport.unpark(wake); // the driver, handed the processor
      }
      if (self.turn == Task.NOT_YOURS || !self.claimTurn()) {
        LockSupport.park(this);
        interrupted = (Thread) awaitTurnCall.invokeExact(this, self) != null;
      }
    } catch (Throwable e) {
      // A stack overflow (or out of memory) after the processor was handed on: this task must
      // not run on while another does. Wait for its turn without calling anything that could
      // throw again, then let the error end it.
      while (self.turn != Task.YOURS) {
        // spin: only reached by a task whose stack is already exhausted
      }
      self.turn = Task.NOT_YOURS; // as claimTurn(), without a call
      if (e instanceof RuntimeException r) {
        throw r;
      }
      if (e instanceof Error err) {
        throw err;
      }
      throw new AssertionError(e); // awaitTurn() throws no checked exception
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A task's wait for its turn: the second half, once woken (see {@link #park}), or the whole of
   * it before the first turn. Parks until it can claim its turn. Returns the calling thread if it
   * was interrupted meanwhile, else null: the flag is taken off while it waits, or park() would
   * not park, and the caller puts it back. (It returns a thread, not a boolean, to share its type
   * with {@link #switchAway}: the first switch resolves the call through the handle for both, so
   * no code compiled before any task woke holds a trap at this call.)
   */
  private Thread awaitTurn(Task<?> self) {
    Thread me = Thread.currentThread();
    boolean interrupted = Thread.interrupted();
    // The turn first: its volatile read makes the thread's field, written before it, current. A
    // thread whose start threw, and which was replaced (see Task#takeTurn), never claims it.
    for (int turn; (turn = self.turn) != Task.YOURS || self.thread != me || !self.claimTurn(); ) {
      if (turn == Task.WOKEN_EARLY && self.thread == me && spinForTurn(self)) {
        continue; // its turn came while it spun
      }
      // A hand-off unparks every task but one that still spins (see Task#takeTurn): a task that
      // gave up spinning had set its turn back to NOT_YOURS first, so the hand-off that comes for
      // it after that unparks it.
      LockSupport.park(this);
      if (Thread.interrupted()) {
        interrupted = true;
      }
    }
    return interrupted ? me : null;
  }

  /**
   * The wait of a task woken early (see {@link #wakeAfterNext}): spins until its turn comes, for
   * at most {@link #SPIN_AHEAD_NANOS}. True if the turn came; false once it has given up, and
   * parks.
   */
  private boolean spinForTurn(Task<?> self) {
    long end = System.nanoTime() + SPIN_AHEAD_NANOS;
    while (self.turn == Task.WOKEN_EARLY) {
      if (System.nanoTime() - end > 0) {
        if (!self.stopSpinning()) {
          return true; // the turn came meanwhile
        }
        if (!spinGivenUp) {
          spinGivenUp = true; // the guess was wrong: the holder pauses guessing
        }
        return false;
      }
      Thread.onSpinWait();
    }
    return true;
  }

  /**
   * The first thing a task's thread does: waits until it is handed the processor for its first
   * turn (see {@link Task#takeTurn}). A thread whose start threw, and was replaced, waits forever
   * if it got here (see Task.ThreadBody).
   */
  void awaitFirstTurn(Task<?> self) {
    Thread interrupted = awaitTurn(self);
    if (interrupted != null) {
      interrupted.interrupt();
    }
  }

  /**
   * The last thing a task's thread does: the task has ended (its failure, if any, reported).
   * Whatever an error thrown inside the loop's own code on the task's stack (a stack overflow at
   * a suspension point) left behind is taken away here: a timer, a place in the ready queue
   * (next() skips finished tasks).
   */
  void exit(Task<?> t) {
    retire(t);
    if (timeline != null) {
      timeline.turnEnded(t, ticker.read());
    }
    Task<?> next = next();
    t.thread = null; // a finished task keeps no thread (its result may be kept for a long time)
    Thread wake;
    try {
      wake = handTo(next);
    } catch (Throwable e) {
      // The hand-off was taken back (out of memory starting next's thread, say), and next goes
      // back first in the ready queue at the next pass. This thread ends here, so the driver takes
      // the processor: run() or step() throws the error after the pass, and the loop can run again.
      addPendingFailure(e);
      wake = handTo(null);
    }
    LockSupport.unpark(wake); // null: no one to wake
  }

  /**
   * Takes an ended task out of the loop: its timer and wait, its place among the live tasks; then
   * runs its end hook.
   */
  void retire(Task<?> t) {
    timers.remove(t);
    t.waitingOn = null;
    live.remove(t);
    Runnable onEnd = t.onEnd();
    if (onEnd != null) {
      onEnd.run();
    }
    if (trace) {
      LOG.log(Level.DEBUG, "{0}: task ''{1}'' ended: {2}", name, t.name(), t.state());
    }
  }

  /** Ends a task cancelled before its first turn, without ever giving it a thread. */
  void endUnstarted(Task<?> t) {
    timers.remove(t); // a runLater start; in the ready queue, next() skips it once it is done
    t.endUnstarted();
    live.remove(t);
    Runnable onEnd = t.onEnd();
    if (onEnd != null) {
      onEnd.run();
    }
  }

  void reportFailure(Task<?> task, Throwable failure) {
    try {
      Flight.taskFailed(name, task.name(), failure);
      if (trace) {
        LOG.log(Level.DEBUG, name + ": " + task + " failed", failure);
      }
    } catch (Throwable e) {
      // A failure whose getMessage() or toString() throws (even an error: a message that prints
      // the exception itself overflows the stack) still goes to the handler: recording it must
      // not end the task outside its own end (its thread would die holding the baton).
    }
    // A task cancelled before the failure (one that failed in its cleanup, or a cancelled task
    // group opener reporting a child's failure), or past a timeout, would otherwise throw at the
    // handler's first suspension point, and the handler could not log over a busy bus: the
    // failure would be lost and run() would throw a cancellation instead.
    Task<?> running = DrivenLoops.currentTask();
    boolean ours = running != null && running.loop == loop;
    boolean shield = ours && !isShielded(running) && Traps.cancelPending(running);
    if (shield) {
      if (shielded == null) {
        shielded = new ArrayDeque<>(2);
      }
      shielded.add(new Shield(running, running.scopes));
    }
    int leaseMark = ours ? running.leaseMark() : 0;
    try {
      failureHandler.taskFailed(task, failure);
    } catch (Throwable e) {
      // Cut off (a cancel while it waited) or failing itself, the handler must not hide the
      // failure it was handed.
      if (!Failures.carries(e, failure)) {
        Failures.suppressOrLog(e, failure, "loop '" + name + "': the failure handler threw an "
            + "exception that cannot carry the failure it was handed, of task '" + task.name()
            + "'");
      }
      addPendingFailure(e);
    } finally {
      if (shield) {
        unshield(running);
      }
      // What the handler acquired and did not close (it threw, or forgot): the task's own leases
      // were released before it ran, and nothing else would release these.
      if (ours && running.leaseMark() > leaseMark) {
        Throwable released = running.releaseLeasesSince(leaseMark,
            "the failure handler in task '" + running.name() + "'");
        if (released != null) {
          addPendingFailure(released);
        }
      }
    }
  }

  /**
   * A task running the failure handler whose cancellation, or cancelled scopes, came before it:
   * held back from the handler's suspension points until a new cancel. {@code boundary} is the
   * task's innermost cancel scope when the handler was called: it and the scopes around it are
   * held back, those the handler opens are not.
   */
  private record Shield(Task<?> task, CancelScope boundary) {}

  /** {@code t}'s shield while it runs the failure handler (see reportFailure), or null. */
  private Shield shieldOf(Task<?> t) {
    if (shielded != null) {
      for (Shield s : shielded) {
        if (s.task == t) {
          return s;
        }
      }
    }
    return null;
  }

  /** Whether {@code t}'s cancellation is held back while it runs the failure handler. */
  boolean isShielded(Task<?> t) {
    return shieldOf(t) != null;
  }

  /**
   * The outermost cancelled scope whose cancellation {@code t} is to throw at its suspension
   * points, or null: any cancelled one, except those held back while it runs the failure handler.
   */
  CancelScope cancelledScope(Task<?> t) {
    Shield s = shieldOf(t);
    return CancelScope.cancelledScope(t, s == null ? null : s.boundary);
  }

  /** Whether {@code scope}'s cancellation is held back while its task runs the failure handler. */
  boolean isHeldBack(CancelScope scope) {
    Shield s = shieldOf(scope.task);
    if (s != null) {
      for (CancelScope b = s.boundary; b != null; b = b.outer) {
        if (b == scope) {
          return true;
        }
      }
    }
    return false;
  }

  /** Lets {@code t}'s cancellation through again: its handler returned, or a new cancel came. */
  void unshield(Task<?> t) {
    if (shielded != null) {
      shielded.removeIf(s -> s.task == t);
    }
  }

  /** Keeps {@code e} for the driver to throw once it has the baton back (see runPass). */
  private void addPendingFailure(Throwable e) {
    if (pendingFailure == null) {
      pendingFailure = e;
    } else if (e != pendingFailure && !Failures.carries(pendingFailure, e)) {
      // One object thrown twice is kept once: an exception cannot suppress itself.
      Failures.suppressOrLog(pendingFailure, e, "loop '" + name + "': a failure after the one "
          + "the loop throws, which cannot carry it");
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Work from other threads: through the inbox (Inbox.java), which wakes a sleeping driver.
  // -----------------------------------------------------------------------------------------------

  /** Whether the calling thread is a task of this loop (and so holds its baton). */
  boolean isOnLoop() {
    Task<?> calling = DrivenLoops.currentTask();
    return calling != null && calling.loop == loop;
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
   * Runs {@code command} on the loop at the start of its next pass; wakes it if idle. Any thread.
   */
  void submit(Runnable command) {
    inbox.send(command);
  }

  /** Like {@link #submit}, without waking the loop (see {@link Inbox#queue}). Any thread. */
  void queue(Runnable command) {
    inbox.queue(command);
  }

  /**
   * Takes {@code t}, a new task added from another thread, in at the start of the next pass, as
   * {@code enqueue(t, START_NOW)}; does not wake the loop (see {@link Inbox#queueTask}). Any
   * thread.
   */
  void queueTask(Task<?> t) {
    inbox.queueTask(t);
  }

  /**
   * Has the idle driver look again whether anything can still run, as it does after a pass: for
   * blocking work that begins to wait in a join, and for another loop that has found a deadlock
   * this one may be part of (see {@link CrossLoopDeadlocks}). Not a command: one left in the inbox
   * of a loop that no thread runs any more (it has reported a deadlock) would look like work to
   * come, and hide that loop's deadlock from the loops that wait for it. Any thread.
   */
  void lookAgain() {
    deadlockCheckDue = true; // then the sleeper read: see idle(), which reads them the other way
    wake();
  }

  /**
   * Wakes the driver if it sleeps: for stop(), a manual ticker's advance(), or work queued without
   * a wake-up (see {@link #queue}). Any thread.
   */
  void wake() {
    inbox.wake();
  }

  // -----------------------------------------------------------------------------------------------
  // Taking work in, and what the rest of the library asks of the engine. On the loop unless said.
  // -----------------------------------------------------------------------------------------------

  /**
   * Makes a new task live: ready at once ({@link #START_NOW}), or on a timer until {@code startAt}.
   */
  void enqueue(Task<?> t, long startAt) {
    if (t.isDone()) {
      return; // cancelled on the loop while another thread's add of it was still in the inbox
    }
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

  /** Queues {@code t} for the next pass; a task that has not started keeps its NEW state. */
  void makeReady(Task<?> t) {
    if (t.state() != Task.State.NEW) {
      t.setState(Task.State.READY);
    }
    ready.add(t);
  }

  /** Cancels every live task: the first thing a shutdown does on the loop. */
  void cancelAll() {
    for (Task<?> t = live.oldest(); t != null; ) {
      Task<?> next = t.nextLive; // read first: a task that never started leaves the list at once
      Traps.cancel(t);
      t = next;
    }
  }

  /**
   * Whether the loop has ended: no thread drives it and no task is left (run() returned for lack
   * of work), or it was shut down. Any thread: the driver's release in leave() publishes the count.
   */
  boolean hasEnded() {
    return driver.get() == null
        && ((live.size() == 0 && inbox.isEmpty()) || loop.isShutdown());
  }

  /** Whether a task is left, or work waits in the inbox. On the loop, or while none drives it. */
  boolean hasWorkLeft() {
    return live.size() > 0 || !inbox.isEmpty();
  }

  /** The thread driving the loop now (inside run() or step()), or null. Any thread. */
  Thread driver() {
    return driver.get();
  }

  /** Takes {@code command} back if it is still in the inbox. Any thread. */
  boolean unsubmit(Runnable command) {
    if (!inbox.withdraw(command)) {
      return false;
    }
    // Loops that found it there may wait for this one, deadlocked with it: see CrossLoopDeadlocks.
    CrossLoopDeadlocks.inboxWithdrawn(this);
    return true;
  }

  /** The loop time of the current pass, to within a pass: read without a clock read. */
  long passTime() {
    return passNow;
  }

  /** The timeline this loop records into, or null. */
  Timeline timeline() {
    return timeline;
  }

  /** Whether every timer pending is a lease's hold limit: none wakes a task. On the baton. */
  private boolean onlyHoldTimers() {
    return timers.size() == holdTimers;
  }

  /** Starts the timer of a lease whose resource has a hold limit. */
  void startHoldTimer(Lease<?> lease, long deadline) {
    timers.add(lease, deadline);
    holdTimers++;
  }

  /** Stops a lease's hold-limit timer, if it has one. */
  void stopHoldTimer(Lease<?> lease) {
    if (timers.remove(lease)) {
      holdTimers--;
    }
  }

  /** Notes a resource one of this loop's tasks has begun to use, for {@link Loop#dump()}. */
  void resourceUsed(ManagedResource<?, ?> r) {
    resources.add(r);
  }

  /** Whether the driver sleeps in a timed park it ends by itself (see handBack), for tests. */
  boolean driverSleepsUntilTimer() {
    return driverWakesItself;
  }

  /** The ready queue itself, for tests. */
  Object readyQueue() {
    return ready;
  }
}
