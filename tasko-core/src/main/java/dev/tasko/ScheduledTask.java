package dev.tasko;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A body run at a fixed rate by {@link Loop#schedule}, {@link Loop#scheduleLater} or
 * {@link Loop#scheduleCallback}.
 *
 * <h2>Recurrence</h2>
 * Runs are targeted on a fixed grid: the n-th run is due at {@code first + n × interval}, not one
 * interval after the previous run ended, so the schedule does not drift. {@code schedule} makes its
 * first run at the loop's next pass, {@code scheduleLater} one interval after the call. Between
 * runs the schedule sleeps on a timer and costs nothing. A first run of {@code scheduleLater} that
 * would lie past the end of the loop's clock ({@code Long.MAX_VALUE} nanoseconds, about 292 years
 * from a clock's zero) never comes: the schedule stays scheduled until it is stopped, or until the
 * clock reaches its end (only a manual clock or virtual time does), where it stops without a run.
 *
 * <h2>Overruns</h2>
 * At most one run of a schedule is alive at a time: a run may suspend (sleep, wait for a resource)
 * and the next one starts only after it has finished. A run that ends after the next target is due
 * makes the schedule late: the next run starts at once, but only after yielding once so the loop's
 * other tasks get a turn. If the schedule falls two intervals or more behind, missed runs are
 * skipped (and counted, see {@link #stats()}), not replayed in a burst. "Behind" is judged when
 * a run ends, against the next target: a schedule held up for less than three intervals (a long
 * task, a pause of the machine) catches up run by run, each after one yield, so that no run is
 * lost to a short stall. Held up longer, the late run is the one catch-up run, and the next comes
 * at the first target of the same grid at least one interval after it; a run that itself takes
 * that long is followed by the next at once, on a grid that restarts there. A schedule whose next
 * target would lie past the end of the loop's clock ({@code Long.MAX_VALUE} nanoseconds, which
 * only virtual time reaches, by jumping to a wait of more than 292 years) stops after its run, as
 * {@link #stop()} would stop it.
 *
 * <h2>Changing rate</h2>
 * {@link #changeRate(Rate)} takes effect from the next target computed after the current run;
 * the target already computed is kept, due or not: a schedule of one an hour sped up to one a
 * second between two runs runs once more at the hour, then every second. To take the new rate at
 * once, {@link #stop()} and {@link #start()} it: the next run comes at the loop's next pass, and
 * the grid restarts from there.
 *
 * <h2>Leases</h2>
 * What one run opens belongs to that run: a {@link Lease} it acquired and did not close (a body
 * that threw between {@code acquire} and {@code close}, or forgot the try-with-resources) is closed
 * when the run ends, with a warning in the log, before the failure is reported and before the next
 * run. So a failed run never keeps a resource from the loop's other tasks or from its own next
 * run. If the lease's {@code onRelease} throws, the run fails with it, as if the body had thrown
 * (an {@link Error} ends the schedule). A run that ends the schedule's task (an {@code Error}, or
 * the cancellation of a cancelled schedule) leaves its leases to the task's end, which closes them
 * the same way.
 *
 * <h2>Stopping</h2>
 * A schedule ends when {@link #stop()} is called (no further runs; a run in progress is not
 * interrupted), when {@link #cancel()} is called (the run in progress, if any, gets a
 * {@link CancellationException} at its suspension point), or when a run throws an {@link Error}.
 * An exception thrown by a run is handed to the loop's {@link FailureHandler} and the schedule goes
 * on: under the default handler, that failure stops {@link Loop#run()}, and the schedule resumes
 * if the loop is run again. {@link #start()} resumes a stopped schedule, with a new grid starting
 * at once (after a cancel, once the cancelled run has ended), and never doubles a schedule that is
 * still queued.
 *
 * <h2>Callback schedules</h2>
 * A schedule made by {@link Loop#scheduleCallback} keeps time, counts, fails, stops and reports
 * as described above, but its body is called by the loop itself, on the thread that holds the
 * processor, with no thread and no thread switch of its own: the way an executor runs a timer's
 * task, at about its cost. Its body must not suspend; a call that would wait throws
 * {@link IllegalStateException}. It runs on a borrowed thread, whose stack, thread locals and
 * interrupt status are the host's (see {@link Loop#scheduleCallback}).
 *
 * <p>The methods of this class may be called from any thread. {@code start}, {@code stop} and
 * {@code cancel} called from outside the loop take effect at its next pass.
 */
public final class ScheduledTask {
  /** First target meaning "whenever the schedule's task first runs". */
  static final long AT_FIRST_TURN = Long.MIN_VALUE;
  /** What {@link #followingTarget} returns when it knows no target. */
  static final long NO_TARGET = Long.MIN_VALUE;
  /**
   * What {@link #nextTarget} returns when the next target on the grid lies past the end of the
   * loop's clock: below any target, so the run that asked stops the schedule (its target is not
   * after the one before).
   */
  private static final long PAST_THE_END = Long.MIN_VALUE;

  private final Loop loop;
  private final String name;
  private final TaskBody body;
  /**
   * Whether this is a callback schedule ({@link Loop#scheduleCallback}): its task has no thread,
   * and each run is called by the loop on the thread that holds the processor.
   */
  private final boolean callback;
  // The runner's place on its grid, kept here rather than on its stack, since a callback
  // schedule's task has none between turns (see nextStep). On the loop.
  /** The next run's target; AT_FIRST_TURN until the runner's first turn. */
  private long target;
  /**
   * Whether {@code target} stands for a first target past the end of the clock (a scheduleLater
   * within one interval of Long.MAX_VALUE), where no run ever comes: it is then Long.MAX_VALUE,
   * the saturated deadline the runner sleeps until, and the schedule ends there without a run.
   */
  private boolean targetPastTheEnd;
  /** Whether the next run, due already, waits for one yield first (the last run was late). */
  private boolean yieldFirst;
  /** As given, for rate() and toString(); the loop reads its interval. Written by any thread. */
  private volatile Rate rate;

  // Written only on the loop; volatile so that any thread may read them.
  private volatile boolean stopped = true;
  private volatile boolean running;
  private volatile long runs;
  private volatile long skippedRuns;
  /** The task that runs this schedule, while it lives. */
  private volatile Task<Void> runner;
  /** Set by a start() after a stop() while the runner still lives: its grid restarts. */
  private volatile boolean restart;
  /**
   * Made by a start() while a cancelled runner still lives (its cancellation not yet thrown, or its
   * cleanup still running): the runner that starts once that one has ended. On the loop.
   */
  private Task<Void> next;
  /** Lateness of each run against its target, in nanoseconds: since the schedule was made... */
  private final Histogram lateness = new Histogram();
  /** ...and since the last recentStats(), swapped for a fresh one at each read. */
  private volatile Histogram recentLateness = new Histogram();
  private final AtomicLong recentRuns = new AtomicLong();
  private final AtomicLong recentSkippedRuns = new AtomicLong();

  ScheduledTask(Loop loop, String name, Rate rate, TaskBody body, boolean callback) {
    this.loop = loop;
    this.name = name;
    this.rate = rate;
    this.body = body;
    this.callback = callback;
  }

  /** The schedule's name, also the name of the task that runs it. */
  public String name() {
    return name;
  }

  /** The current interval between targets. */
  public Duration interval() {
    return rate.interval();
  }

  /** The current rate, as it was given to {@code schedule} or {@code changeRate}. */
  public Rate rate() {
    return rate;
  }

  /**
   * Sets a new interval, used from the next target computed after the current run (see "Changing
   * rate" above). May be called from any thread, including from the schedule's own body.
   *
   * @throws NullPointerException if {@code interval} is null
   * @throws IllegalArgumentException if {@code interval} is zero, negative or overflows a long of
   *     nanoseconds
   */
  public void changeRate(Duration interval) {
    rate = Rate.every(interval);
  }

  /**
   * Sets a new rate, used from the next target computed after the current run (see "Changing
   * rate" above): {@code changeRate(hz(50))}. May be called from any thread, including from the
   * schedule's own body.
   *
   * @throws NullPointerException if {@code rate} is null
   */
  public void changeRate(Rate rate) {
    this.rate = Objects.requireNonNull(rate, "rate == null");
  }

  /**
   * Stops the schedule: no further runs start. A run in progress is not interrupted; it finishes
   * normally. Idempotent. May be called from any thread; once the loop is
   * {@linkplain Loop#shutdown() shut down}, whose shutdown stops every schedule, it does nothing.
   */
  public void stop() {
    if (loop.isShutdown() && !loop.runner.isOnLoop()) {
      // The shutdown stops every schedule (their tasks are cancelled); a command sent now might
      // never be read, and would be kept for as long as the loop is.
      return;
    }
    loop.runner.runOnLoop(this::stopOnLoop);
  }

  /**
   * Resumes a stopped schedule: the next run starts at the loop's next pass (or, if the previous
   * run is still in progress, once it has ended and the loop's other tasks have had a turn), and
   * the grid restarts from there, also when the
   * schedule was stopped while it slept towards its next target. After {@link #cancel()}, the
   * next run starts once the cancelled run has ended. Does nothing if the schedule is not stopped;
   * never makes two runs alive at once. From another thread, {@code stop()} or {@code cancel()}
   * then {@code start()} take effect in that order.
   *
   * @throws IllegalStateException if the loop is {@linkplain Loop#shutdown() shut down}
   */
  public void start() {
    loop.runOnLoopIfOpen("schedule '" + name + "' cannot start",
        () -> startOnLoop(AT_FIRST_TURN, /* pastTheEnd= */ false));
  }

  /**
   * Stops the schedule and cancels the run in progress, if any: it gets a
   * {@link CancellationException} at its current or next suspension point.
   */
  public void cancel() {
    stop();
    Task<Void> r = runner;
    if (r != null) {
      r.cancel();
    }
  }

  /**
   * Whether the schedule will run again: started and not stopped. True from the moment
   * {@link Loop#schedule} returns, even when called from another thread before the loop has taken
   * the schedule in. A {@link #stop()} or {@link #start()} called from outside a task of the loop
   * shows here only once the loop has taken it in, at its next pass.
   */
  public boolean isScheduled() {
    return !stopped;
  }

  /** Whether a run is in progress right now (it may be suspended inside its body). */
  public boolean isRunning() {
    return running;
  }

  /**
   * How the schedule has kept time so far: a snapshot, safe to take from any thread (counts and
   * percentiles may be a run apart when taken while the loop runs).
   */
  public Stats stats() {
    return new Stats(runs, skippedRuns, Duration.ofNanos(lateness.quantile(0.5)),
        Duration.ofNanos(lateness.quantile(0.99)), Duration.ofNanos(lateness.max()));
  }

  /**
   * How the schedule has kept time since the previous call of this method (or since it was made):
   * the same figures as {@link #stats()}, over a recent window only, so that a schedule that has
   * run for a month still shows how it keeps time today. Each call starts a new window. Safe to
   * call from any thread; meant for one reader (a status page, a periodic log line), since two
   * readers would split the windows between them. A run that ends while the window is swapped
   * may count in either window.
   */
  public Stats recentStats() {
    Histogram h = recentLateness;
    recentLateness = new Histogram();
    long r = recentRuns.getAndSet(0);
    long sk = recentSkippedRuns.getAndSet(0);
    return new Stats(r, sk, Duration.ofNanos(h.quantile(0.5)), Duration.ofNanos(h.quantile(0.99)),
        Duration.ofNanos(h.max()));
  }

  /**
   * Timing of a schedule's runs.
   *
   * @param runs runs started
   * @param skippedRuns targets skipped because the schedule fell two or more intervals behind
   *     (with {@code runs}, every target passed; one less than an interval after a catch-up run
   *     is counted as soon as it is skipped, before its time)
   * @param latenessP50 median delay between a run's target and its start (about 6% precise)
   * @param latenessP99 99th percentile of that delay (about 6% precise)
   * @param latenessMax the largest delay, exact
   */
  public record Stats(long runs, long skippedRuns, Duration latenessP50, Duration latenessP99,
      Duration latenessMax) {
    /**
     * Checks the arguments.
     *
     * @throws NullPointerException if a duration is null
     */
    public Stats {
      Objects.requireNonNull(latenessP50, "latenessP50 == null");
      Objects.requireNonNull(latenessP99, "latenessP99 == null");
      Objects.requireNonNull(latenessMax, "latenessMax == null");
    }

    /**
     * The counts and durations for people to read:
     * {@code "Stats[runs=100, skippedRuns=0, latenessP50=0.36 ms, latenessP99=1.2 ms, ...]"}.
     */
    @Override
    public String toString() {
      return "Stats[runs=" + runs + ", skippedRuns=" + skippedRuns
          + ", latenessP50=" + DurationText.approximate(latenessP50)
          + ", latenessP99=" + DurationText.approximate(latenessP99)
          + ", latenessMax=" + DurationText.approximate(latenessMax) + "]";
    }
  }

  // ---- on the loop ----

  /** Called when a schedule is made from outside the loop: scheduled before the loop takes it. */
  void markStarting() {
    stopped = false;
  }

  /**
   * Starts the schedule on the loop, its first run due at {@code firstTarget}, or at the runner's
   * first turn ({@link #AT_FIRST_TURN}); {@code pastTheEnd}: that target lies past the end of the
   * clock, and {@code firstTarget} is Long.MAX_VALUE.
   */
  void startOnLoop(long firstTarget, boolean pastTheEnd) {
    boolean wasStopped = stopped;
    stopped = false;
    Task<Void> r = runner;
    if (r != null && r.cancelRequested) {
      // It is ending: a new runner follows it, never two alive at once. Made now, so that the
      // old one's end, which must not fail, only queues it.
      if (next == null) {
        next = newRunner();
      }
      return;
    }
    if (r != null) {
      // Still queued or running: it goes on, never doubled. If it had been stopped, its grid
      // restarts at once, as start() promises; a runner asleep until its old target wakes now.
      if (wasStopped) {
        restart = true;
        if (!running) {
          Traps.wakeEarly(r);
        }
      }
      return;
    }
    launch(newRunner(), firstTarget, pastTheEnd);
  }

  /** The schedule's task, not yet queued. */
  private Task<Void> newRunner() {
    Task<Void> t;
    if (callback) {
      t = loop.newTask(name, body); // never called as a task's body: see runTurn
      t.runsInline = true;
    } else {
      t = loop.newTask(name, (TaskBody) this::runLoop);
    }
    t.onEnd(this::runnerEnded);
    t.schedule(this);
    return t;
  }

  private void launch(Task<Void> t, long firstTarget, boolean pastTheEnd) {
    stopped = false; // (an old runner that ended at the end of the clock may have set it)
    target = firstTarget;
    targetPastTheEnd = pastTheEnd;
    yieldFirst = false;
    runner = t;
    loop.runner.enqueue(t, firstTarget == AT_FIRST_TURN ? Runner.START_NOW : firstTarget);
  }

  /**
   * The runner's end hook, on the loop as the task ends, where an error (out of memory) would end
   * the task's thread while it holds the processor: so a runner that follows it was made
   * beforehand, and the hook only queues it (which allocates only if the ready queue must grow, or
   * to log with tracing on).
   */
  private void runnerEnded() {
    runner = null;
    Task<Void> t = next;
    next = null;
    if (t != null && !loop.shutdownControl.isRequested()) {
      launch(t, AT_FIRST_TURN, /* pastTheEnd= */ false); // a start() that came after cancel()
    } else {
      stopped = true; // also when the task ended by cancel() or an Error
    }
  }

  private void stopOnLoop() {
    stopped = true;
    next = null;
    Task<Void> r = runner;
    if (r != null && !running) {
      Traps.wakeEarly(r); // between runs: end now rather than at the next target
    }
  }

  /** What the runner does next; see {@link #nextStep}. */
  private static final int RUN = 0;
  private static final int SLEEP = 1;
  private static final int YIELD = 2;
  private static final int END = 3;

  /**
   * The schedule's recurrence, as one step of its runner at {@code now}: end once stopped; a
   * restart (a start() after a stop()) moves the grid to now; sleep until a target still ahead;
   * end at the end of the clock if the target lies past it; yield once before a run that is late;
   * otherwise run. Shared by the two runners, a task's thread ({@link #runLoop}) and a callback
   * schedule's turns ({@link #runTurn}).
   */
  private int nextStep(long now) {
    if (stopped) {
      return END;
    }
    if (target == AT_FIRST_TURN) {
      target = now;
    }
    if (restart) {
      restart = false;
      target = now;
      targetPastTheEnd = false;
    }
    if (target > now) {
      return SLEEP; // woken early by stop() or start(): the next step re-checks
    }
    if (targetPastTheEnd) {
      // The clock is at its end, and the target lies beyond: no later time exists, so no run
      // ever comes. Stop, as a schedule whose next target lies there does after its run.
      stopped = true;
      return END;
    }
    if (yieldFirst) {
      yieldFirst = false;
      return YIELD;
    }
    return RUN;
  }

  /** Runs the body once, late by {@code now - target}, then moves to the next target. */
  private void runAndAdvance(Task<?> self, long now) {
    long start = now;
    runOnce(self, start - target);
    if (stopped || restart) {
      // Stopped, or started again, during the run: no target of this grid is due any more, so
      // none is skipped, however long the run took. The next step ends the task, or restarts the
      // grid after one yield, so that the others get a turn (a body that stops and starts its own
      // schedule must not hog the loop).
      yieldFirst = restart;
      return;
    }
    now = loop.nanoTime();
    long previous = target;
    target = nextTarget(target, start, now);
    if (target <= previous || Long.MAX_VALUE - previous < rate.intervalNanos()) {
      // The next target lies past the end of the clock (Long.MAX_VALUE), where a deadline
      // saturates: a run there would be off the grid, and once the clock is there, a run due at
      // once after every run would take the processor for good.
      stopped = true;
    }
    // Late: the next run comes after one yield, so the others get a turn.
    yieldFirst = target <= now;
  }

  /**
   * Where the run after the one this schedule's task is woken for falls if that run ends in time:
   * one interval after its target (a guess when the task is woken for something else, a sleep or
   * a yield in its body or a restart; the driver's hand-back check makes a wrong guess cost at
   * most one wake-up). {@link #NO_TARGET} before the first turn and once stopped. For the loop's
   * driving thread, which may sleep until then while the task runs (see
   * Runner.runUntilDriverTurn); a callback schedule's task is never handed the baton. On the loop.
   */
  long followingTarget() {
    long t = target;
    if (stopped || t == AT_FIRST_TURN) {
      return NO_TARGET;
    }
    return Durations.saturatedAdd(t, rate.intervalNanos()); // above NO_TARGET: t is above it
  }

  /** The body of the schedule's task. */
  private void runLoop() {
    Task<?> self = DrivenLoops.currentTask();
    for (;;) {
      long now = loop.nanoTime();
      switch (nextStep(now)) {
        case END -> {
          return;
        }
        case SLEEP -> Traps.sleepUntil(self, target);
        case YIELD -> Traps.yieldNow(self);
        default -> runAndAdvance(self, now);
      }
    }
  }

  /**
   * The target after {@code target}, once its run, started at {@code start}, is over at
   * {@code now}: one interval on; or, if that lies two intervals or more in the past, a later one
   * (the targets passed over are skipped and counted). If the run started late (the loop was held
   * up, or its clock jumped) and was short, it was itself the catch-up run: the next is the first
   * target of the same grid at least one interval after its start, so no second run comes at
   * once and the runs and skipped targets still add up to the targets passed. Otherwise the run
   * took that long, and the grid restarts now, with a run at once in place of the last target
   * missed.
   */
  private long nextTarget(long target, long start, long now) {
    long interval = rate.intervalNanos();
    long next = Durations.saturatedAdd(target, interval);
    long behind = now - next;
    if (behind > 0 && behind / interval >= 2) { // (no 2 * interval: it could overflow)
      if (Long.MAX_VALUE - start < interval) {
        // Resuming one interval after this run's start lies past the end of the clock.
        skip(behind / interval, behind);
        return PAST_THE_END;
      }
      long resume = start + interval;
      if (resume > now) {
        // The first target at or after resume: resume plus its distance to the grid.
        long toGrid = Math.floorMod(target - resume, interval);
        if (Long.MAX_VALUE - resume < toGrid) {
          skip(behind / interval, behind);
          return PAST_THE_END;
        }
        long onGrid = resume + toGrid;
        skip((onGrid - next) / interval, behind);
        return onGrid;
      }
      skip(behind / interval, behind); // the run at once stands for the last one missed
      return now;
    }
    return next;
  }

  private void skip(long targets, long behindNanos) {
    skippedRuns += targets;
    recentSkippedRuns.addAndGet(targets);
    Flight.scheduleSkipped(loop.name(), name, targets, behindNanos);
  }

  /**
   * One turn of a callback schedule's task, which the loop runs on the thread that holds the
   * processor (see Runner.runInline): what {@link #runLoop} does between two suspensions, with
   * the task's place (its timer, or the ready queue) in the place of a parked thread. Ends the
   * task as runLoop would end: normally once stopped, or with an Error or the cancellation of a
   * cancelled schedule.
   */
  void runTurn(Task<?> self) {
    Runner r = loop.runner;
    try {
      if (self.cancelRequested) {
        throw self.cancelled(); // as runLoop's sleep or yield throws when it wakes
      }
      for (;;) {
        long now = loop.nanoTime();
        int step = nextStep(now);
        if (step == END) {
          end(self, null);
          return;
        }
        if (step == RUN) {
          self.setState(Task.State.RUNNING);
          runAndAdvance(self, now);
          continue;
        }
        if (self.cancelRequested) {
          throw self.cancelled(); // as runLoop's sleep or yield throws before it parks
        }
        if (step == SLEEP) {
          r.timers.add(self, target);
          self.waitSince = r.passNow;
          self.setState(Task.State.WAITING);
        } else {
          r.makeReady(self); // the yield: the next run waits for the others' turns
        }
        return;
      }
    } catch (Throwable e) {
      end(self, e);
    }
  }

  private void end(Task<?> self, Throwable thrown) {
    self.endInline(thrown);
    loop.runner.retire(self);
  }

  private void runOnce(Task<?> self, long latenessNanos) {
    Timeline timeline = loop.runner.timeline();
    if (timeline != null) {
      timeline.scheduledRun(self, loop.nanoTime(), latenessNanos);
    }
    lateness.record(latenessNanos);
    recentLateness.record(latenessNanos);
    runs++;
    recentRuns.incrementAndGet();
    running = true;
    try {
      Throwable failure = runBody(self);
      if (failure != null) {
        loop.runner.reportFailure(self, failure);
      }
    } finally {
      running = false;
    }
  }

  /**
   * Runs the body once and closes the leases the run forgot. Returns what the run's failure handler
   * should get, or null; throws what ends the schedule's task: an {@link Error}, from the body or
   * from an onRelease, or the cancellation of a cancelled schedule. Those leave the run's leases to
   * the task's end, which closes them the same way and fails the task with what onRelease throws.
   */
  private Throwable runBody(Task<?> self) {
    int leaseMark = self.leaseMark();
    Throwable failure = null;
    try {
      body.run();
    } catch (Error e) {
      throw e;
    } catch (CancellationException e) {
      if (self.isCancelled()) {
        throw e;
      }
      failure = e;
    } catch (Throwable e) {
      failure = e;
    }
    // A run's leases are the run's: one that throws between acquire and close must not keep the
    // resource from other tasks, nor from the schedule's own next run. An onRelease that throws
    // fails the run, as it fails a task that ends holding a lease.
    if (self.leaseMark() > leaseMark) {
      Throwable released = self.releaseLeasesSince(leaseMark,
          "run of schedule '" + name + "' of task '" + self.name() + "'");
      if (released instanceof Error e) {
        if (failure != null && failure != e && !Failures.suppressInto(e, failure)) {
          self.loop.runner.reportFailure(self, failure); // the error takes none: not lost
        }
        throw e;
      }
      if (released != null) {
        if (failure == null) {
          failure = released;
        } else if (failure != released && !Failures.suppressInto(failure, released)) {
          self.loop.runner.reportFailure(self, released); // the run's failure takes none
        }
      }
    }
    return failure;
  }

  @Override
  public String toString() {
    return "ScheduledTask[" + name + ", " + rate + (stopped ? ", stopped" : "")
        + (running ? ", running" : "") + "]";
  }
}
