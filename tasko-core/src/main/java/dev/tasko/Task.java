package dev.tasko;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;

/**
 * A job running on a {@link Loop}: plain sequential code that gives up the processor only where it
 * suspends ({@link Tasko#sleep}, {@link Tasko#yieldNow}, {@link Suspension#await}, {@link #join},
 * {@link Handle#acquire} on a busy resource). Created by {@link Loop#addTask} and
 * {@link Loop#runLater}.
 *
 * <p>Each task runs on a virtual thread of its own, but the loop lets exactly one of its tasks run
 * at a time, so code between two suspension points is atomic with respect to the loop's other tasks
 * and state shared only by them needs no locks. (The task of a
 * {@linkplain Loop#scheduleCallback callback schedule} has no thread: the loop calls its body.)
 *
 * <h2>Cancellation</h2>
 * {@link #cancel()} delivers a {@link CancellationException} at the task's current suspension
 * point, or its next one if it is running; a task not yet started never starts. {@code finally}
 * blocks and {@link Lease}s run as the exception unwinds. A cancelled task keeps throwing at every
 * later suspension point. A task that lets the exception escape ends {@link State#CANCELLED}, which
 * is not a failure.
 *
 * <p>A task that catches the exception and reaches a suspension point again (a
 * {@code catch (Exception e)} around a sleep) has swallowed its cancellation. It is thrown again
 * there: the first three deliveries, the first throw included, come at once (cleanup may meet a
 * cancellation point or two), then only after a wait on the loop's clock (1 ms, doubling at each
 * re-delivery up to 1 s), and the loop logs one {@code WARNING} naming the task: the other tasks
 * keep running, {@link Loop#stop()} still works, and the task costs no processor while it waits.
 *
 * <p>The methods of this class may be called from any thread.
 *
 * @param <T> the result type; {@code Void} for a {@link TaskBody}
 */
public final class Task<T> extends TimerEntry {

  /** Where a task is in its life. Read from another thread, it is a snapshot. */
  public enum State {
    /** Created, not yet started (waiting for its first turn, or for its {@code runLater} delay). */
    NEW,
    /** Started, and waiting in the ready queue for its next turn. */
    READY,
    /** Holding the processor. */
    RUNNING,
    /** Suspended: sleeping, or waiting for a suspension, a resource or another task. */
    WAITING,
    /** Finished normally. */
    SUCCEEDED,
    /** Finished by an exception. */
    FAILED,
    /** Finished by cancellation. */
    CANCELLED
  }

  /**
   * How many leases the onRelease callbacks of a task's forgotten leases may open, and forget,
   * while the loop closes them at the task's end, before it gives up (see releaseLeasesSince).
   */
  private static final int LEASES_OPENED_WHILE_RELEASING = 100;
  /** What every task's thread runs. */
  private static final Runnable THREAD_BODY = new ThreadBody();

  /** See {@link #setState}. */
  @SuppressWarnings("rawtypes") // the updater of a generic class takes its raw class
  private static final AtomicIntegerFieldUpdater<Task> STATE =
      AtomicIntegerFieldUpdater.newUpdater(Task.class, "state");
  /** The states by ordinal: {@link #state} keeps an ordinal (see there). */
  private static final State[] STATES = State.values();
  private static final VarHandle TURN;
  private static final VarHandle RARE;
  private static final VarHandle FAILURE_FLAGS;
  /**
   * How long a thread that is not a task waits in {@link #join()} before it checks whether any
   * thread has run the loop meanwhile, and warns once if none has. Not final: tests shorten it.
   */
  static volatile long outsideJoinWarningNanos = TimeUnit.SECONDS.toNanos(10);

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      TURN = lookup.findVarHandle(Task.class, "turn", int.class);
      RARE = lookup.findVarHandle(Task.class, "rare", Rare.class);
      FAILURE_FLAGS = lookup.findVarHandle(Task.class, "failureFlags", byte.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final Loop loop;
  /** The name given; null when the loop numbers the task instead (see number). */
  private final String name;
  /**
   * The number of a task not given a name, in the order its loop made them; 0 for a named task.
   * A number, not a string: the name is made only when something shows it, so a task costs no
   * string of its own (a loop may hold a million sleeping tasks). An int, not a long: a long would
   * take the task past 88 bytes; past the int range, a task keeps its made-up name as a string,
   * and -1 here.
   */
  private final int number;
  /** A TaskBody or a Callable: held as given, so no wrapper sits in every task's stack. */
  private final Object body;

  // ---- switching: see Runner.handTo and Runner.park ----
  Thread thread; // created at the first turn, so a task that never starts costs no thread
  /**
   * {@link #YOURS} when the processor is this task's; {@link #WOKEN_EARLY} when it is not yet, but
   * the holder has woken the task early because its turn comes after the next one (see {@link
   * #wakeEarly}), so it spins for it a while instead of parking; else {@link #NOT_YOURS}. Set to
   * YOURS by the thread that hands this task the processor (see {@link #takeTurn}); the task takes
   * it with {@link #claimTurn}, and so does a hand-off that fails, if the task has not. Every
   * compare-and-set of it goes through {@link #casTurn} (see there why).
   */
  volatile int turn;
  /** {@link #turn}: the processor is another's. */
  static final int NOT_YOURS = 0;
  /** {@link #turn}: the processor is this task's, to claim. */
  static final int YOURS = 1;
  /** {@link #turn}: not yet this task's, but woken early to spin for it (see wakeEarly). */
  static final int WOKEN_EARLY = 2;

  // ---- guarded by the loop's baton (read from other threads only through volatile state) ----
  /**
   * The state's ordinal. A number, not the enum: a reference stored in an object the garbage
   * collector has moved to the old generation marks its card for the collector to scan, and a
   * task changes state several times per turn. An int, for the field updater; it takes the
   * padding after the other ints, so a task is no larger than with a byte. 0 is
   * {@link State#NEW}.
   */
  private volatile int state;
  volatile boolean cancelRequested;
  /**
   * Cancellations thrown at its suspension points (see Traps.deliverCancellation); a task that
   * meets another after one was thrown has swallowed it. Whoever catches a cancellation on
   * purpose, as its own handled outcome, must take its deliveries back off this count, as leaving
   * a cancel scope does (see Traps.leaveScope). A byte,
   * which stops at 127: past the first few, the count only sets a wait, which stops growing at
   * the fourteenth (see Traps.deliverCancellation).
   */
  byte cancelDeliveries;
  /**
   * The body's result once {@link State#SUCCEEDED}; its failure once {@link State#FAILED}, and
   * from when it failed until the task has ended. One field for both: a task has one or the other.
   */
  private Object outcome;
  /** The suspension this task awaits, or null. */
  Suspension waitingOn;
  /**
   * The innermost {@link CancelScope} the task is in (a {@link Tasko#withTimeout} body, a
   * {@link TaskGroup}'s block), or null. Its own sleep timer is the task itself, see
   * {@link TimerEntry}.
   */
  CancelScope scopes;
  /** Links of the loop's list of live tasks, for deadlock reports. */
  Task<?> prevLive;
  Task<?> nextLive;
  /**
   * Set for the task of a {@linkplain Loop#scheduleCallback callback schedule}: it has no thread of
   * its own; the loop runs each of its turns on the thread that holds the processor (see
   * Runner.runInline), and its body may not suspend. Set before the task is queued.
   */
  boolean runsInline;
  /**
   * Loop time, to within a pass, at which the task last began to sleep or wait: for
   * {@link Loop#dump()}. A plain store of a value the loop already has, at each suspension.
   */
  long waitSince;

  /**
   * Who sees the task's failure, as flags: {@link #GROUP_REPORTS}, {@link #HANDED_OVER}. A byte of
   * flags, not two booleans: a task is no larger than with one. Set on the loop, and by a join from
   * another thread once the task has ended, while the loop may clear or read a flag of the same
   * byte (a task group's cancel, its close): so only through {@link #addFailureFlag},
   * {@link #clearFailureFlag} and {@link #hasFailureFlag}, atomic, on paths of failures only.
   */
  private byte failureFlags;
  /** A {@link TaskGroup} rethrows this task's failure: the loop must not report it too. */
  static final byte GROUP_REPORTS = 1;
  /**
   * The failure goes to a joiner: set when the task ends with joiners waiting (they will be thrown
   * it), and when a join throws it (see {@link #outcome()}).
   */
  static final byte HANDED_OVER = 2;

  void addFailureFlag(byte flag) {
    FAILURE_FLAGS.getAndBitwiseOr(this, flag);
  }

  void clearFailureFlag(byte flag) {
    FAILURE_FLAGS.getAndBitwiseAnd(this, (byte) ~flag);
  }

  boolean hasFailureFlag(byte flag) {
    return ((byte) FAILURE_FLAGS.getVolatile(this) & flag) != 0;
  }

  /**
   * What only some tasks use, made when first needed (see {@link Rare}); null until then. Volatile:
   * a thread outside the loop may make it (a join from another loop or thread, blocking work).
   */
  private volatile Rare rare;

  /**
   * The fields that only some tasks use: joiners, leases, a schedule, an end hook, blocking work.
   * Kept apart so that a task that only runs and sleeps is 88 bytes rather than 112 (with
   * compressed references): a loop may hold a million sleeping tasks, and each young collection
   * before they are promoted copies every byte of them (BENCHMARKS.md, run AD).
   */
  private static final class Rare {
    private static final VarHandle FOREIGN_JOINERS;
    private static final VarHandle DONE_LATCH;

    static {
      try {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        FOREIGN_JOINERS = lookup.findVarHandle(Rare.class, "foreignJoiners",
            ConcurrentLinkedQueue.class);
        DONE_LATCH = lookup.findVarHandle(Rare.class, "doneLatch", CountDownLatch.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    // ---- guarded by the loop's baton ----
    /** Suspensions of tasks joining this one; resumed when it ends. */
    List<Suspension> joiners;
    /** Called by the loop once the task has ended, before anything else runs. */
    Runnable onEnd;
    /** The schedule the task runs, or null: for {@link Loop#dump()}. */
    ScheduledTask schedule;
    /** Leases and permits the task holds, so that those it forgets are closed when it ends. */
    List<AutoCloseable> leases;

    // ---- any thread ----
    /** Set once, when a task of another loop first joins; drained when the task ends. */
    volatile ConcurrentLinkedQueue<Suspension> foreignJoiners;
    /** Set once, when a thread outside the loop first joins; counted down when the task ends. */
    volatile CountDownLatch doneLatch;
    /**
     * The thread running the task's {@link Tasko#blocking} work, from when the work starts until
     * it ends; null otherwise. Written by that thread (see {@link BlockingWork#run()}).
     */
    volatile Thread blockingWorkThread;
  }

  /** The task's {@link Rare} fields, made now if no thread has yet. Any thread. */
  private Rare rare() {
    return SetOnce.getOrSet(RARE, this, Rare::new); // reads it first; makes it only if null
  }

  /** A task named {@code name}, or numbered by the loop if {@code name} is null. */
  Task(Loop loop, String name, Object body) {
    this.loop = loop;
    long n = name == null ? loop.nextTaskNumber() : 0;
    this.name = n > Integer.MAX_VALUE ? madeUpName(n) : name;
    this.number = n > Integer.MAX_VALUE ? -1 : (int) n;
    this.body = body;
  }

  /**
   * The task's name, as given or made up by the loop ({@code "task-7"}); used in logs and errors.
   * A JVM thread dump shows a named task's thread by this name; the threads of tasks not given
   * one share the name {@code "task of <loop name>"}, so that no task keeps a string for it.
   */
  public String name() {
    return name != null ? name : madeUpName(number);
  }

  private static String madeUpName(long number) {
    return "task-" + number;
  }

  /** The loop that runs this task. */
  public Loop loop() {
    return loop;
  }

  /** Where the task is in its life; a snapshot when read from outside the loop. */
  public State state() {
    return STATES[state];
  }

  /** Whether the task has finished: succeeded, failed or been cancelled. */
  public boolean isDone() {
    return state >= State.SUCCEEDED.ordinal();
  }

  /**
   * Whether a {@link #cancel()} has taken effect before the task ended: at once when it was called
   * on the loop, at the loop's next pass when it was called from another thread (until then this
   * reads false, though {@code cancel()} returned true). A task cancelled this way may still have
   * ended otherwise, if it finished before its next suspension point.
   */
  public boolean isCancelled() {
    return cancelRequested;
  }

  /**
   * Whether this task failed and a {@link #join()} has thrown its failure, from any thread or loop,
   * or will (a joiner waited when it failed). Once true, it stays true. The loop's
   * {@linkplain Loop.Builder#failureHandler failure handler} is given a failure when the task fails
   * with nobody waiting; a join may still throw it later. A tool that reports the failures nobody
   * saw (as the test kit does after each test) uses this to leave out the one a join has thrown
   * since: the failure the task ended with, not others it was reported for before (a schedule's
   * failing runs). May be called from any thread.
   */
  public boolean isFailureJoined() {
    return state == State.FAILED.ordinal() && hasFailureFlag(HANDED_OVER);
  }

  /**
   * Asks the task to stop: a {@link CancellationException} is thrown at its current suspension
   * point, or its next one if it is running; a task that has not started never starts. Does not
   * wait. May be called from any thread; from outside the loop, the request takes effect at the
   * loop's next pass.
   *
   * @return false if the task had already finished, true otherwise
   */
  public boolean cancel() {
    if (isDone()) {
      return false;
    }
    loop.runner.runOnLoop(() -> Traps.cancel(this));
    return true;
  }

  /**
   * Waits for the task to finish and returns its result.
   *
   * <p>Called from a task of a loop, it suspends that task (it is always a switch point, even when
   * this task has already finished) and other tasks run meanwhile; a task cannot join itself.
   * Called from any other thread, it blocks that thread: never call it from the thread that should
   * be running this task's loop (when that wait has lasted 10 s and no thread has run the loop
   * meanwhile, the loop's logger warns once, naming the thread and the task, and the wait goes on).
   * That wait is not interruptible, like
   * {@link java.util.concurrent.CompletableFuture#join()}: an interrupt does not end it, and the
   * thread's interrupt status is set again when it returns.
   *
   * <p>If the calling task is cancelled while it waits, this throws {@link CancellationException}
   * and this task goes on unaffected. If this task had already ended and woken the caller when
   * the cancel came, the join returns this task's outcome (its result, or the
   * {@link TaskFailedException}), and the cancellation is thrown at the caller's next suspension
   * point: a failure handed to a joiner is never lost. The same holds for a caller on another loop
   * once this task, failing, has counted on it to see the failure. A caller on another loop waits
   * for some thread to run this task's loop: when its own loop has had nothing else to do for 10 s
   * and no thread has run this task's loop meanwhile, its logger warns once, naming both tasks.
   *
   * <p>Joins may not form a circle: a task of one loop that joins a task of another, which joins
   * the first (directly, through more loops, or from {@linkplain Tasko#blocking blocking work})
   * waits for ever. When every loop on the circle has nothing else that could wake it (no timer,
   * no wait another thread could end), each one's {@link Loop#run()} throws a
   * {@link DeadlockException} naming the tasks and their loops, as for a deadlock inside one loop;
   * the joins go on waiting until a task on the circle that waits in a join itself is cancelled
   * (a task whose blocking work joins waits for that work, whose join no cancel ends).
   *
   * @return the value returned by the task's body; null for a {@link TaskBody}
   * @throws TaskFailedException if the task failed, with the original exception as its cause
   * @throws CancellationException if the task was cancelled, or the calling task is cancelled
   * @throws IllegalStateException if a task joins itself (also from its own
   *     {@linkplain Tasko#blocking blocking work}), or if called from the body of a
   *     {@linkplain Loop#scheduleCallback callback schedule}, which may not wait
   */
  public T join() {
    Task<?> caller = DrivenLoops.currentTask();
    if (caller == null) {
      BlockingWork<?> work = BlockingWork.ofCaller();
      if (work == null) {
        awaitFromOutside();
      } else if (work.task == this) {
        // The task waits for its work to end, even once cancelled: this would wait for ever.
        throw new IllegalStateException("join() called from the blocking work of task '" + name()
            + "' itself: the task waits for this work to end; return the value from the work, "
            + "and let the task go on with it");
      } else {
        work.joinBegan(this); // the deadlock checks see through this wait
        try {
          awaitFromOutside();
        } finally {
          work.joinEnded();
        }
      }
    } else if (caller.runsInline) {
      throw DrivenLoops.cannotSuspend("join", caller);
    } else if (caller == this) {
      throw new IllegalStateException("task '" + name() + "' cannot join itself");
    } else if (caller.loop == loop) {
      Traps.join(caller, this);
    } else {
      // A task of another loop. Not through this loop's inbox: this loop may have finished its
      // run() already, and then nobody would read it. The caller's loop keeps waiting (the
      // suspension is external) until our finish() resumes it.
      if (isDone()) {
        Traps.yieldNow(caller); // as on the same loop: a cancel that came first is thrown here
        return outcome();
      }
      Suspension s = new Suspension(caller, this, /* external= */ true);
      ConcurrentLinkedQueue<Suspension> foreignJoiners = foreignJoiners();
      foreignJoiners.add(s);
      if (isDone()) {
        // ended before we were added; finish() may not have seen us (resume is idempotent)
        s.resume();
      }
      // Watched by the caller's loop while it idles: a join that nothing ends unless some thread
      // runs this task's loop (a.run(); b.run(); on one thread) is warned about, not silent.
      Runner.CrossLoopJoin watch = null;
      try {
        watch = caller.loop.runner.joinBegan(caller, this);
        Traps.awaitResumeWins(s);
      } catch (Throwable e) { // a cancelled joiner no longer observes this task's failure
        s.cancel();
        foreignJoiners.remove(s);
        throw e;
      } finally {
        if (watch != null) {
          caller.loop.runner.joinEnded(watch);
        }
      }
    }
    return outcome();
  }

  private ConcurrentLinkedQueue<Suspension> foreignJoiners() {
    return SetOnce.getOrSet(Rare.FOREIGN_JOINERS, rare(), ConcurrentLinkedQueue::new);
  }

  private void awaitFromOutside() {
    CountDownLatch latch = SetOnce.getOrSet(Rare.DONE_LATCH, rare(), () -> new CountDownLatch(1));
    // The loop sets the final state before it reads doneLatch, and we set doneLatch before we read
    // the state (both volatile), so one side always sees the other: no lost wake-up.
    boolean interrupted = false;
    boolean warned = false;
    // The warning's window is timed from its start, not from the last interrupt: a thread that is
    // interrupted now and then, and so wakes, still waits the same window and is warned.
    int drives = loop.runner.drives();
    long windowStart = System.nanoTime();
    while (!isDone()) {
      try {
        if (warned) {
          latch.await();
        } else if (!latch.await(outsideJoinWarningNanos - (System.nanoTime() - windowStart),
            TimeUnit.NANOSECONDS) && !isDone()) {
          if (!loop.runner.drivenSince(drives)) {
            // A wait nothing will end unless some thread runs the loop: most often the thread
            // that should run it, joining first. Said once, and the wait goes on: run() may come.
            Loop.LOG.log(System.Logger.Level.WARNING, "loop ''{0}'': thread ''{1}'' has waited "
                + "{2} in join() of task ''{3}'', which has not ended, and no thread runs the "
                + "loop. Run it (loop.run() on another thread), or join after run() has returned.",
                loop.name(), Thread.currentThread().getName(),
                DurationText.approximate(Duration.ofNanos(outsideJoinWarningNanos)), name());
            warned = true;
          } else { // the loop ran meanwhile: a new window
            drives = loop.runner.drives();
            windowStart = System.nanoTime();
          }
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** The result, or the exception that join throws. Only valid once done. */
  @SuppressWarnings("unchecked")
  private T outcome() {
    return switch (state()) {
      case SUCCEEDED -> (T) outcome;
      case FAILED -> {
        addFailureFlag(HANDED_OVER);
        throw new TaskFailedException(this, (Throwable) outcome);
      }
      case CANCELLED -> throw cancelled();
      default -> throw new AssertionError("not done: " + this);
    };
  }

  /** What the task failed with; null unless it ended {@link State#FAILED}. On the loop. */
  Throwable failure() {
    return state == State.FAILED.ordinal() ? (Throwable) outcome : null;
  }

  CancellationException cancelled() {
    CancellationException e = new CancellationException("task '" + name() + "' was cancelled");
    if (outcome instanceof SiblingFailed why) {
      e.initCause(why.failure); // cancelled by its group: see cancelledBecause
    }
    return e;
  }

  /** Why a task group cancelled this task, kept in the outcome until the task ends. */
  private record SiblingFailed(Throwable failure) {}

  /**
   * Notes why this task's group cancels it: a sibling failed with {@code siblingFailure}, which
   * its cancellation then carries as its cause (for the tasks that join it, and in its own body).
   * Kept in the outcome, unused until the task ends; on the loop.
   */
  void cancelledBecause(Throwable siblingFailure) {
    if (!isDone() && !cancelRequested && outcome == null) { // not if cancelled for another reason
      outcome = new SiblingFailed(siblingFailure);
    }
  }

  // ---- called by the loop, holding the baton ----

  /** Registers a joiner, or resumes it at once if this task has already ended. */
  void addJoiner(Suspension s) {
    if (isDone()) {
      s.resume();
      return;
    }
    Rare r = rare();
    if (r.joiners == null) {
      r.joiners = new ArrayList<>(2);
    }
    r.joiners.add(s);
  }

  void removeJoiner(Suspension s) {
    Rare r = rare;
    if (r != null && r.joiners != null) {
      r.joiners.remove(s);
    }
  }

  /**
   * Takes the turn handed to this task, if it is still there: the baton is ours until we hand it
   * on. False if a hand-off that failed took it back first (see {@link #takeTurn}).
   */
  boolean claimTurn() {
    return casTurn(YOURS, NOT_YOURS);
  }

  /**
   * The one call site of every change of the turn. The undo of a hand-off or of an early wake-up
   * runs in a catch of a stack overflow, on a stack with hardly any room left: there a call whose
   * call site the JVM has not linked yet throws again, as linking a VarHandle call site takes far
   * more stack than the call itself. This site is linked by the first hand-off, before any task's
   * code runs, so the undo finds it linked.
   */
  private boolean casTurn(int expected, int next) {
    return TURN.compareAndSet(this, expected, next);
  }

  /**
   * Wakes this task, which waits in its thread for a turn that comes after the next one, so that
   * its thread is running when its turn comes and the hand-off needs no wake-up through the JDK's
   * scheduler (see Runner.awaitTurn, where it spins). A guess, never a hand-off: the task still
   * waits for its turn, and gives up spinning after a while. Nothing if it has no thread yet or
   * another thread set its turn meanwhile.
   */
  void wakeEarly() {
    Thread t = thread;
    if (t != null && casTurn(NOT_YOURS, WOKEN_EARLY)) {
      try {
        LockSupport.unpark(t);
      } catch (Throwable e) {
        // A stack overflow: the task may be parked with its turn WOKEN_EARLY, which tells the
        // hand-off that it spins and needs no unpark. Back to NOT_YOURS, so that the hand-off
        // wakes it. From this frame the compare-and-set above went through, and this one, at the
        // same call site, goes no deeper.
        casTurn(WOKEN_EARLY, NOT_YOURS);
        throw e;
      }
    }
  }

  /** Gives up the early wake-up's spin: false if the task's turn came meanwhile. */
  boolean stopSpinning() {
    return casTurn(WOKEN_EARLY, NOT_YOURS);
  }

  void holding(AutoCloseable lease) {
    Rare r = rare();
    if (r.leases == null) {
      r.leases = new ArrayList<>(2);
    }
    r.leases.add(lease);
  }

  /** The leases and permits the task holds, oldest first: a copy, for {@link Loop#dump()}. */
  List<AutoCloseable> heldLeases() {
    List<AutoCloseable> leases = leases();
    return leases == null ? List.of() : List.copyOf(leases);
  }

  void released(AutoCloseable lease) {
    leases().remove(lease);
  }

  /** The leases the task holds, or null if it has never held one. On the loop. */
  private List<AutoCloseable> leases() {
    Rare r = rare;
    return r == null ? null : r.leases;
  }

  /** Sets what the loop calls once the task has ended (see Runner.retire). On the loop. */
  void onEnd(Runnable hook) {
    rare().onEnd = hook;
  }

  /** What the loop calls once the task has ended, or null. On the loop. */
  Runnable onEnd() {
    Rare r = rare;
    return r == null ? null : r.onEnd;
  }

  /** Marks this task as the one that runs {@code s}: for {@link Loop#dump()}, callback turns. */
  void schedule(ScheduledTask s) {
    rare().schedule = s;
  }

  /** The schedule this task runs, or null. On the loop. */
  ScheduledTask schedule() {
    Rare r = rare;
    return r == null ? null : r.schedule;
  }

  /**
   * Makes what {@link #runsBlockingWorkOn} sets, before the work is handed to its thread: the
   * work's thread then allocates nothing, so it cannot fail before its work's end is reported.
   * On the loop.
   */
  void prepareBlockingWork() {
    rare();
  }

  /**
   * Notes that {@code worker} runs this task's {@link Tasko#blocking} work from now (null: the
   * work has ended). On the work's thread (see {@link BlockingWork#run()}), after
   * {@link #prepareBlockingWork}.
   */
  void runsBlockingWorkOn(Thread worker) {
    rare.blockingWorkThread = worker;
  }

  /**
   * A lease of {@code resource} whose acquire() by this task threw and whose clean-up failed too,
   * or null; not one whose acquire() is still running (an acquire() from inside onAcquire). No
   * allocation: called by every acquire().
   */
  Lease<?> unfinishedLease(ManagedResource<?, ?> resource) {
    List<AutoCloseable> leases = leases();
    if (leases != null) {
      for (int i = 0; i < leases.size(); i++) {
        if (leases.get(i) instanceof Lease<?> l && l.handle.resource == resource && l.failed) {
          return l;
        }
      }
    }
    return null;
  }

  /**
   * How many leases the task holds now: a mark for {@link #releaseLeasesSince}. A schedule takes
   * one before each run of its body, so that what a run opens does not outlive it.
   */
  int leaseMark() {
    List<AutoCloseable> leases = leases();
    return leases == null ? 0 : leases.size();
  }

  /**
   * Closes, newest first, the leases opened since {@code mark} and still held: what the task forgot
   * (mark 0, when it ends) or what one run of its schedule forgot. Each is closed, passing its
   * resource on, even if another's onRelease throws; logs a warning for each.
   *
   * @param who what ended holding them, for the warning: "task 'x'", "run of schedule 'y' of task
   *     'x'"
   * @return what the onRelease callbacks threw (the first, the others suppressed), or null
   */
  Throwable releaseLeasesSince(int mark, String who) {
    List<AutoCloseable> leases = leases();
    if (leases == null) {
      return null;
    }
    Throwable thrown = null;
    // Newest first, each lease once. close() takes the lease off the list, and may take others
    // or add some (an onRelease that acquires another resource and forgets it): the list is
    // looked at afresh each time, for the newest lease not yet tried. A lease whose close()
    // threw before it came off the list is not tried twice; onRelease callbacks that open new
    // leases without end are stopped after a bound.
    Set<AutoCloseable> tried = Collections.newSetFromMap(new IdentityHashMap<>());
    int budget = leases.size() - mark + LEASES_OPENED_WHILE_RELEASING;
    for (;;) {
      AutoCloseable lease = null;
      for (int i = leases.size() - 1; i >= mark && lease == null; i--) {
        if (!tried.contains(leases.get(i))) {
          lease = leases.get(i);
        }
      }
      if (lease == null) {
        break;
      }
      if (budget-- == 0) {
        Loop.LOG.log(System.Logger.Level.WARNING, "loop ''{0}'': {1} ended holding leases whose"
            + " onRelease kept opening others; {2} left open", loop.name(), who,
            leases.size() - mark);
        break;
      }
      tried.add(lease);
      Object held = lease instanceof Lease<?> l ? l.handle : lease;
      Loop.LOG.log(System.Logger.Level.WARNING, "loop ''{0}'': {1} ended holding {2}; releasing it",
          loop.name(), who, held);
      try {
        lease.close();
      } catch (Throwable e) {
        if (thrown == null) {
          thrown = e;
        } else if (e != thrown // one instance thrown twice cannot suppress itself
            && !Failures.suppressInto(thrown, e)) {
          loop.runner.reportFailure(this, e); // the first takes no suppressed one: not lost
        }
      }
    }
    return thrown;
  }

  /**
   * A release store rather than a volatile one: the switch path sets the state twice per switch,
   * and a full fence each time is measurable. Readers on other threads still see every state in
   * order (state() is an acquire load of a volatile field); the final states are also published
   * by the join latch.
   *
   * <p>Through a field updater rather than a VarHandle: compiled, the two are the same store, but
   * a loop that wakes once a second runs this in the interpreter for its first minutes, where a
   * VarHandle call goes through the JDK's method-handle machinery, cold at every wake-up
   * (BENCHMARKS.md, run R).
   */
  void setState(State s) {
    STATE.lazySet(this, s.ordinal());
  }

  StackTraceElement[] stackTrace() {
    Thread t = thread;
    return t == null ? new StackTraceElement[0] : t.getStackTrace();
  }

  /**
   * Gives this task the processor: sets its turn, then starts its thread at its first turn, or
   * wakes it. If starting or waking throws (a stack overflow on a deep task's stack, out of
   * memory starting the thread), the turn is taken back unless the task has already claimed it,
   * and the error is thrown: the caller still holds the processor (see Runner.handTo). If the task
   * has claimed it, it runs, so it was started or woken all the same: this returns normally.
   * Returns true if the task had been woken early and had not given up spinning for its turn (see
   * Runner#wakeAfterNext), so that the hand-off woke nobody.
   */
  boolean takeTurn() {
    int before = state;
    Thread t = thread;
    boolean start = t == null;
    if (start) {
      // Made before anything changes: if it throws, the task is as it was (a task never started
      // must look it, or a cancel would end it twice).
      t = loop.newThread(number == 0 ? name : null, THREAD_BODY);
    }
    STATE.lazySet(this, State.RUNNING.ordinal());
    if (start) {
      thread = t;
    }
    // The store publishes everything the previous holder wrote; the woken task's volatile read of
    // turn (in Runner.park) sees it. unpark() only wakes; it orders no memory. A task WOKEN_EARLY
    // that has not given up spinning sees the turn with no wake-up: its giving up is a
    // compare-and-set of this same field, which then fails (see Runner.spinForTurn).
    // A compare-and-set rather than a get-and-set: the undo below is then the very call that has
    // just gone through, from this same frame. Only the task itself changes its turn meanwhile
    // (giving up a spin), so this loops at most twice.
    int was;
    do {
      was = turn;
    } while (!casTurn(was, YOURS));
    try {
      if (start) {
        t.start();
      } else if (was != WOKEN_EARLY) {
        LockSupport.unpark(t);
      }
    } catch (Throwable e) {
      // The same call, through the same call site (linked: see casTurn), from the same frame as
      // the store above, which has just gone through: on an exhausted stack, it too goes
      // through. Were it to throw, the turn would stay offered while the caller took the
      // processor back, and the task, if woken, would run alongside the caller. (Only a start or
      // an unpark throws, so the turn was NOT_YOURS before it.)
      if (!casTurn(YOURS, NOT_YOURS)) {
        return false; // claimed: the task runs
      }
      // Stores, no call: the task is as it was before this hand-off when the caller's code runs
      // (which may cancel it: a task that never started must look it).
      state = before;
      if (start) {
        // A thread started all the same finds no task, or waits forever (see ThreadBody).
        thread = null;
      }
      throw e;
    }
    return was == WOKEN_EARLY;
  }

  /**
   * The body of every task's thread, and the whole of its life: one for all, so that a task costs
   * no object of its own for it. The hand-off that starts a task names it in its runner's {@code
   * current} before the thread starts, so the thread finds its task the way a running task finds
   * itself. A thread whose start threw and was taken back (see takeTurn) ends here if the undo
   * came first; if it found its task before the undo, it waits in awaitFirstTurn for a turn that is
   * never its own (that thread is lost, not the task, which gets a new one).
   *
   * <p>Nothing thrown by the body, by a lease's onRelease or by the failure handler escapes it:
   * each ends as the task's outcome or in the handler, and the task always reaches
   * loop.runner.exit(), which hands the processor on.
   *
   * <p>All in {@code run()}, which calls the task's body itself: every call between the thread's
   * start and a suspension is a frame kept in the stack of every sleeping task, and counts towards
   * the depth to which the JIT inlines (15 calls by default). With the JDK's own park a few calls
   * further up, a sleeping task whose whole stack the JIT has inlined into one compiled frame keeps
   * the least: as little as a plain virtual thread's in {@code Thread.sleep}.
   */
  private static final class ThreadBody implements Runnable {
    @Override
    public void run() {
      Task<?> t = DrivenLoops.currentTask();
      if (t == null) {
        return;
      }
      t.loop.runner.awaitFirstTurn(t);
      State end;
      try {
        if (t.cancelRequested) {
          throw t.cancelled();
        }
        if (t.body instanceof TaskBody b) {
          b.run();
          t.outcome = null; // a group's reason for a cancel that the body outlived
        } else {
          t.outcome = ((Callable<?>) t.body).call();
        }
        end = State.SUCCEEDED;
      } catch (CancellationException e) {
        if (t.cancelRequested) {
          end = State.CANCELLED;
        } else {
          t.outcome = e;
          end = State.FAILED;
        }
      } catch (Throwable e) {
        t.outcome = e;
        end = State.FAILED;
      }
      t.conclude(end);
      t.loop.runner.exit(t);
    }
  }

  /**
   * Ends the schedule's task of a {@linkplain Loop#scheduleCallback callback schedule}, whose
   * turns the loop runs on the thread that holds the processor, as the task's own thread would
   * end: with {@code thrown} (an {@link Error}, or the cancellation of a cancelled schedule), or
   * normally when null. Runs on the loop; the caller then takes it out of the loop's lists.
   */
  void endInline(Throwable thrown) {
    State end;
    if (thrown == null) {
      end = State.SUCCEEDED;
    } else if (thrown instanceof CancellationException && cancelRequested) {
      end = State.CANCELLED;
    } else {
      outcome = thrown;
      end = State.FAILED;
    }
    conclude(end);
  }

  /**
   * The end every task comes to, on the loop: closes, as far as it can, the task groups it never
   * closed (their children cancelled first, a failure they caught handed over last), and the
   * leases it forgot (an onRelease that throws fails it), reports a failure nobody waits for, then
   * sets {@code end} (the outcome so far) and wakes its joiners.
   */
  private void conclude(State end) {
    // The children of a group it never closed are cancelled before its leases go: a child
    // waiting for one of them is not handed it only to be cancelled.
    for (CancelScope s = scopes; s != null; s = s.outer) {
      if (s.group != null && !s.left) {
        s.group.ownerEnded();
      }
    }
    List<AutoCloseable> leases = leases();
    Throwable releaseFailure = leases == null || leases.isEmpty() ? null
        : releaseLeasesSince(0, "task '" + name() + "'");
    if (releaseFailure != null) {
      if (end == State.FAILED) {
        if (outcome != releaseFailure
            && !Failures.suppressInto((Throwable) outcome, releaseFailure)) {
          loop.runner.reportFailure(this, releaseFailure); // its failure takes none: not lost
        }
      } else {
        outcome = releaseFailure; // an onRelease that throws fails the task, as in its own close()
        end = State.FAILED;
      }
    }
    for (CancelScope s = scopes; s != null; s = s.outer) {
      if (s.group != null && !s.left) {
        s.group.handOverFailure(end == State.FAILED ? (Throwable) outcome : null);
      }
    }
    scopes = null;
    // The failure handler runs while the task is still live, in the task, so it may suspend
    // (log over a busy bus); joiners and join() see the task end only once it has returned.
    if (end == State.FAILED) {
      if (hasObservers()) {
        addFailureFlag(HANDED_OVER);
      } else if (!hasFailureFlag(GROUP_REPORTS)) {
        loop.runner.reportFailure(this, (Throwable) outcome);
      }
    }
    state = end.ordinal();
    finish();
  }

  /**
   * Whether anyone waits for this task, and so receives its failure through join(). Called once,
   * for a failure: a joiner of another loop that counts is reserved for it (see below).
   */
  private boolean hasObservers() {
    Rare r = rare;
    if (r == null) {
      return false;
    }
    // Only joiners still waiting count: one whose wait was cancelled may not have left the list
    // yet (it leaves when it next runs), and it will never see this failure.
    if (r.joiners != null) {
      for (Suspension s : r.joiners) {
        if (s.isPending()) {
          return true;
        }
      }
    }
    // A joiner of another loop may be cancelled by that loop at any moment: one that counts here is
    // reserved, so that no cancel can end its wait before finish() resumes it with the failure.
    ConcurrentLinkedQueue<Suspension> foreign = r.foreignJoiners;
    if (foreign != null) {
      for (Suspension s : foreign) {
        if (s.reserve()) {
          return true;
        }
      }
    }
    return r.doneLatch != null;
  }

  /** Ends a task that never started: cancelled before its first turn, it needs no thread. */
  void endUnstarted() {
    state = State.CANCELLED.ordinal();
    finish();
  }

  /** Wakes everyone waiting for this task. */
  private void finish() {
    // The final state is set (volatile) before these are read, and joiners from other threads add
    // themselves (making the rare fields if need be) before they read the state: one side always
    // sees the other.
    Rare r = rare;
    if (r == null) {
      return;
    }
    if (r.joiners != null) {
      for (Suspension s : r.joiners) {
        s.resume();
      }
      r.joiners = null;
    }
    ConcurrentLinkedQueue<Suspension> foreign = r.foreignJoiners;
    if (foreign != null) {
      for (Suspension s; (s = foreign.poll()) != null; ) {
        s.resume();
      }
    }
    CountDownLatch latch = r.doneLatch;
    if (latch != null) {
      latch.countDown();
    }
  }

  /**
   * Whether {@code thread} is running this task's blocking work right now: the work of a
   * {@link Tasko#blocking} call this task made, from the moment that work starts on
   * {@code thread} until it returns or throws (before the task resumes). False for any other
   * thread, for work still queued in its executor, for other tasks' work, and once the work has
   * ended, even on a pooled thread that runs other work afterwards. A task runs at most one
   * blocking work at a time, since it waits for it.
   *
   * <p>It lets something that belongs to a task serve that task's blocking work too: a lease view
   * of {@code tasko-pi4j} (the {@code I2C} or {@code Spi} a lease hands out) serves its holder and
   * the holder's blocking work, so that a clock-stretching transfer can run off the loop while the
   * task keeps the bus. May be called from any thread; from outside the work's thread, the answer
   * is a snapshot.
   *
   * @return whether {@code thread} runs this task's blocking work now; false if it is null
   */
  public boolean isRunningBlockingWorkOn(Thread thread) {
    Rare r = rare;
    return thread != null && r != null && thread == r.blockingWorkThread;
  }

  /**
   * The task's name and state and, while it waits, what for: {@code "Task[reader WAITING for
   * channel 'lines' (empty)]"}, {@code "Task[blinker WAITING for a timer]"} (a sleep, or a
   * schedule's next run). From another thread, a snapshot.
   */
  @Override
  public String toString() {
    Suspension s = waitingOn;
    State st = state();
    String waitsFor = st != State.WAITING ? ""
        : s != null ? " for " + DeadlockException.describe(s)
        : heapIndex >= 0 ? " for a timer" : ""; // a sleep, or a schedule's next run (a snapshot)
    return "Task[" + name() + " " + st + waitsFor + "]";
  }
}
