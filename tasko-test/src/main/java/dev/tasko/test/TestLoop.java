package dev.tasko.test;

import dev.tasko.Loop;
import dev.tasko.ManualTicker;
import dev.tasko.Task;
import dev.tasko.TaskFailedException;
import dev.tasko.Tasko;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A {@link Loop} on virtual time for tests, with the helpers to drive it: {@link #runFor},
 * {@link #runUntilIdle()} and {@link #advanceBy}. An hour of schedules runs in milliseconds, the
 * same way every time.
 *
 * <pre>{@code
 * class BlinkerTest {
 *   @RegisterExtension final TestLoop test = new TestLoop();
 *
 *   @Test
 *   void blink_twoSeconds_togglesAtEveryHalfSecond() {
 *     Blinker blinker = new Blinker(test.loop());        // schedules a toggle every 500 ms
 *     test.runFor(Duration.ofSeconds(2));
 *     assertThat(blinker.toggles()).isEqualTo(5);        // at 0, 0.5, 1, 1.5 and 2 s
 *     blinker.stop();                                     // leave nothing running
 *     test.runUntilIdle();
 *   }
 * }
 * }</pre>
 *
 * <h2>What the test must leave behind</h2>
 * After each test (registered as an instance field with {@code @RegisterExtension}, or handed to
 * the test by {@link TaskoExtension}), {@link #verify()} fails the test if
 * <ul>
 *   <li>tasks are still unfinished — a schedule never cancelled, a task waiting for something that
 *       never came — naming each one and its state; they are then cancelled, so that their
 *       threads end. A test of a program meant to run forever ends it with {@link #cancelAll()};
 *   <li>a task failed and nobody observed it: nobody {@linkplain Task#join() joined} the task, and
 *       the test did not {@linkplain #takeFailures() take} the failure. The failures are attached
 *       to the test's error.
 * </ul>
 * A failing task does not stop the loop here (unlike {@link Loop#create()}'s default): the other
 * tasks go on, and the test decides what the failure means.
 *
 * <h2>Virtual time</h2>
 * The loop starts at {@link #now()} zero and its clock moves only while these helpers run: to the
 * next deadline whenever no task is ready (as {@link Loop.Builder#virtualTime()} does), or by
 * {@link #advanceBy}. Nothing here sleeps in real time.
 *
 * <h2>Threads</h2>
 * The helpers drive the loop on the calling thread, the test's, and return once the loop has
 * nothing more to do for now: call them from the test, never from a task nor from a task's
 * {@link Tasko#blocking} work (they throw {@link IllegalStateException} there). Tasks may still be
 * resumed or added from other threads (a Pi4J listener, say); such work runs at the next helper
 * call.
 */
public final class TestLoop implements AfterEachCallback {
  /**
   * How many passes {@link #runUntilIdle()} runs before it decides the loop will never be idle:
   * far more than any program needs at one instant, few enough to end a test in well under a
   * second.
   */
  static final int MAX_PASSES_AT_ONE_INSTANT = 100_000;
  /** How many rounds of new tasks {@link #cancelAll()} cancels before it gives up. */
  static final int MAX_CANCEL_ROUNDS = 1_000;
  /**
   * How long, in real time, {@link #cancelAll()} and {@link #verify()} wait for the blocking work
   * of a cancelled task to end once interrupted: at once for work that heeds the interrupt, which
   * may still take a moment on its own thread; work that ignores it is not waited for longer.
   */
  static final long BLOCKING_WORK_GRACE_NANOS = 5_000_000_000L;

  private final ManualTicker clock = new ManualTicker();
  private final Loop loop;
  /** Failures nobody observed yet; added by the loop's tasks, taken by the test's thread. */
  private final List<TaskFailedException> unobserved = new ArrayList<>();
  /**
   * Moved on by {@link #verify()} when another thread still drives the loop after the test has
   * ended (a test that timed out on a thread of its own, which JUnit leaves running): a
   * {@link #runFor} begun before gives up once the loop's run() returns, so that the loop can be
   * checked and its tasks cancelled. One begun later is not affected.
   */
  private volatile int abandonments;
  /**
   * The task {@link #runFor} adds to stop the loop at its end, while it runs; else null. A test
   * that timed out on a thread of its own may leave it behind for a moment: verify() is not to
   * count it among the test's tasks.
   */
  private volatile Task<Void> runForAlarm;

  /** A loop on virtual time named {@code "test"}. */
  public TestLoop() {
    this("test");
  }

  /**
   * A loop on virtual time with this name (it shows in thread names and messages).
   *
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public TestLoop(String name) {
    this.loop = Loop.builder()
        .name(Objects.requireNonNull(name, "name == null"))
        .ticker(clock)
        .virtualTime()
        .failureHandler(this::failed)
        .build();
  }

  /** The loop: add the tasks under test to it, or hand it to the code under test. */
  public Loop loop() {
    return loop;
  }

  /** How much virtual time has passed since this loop was made. May be called from any thread. */
  public Duration now() {
    return Duration.ofNanos(clock.read());
  }

  /**
   * Runs the loop until its clock has moved {@code duration} forward: every task and timer due by
   * then runs, in order, at its own virtual time, and so does whatever is ready at the end. The
   * clock then reads exactly {@code now() + duration}, even if every task finished earlier. A
   * {@link Loop#stop()} from a task does not cut it short.
   *
   * <p>To reach the end, it adds a task of its own, named {@code "runFor"}, that sleeps until then;
   * it counts in {@link Loop#taskCount()} while this method runs, and is gone when it returns. A
   * program that cancels it (one that cancels every task but its own) does not cut this method
   * short either: another takes its place.
   *
   * <p>A task that keeps the loop busy without ever sleeping (it yields in a loop), or
   * {@link Tasko#blocking} work that never ends, keeps virtual time from moving, so this method
   * would not return; the test's timeout ends it: interrupted (JUnit's {@code @Timeout}
   * interrupts the test's thread), it throws, naming the tasks, and leaves the interrupt set.
   *
   * @throws NullPointerException if {@code duration} is null
   * @throws IllegalArgumentException if {@code duration} is negative, or would take the clock past
   *     {@code Long.MAX_VALUE} nanoseconds (about 292 years)
   * @throws IllegalStateException if called from a task or a task's blocking work, after the
   *     loop's shutdown, or while another thread drives the loop, or if the calling thread is
   *     interrupted before the end
   */
  public void runFor(Duration duration) {
    requireNotFromATask("runFor");
    if (loop.isShutdown()) { // the loop's own message would speak of the task runFor adds
      throw new IllegalStateException("runFor() of loop '" + loop.name()
          + "' after shutdown(): a loop that is shut down runs no more");
    }
    requireNotNegative(duration);
    requireFits(duration);
    requireNotDriven("runFor");
    if (duration.isZero()) {
      runUntilIdle();
      return;
    }
    int abandonedBefore = abandonments;
    long end = clock.read() + duration.toNanos();
    Task<Void> alarm = loop.runLater("runFor", duration, loop::stop);
    runForAlarm = alarm;
    try {
      for (;;) {
        while (!alarm.isDone()) {
          loop.run(); // returns at the alarm's stop(), or earlier at a stop() of the program's own
          boolean abandoned = abandonments != abandonedBefore;
          if (Thread.currentThread().isInterrupted() || abandoned) {
            Task<Void> own = alarm;
            throw new IllegalStateException("runFor(" + duration + ") of loop '" + loop.name()
                + "' " + (abandoned ? "given up, the test having ended," : "interrupted")
                + " at " + now() + " (a task that never sleeps, or blocking work that never ends,"
                + " keeps virtual time still?); tasks: "
                + describe(loop.tasks().stream().filter(t -> t != own).toList()));
          }
        }
        long left = end - clock.read();
        if (left <= 0) {
          break;
        }
        // Cancelled by the program (a supervisor that cancels every task but itself): another
        // takes its place, so that the clock still reaches the end.
        alarm = loop.runLater("runFor", Duration.ofNanos(left), loop::stop);
        runForAlarm = alarm;
      }
    } finally {
      alarm.cancel(); // thrown or interrupted: the loop keeps no task of this method's
      runForAlarm = null;
    }
    runUntilIdle();
  }

  /**
   * Throws, naming {@code op}, if another thread drives the loop: before anything changes (the
   * loop's own message would name the call this makes of it).
   */
  private void requireNotDriven(String op) {
    try {
      loop.tasks(); // refused while another thread drives the loop
    } catch (IllegalStateException driven) {
      throw new IllegalStateException(op + "() of loop '" + loop.name() + "' while another thread"
          + " drives it: call it from the test's own thread, once that thread's runFor() has"
          + " returned", driven);
    }
  }

  /**
   * Throws, naming {@code op}, if a task calls it (the loop's own message would name run()), or a
   * task's {@link Tasko#blocking} work: that task waits for the work to end, so the work must not
   * drive the loop either. Run from the work while the test's {@link #runFor} drives the loop, a
   * helper would else be refused as if another test's thread drove it, or, for {@link #verify()},
   * make that runFor give up, as after a test that timed out; run while nothing drives it, it
   * would run the loop, move the clock or cancel tasks behind the test's back.
   */
  private static void requireNotFromATask(String op) {
    Task<?> calling = Tasko.currentTask();
    if (calling != null) {
      throw new IllegalStateException(op + "() called from task '" + calling.name() + "' of loop '"
          + calling.loop().name() + "': call it from the test's own code, which drives the loop");
    }
    Task<?> working = Tasko.currentBlockingWorkTask();
    if (working != null) {
      throw new IllegalStateException(op + "() called from the blocking work of task '"
          + working.name() + "' of loop '" + working.loop().name() + "', which waits for the"
          + " work to end: call it from the test's own code, which drives the loop");
    }
  }

  /**
   * Whether the loop's tasks differ from {@code tasks} in {@code states} (one added or ended, or in
   * another state), or one is ready: a callback schedule's run is not a switch, so a pass with
   * only those may have readied a task (a channel's reader), added one, or readied the schedule
   * itself for a catch-up run. A task not started yet is no sign of work by itself: it may wait
   * for its {@code runLater} delay.
   */
  private boolean changedOrReady(List<Task<?>> tasks, List<Task.State> states) {
    List<Task<?>> now = loop.tasks();
    if (now.size() != tasks.size()) {
      return true;
    }
    for (int i = 0; i < now.size(); i++) {
      Task.State s = now.get(i).state();
      if (now.get(i) != tasks.get(i) || s != states.get(i) || s == Task.State.READY) {
        return true;
      }
    }
    return false;
  }

  /**
   * Runs the loop, without moving its clock, until no task is ready and no timer is due: every
   * task added or woken so far has run up to its next wait. Work a task hands to
   * {@link Tasko#blocking} is not waited for (its task stays waiting for it, on another thread);
   * {@link #runFor} with a positive duration waits for it, as the loop's {@code run()} does
   * ({@code runFor(Duration.ZERO)} is this method).
   *
   * @throws IllegalStateException if tasks are still ready after a great many passes (they yield
   *     to each other in a loop without ever waiting), naming them; or if called from a task or
   *     a task's blocking work, or while another thread drives the loop
   */
  public void runUntilIdle() {
    requireNotFromATask("runUntilIdle");
    requireNotDriven("runUntilIdle");
    for (int pass = 0; pass < MAX_PASSES_AT_ONE_INSTANT; pass++) {
      long switches = loop.stats().switches();
      List<Task<?>> tasks = loop.tasks();
      List<Task.State> states = tasks.stream().map(Task::state).toList();
      loop.step();
      if (loop.stats().switches() == switches && !changedOrReady(tasks, states)) {
        return; // a pass in which nothing ran, nor changed: nothing was ready or due
      }
    }
    throw new IllegalStateException("loop '" + loop.name() + "' still busy at " + now() + " after "
        + MAX_PASSES_AT_ONE_INSTANT + " passes: some task yields forever without waiting; tasks: "
        + describe(loop.tasks()));
  }

  /**
   * Moves the clock {@code duration} forward in one jump, as if the loop's thread had been held up
   * that long, then {@linkplain #runUntilIdle() runs until idle}: every timer that fell due
   * meanwhile runs now, late, in deadline order, and schedules see the lateness (a schedule's
   * catch-up runs each come after one yield, so after the timers due before their turn; and skip
   * runs as {@link dev.tasko.ScheduledTask} says). To let time pass with every task running on
   * time, use {@link #runFor} instead.
   *
   * @throws NullPointerException if {@code duration} is null
   * @throws IllegalArgumentException if {@code duration} is negative, or would take the clock past
   *     {@code Long.MAX_VALUE} nanoseconds (about 292 years)
   * @throws IllegalStateException as {@link #runUntilIdle()} does
   */
  public void advanceBy(Duration duration) {
    requireNotFromATask("advanceBy"); // before the clock moves: a refused call changes nothing
    requireNotNegative(duration);
    requireNotDriven("advanceBy");
    clock.advance(duration); // refuses, naming it, a duration that would pass Long.MAX_VALUE
    runUntilIdle();
  }

  /**
   * Cancels every unfinished task and runs the loop until idle, so that the cancellations take
   * effect: the end of a test of a program meant to run forever, as its shutdown would be. Tasks
   * that the cancelled ones start on their way out (a {@code finally} that adds a task, a schedule
   * started again) are cancelled in turn, until every task left has been cancelled. Like any
   * cancellation, it cannot end a task that catches the {@link
   * java.util.concurrent.CancellationException} and goes on; {@link #verify()} then names it.
   * A cancelled task in {@link Tasko#blocking} work ends once the interrupted work has ended, on
   * the work's own thread: that end is waited for, a few seconds of real time at most, without
   * moving the clock.
   * Tasks and schedules the test added since the loop last ran are taken in first, which runs
   * each until it first waits, as the loop lists a task only once it has taken it in.
   *
   * @return the tasks that were cancelled, oldest first
   * @throws IllegalStateException as {@link #runUntilIdle()} does, or if the tasks it cancels go
   *     on starting new ones after a great many rounds, naming them
   */
  public List<Task<?>> cancelAll() {
    requireNotFromATask("cancelAll"); // before anything is cancelled
    List<Task<?>> cancelled = new ArrayList<>();
    Set<Task<?>> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (int round = 0; round < MAX_CANCEL_ROUNDS; round++) {
      if (loop.tasks().size() < loop.taskCount()) {
        // Added from outside since the loop last ran (by the test itself): the loop lists a task
        // only once it has taken it in, at its next pass, so that pass comes first.
        runUntilIdle();
      }
      List<Task<?>> fresh = new ArrayList<>(loop.tasks());
      fresh.removeIf(t -> !seen.add(t)); // cancelled in an earlier round: once is enough
      if (fresh.isEmpty()) {
        return cancelled;
      }
      fresh.forEach(Task::cancel);
      cancelled.addAll(fresh);
      runUntilInterruptedWorkEnded();
    }
    throw new IllegalStateException("cancelAll() of loop '" + loop.name() + "': the tasks it "
        + "cancelled still start new ones after " + MAX_CANCEL_ROUNDS + " rounds; tasks: "
        + describe(loop.tasks()));
  }

  /**
   * The failures of tasks that nobody joined, oldest first, each naming its task with the original
   * exception as its cause; taking them counts as observing them, so {@link #verify()} no longer
   * fails for them. A failure that a join has thrown since the task failed (a test that joins the
   * task after running the loop) is observed already, and left out. May be called from any
   * thread.
   */
  public List<TaskFailedException> takeFailures() {
    synchronized (unobserved) {
      List<TaskFailedException> taken = unobserved.stream().filter(f -> !joinedSince(f)).toList();
      unobserved.clear();
      return taken;
    }
  }

  /**
   * Whether a join has thrown this very failure since the handler was given it: the task's final
   * one. A task may have been reported more than once (a schedule's failing runs, say), and only
   * the failure it ended with is what a join throws.
   */
  private static boolean joinedSince(TaskFailedException reported) {
    Task<?> t = reported.task();
    if (!t.isFailureJoined()) {
      return false;
    }
    try {
      t.join(); // ended: returns or throws at once, and marks nothing a join had not marked
      return false;
    } catch (TaskFailedException joined) {
      return joined.getCause() == reported.getCause();
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Checks that the test left the loop clean: no task unfinished and no failure unobserved (see the
   * class comment). It first runs the loop until idle, without moving its clock, so that what the
   * test did last from outside the loop (a {@link Task#cancel()}, a schedule's stop) takes effect;
   * a task added after the loop last ran is reported even if it then ends; a task cancelled in
   * {@link Tasko#blocking} work is given the time its interrupted work takes to end, as
   * {@link #cancelAll()} gives it. Unfinished tasks are
   * cancelled and the loop is run until idle, so that their threads end, before this throws. If
   * another thread still drives the loop (a test that timed out on a thread of its own), its
   * {@link #runFor} is made to give up, and waited for a few seconds. Called after each test by
   * JUnit; call it yourself when using a {@code TestLoop} without JUnit.
   *
   * @throws AssertionError naming the unfinished tasks, each with its state and what it waits for,
   *     counting the tasks added after the loop last ran (those still unfinished then are named
   *     with the others: the loop knows a task only once it has taken it in), and naming the
   *     unobserved failures (attached as
   *     suppressed exceptions, the first also as the cause); or if another thread drives the loop
   *     for good
   * @throws IllegalStateException if called from a task or a task's blocking work
   */
  public void verify() {
    requireNotFromATask("verify"); // before anything is run or cancelled
    List<Task<?>> live = tasksOnceNotDriven();
    int notTakenIn = loop.taskCount() - live.size();
    Task<Void> alarm = runForAlarm;
    if (alarm != null) {
      // Left by a runFor() that timed out on a thread of its own and has not yet taken it back:
      // this class's task, not the test's.
      alarm.cancel();
    }
    // What the test did last from outside the loop (a cancel, a stop) takes effect at the loop's
    // next pass: run it, at the same instant, before anything is counted as left behind.
    runQuietly();
    List<Task<?>> left = loop.tasks().stream().filter(t -> t != alarm).toList();
    List<TaskFailedException> failures = takeFailures();
    if (left.isEmpty() && failures.isEmpty() && notTakenIn <= 0) {
      return;
    }
    StringBuilder message = new StringBuilder("loop '").append(loop.name()).append("' at ")
        .append(now()).append(':');
    if (!left.isEmpty()) {
      message.append("\n  ").append(left.size()).append(" task(s) still unfinished, now cancelled"
          + " (cancel them, or let them end, before the test does): ").append(describe(left));
    }
    if (notTakenIn > 0) {
      message.append("\n  ").append(notTakenIn).append(" task(s) or schedule(s) added after the"
          + " loop last ran, so the test never ran them (run the loop after adding them, or do not"
          + " add them); run now, after the test, then cancelled");
    }
    if (!failures.isEmpty()) {
      message.append("\n  ").append(failures.size()).append(" task failure(s) nobody observed"
          + " (join the task, or check takeFailures()):");
      for (TaskFailedException f : failures) {
        message.append("\n    '").append(f.task().name()).append("' threw ").append(f.getCause());
      }
    }
    cancelAll(left);
    AssertionError error = failures.isEmpty()
        ? new AssertionError(message.toString())
        : new AssertionError(message.toString(), failures.get(0));
    failures.forEach(error::addSuppressed);
    throw error;
  }

  /** JUnit's hook: {@link #verify()} after each test. */
  @Override
  public void afterEach(ExtensionContext context) {
    verify();
  }

  @Override
  public String toString() {
    return "TestLoop[" + loop.name() + " at " + now() + ", tasks=" + loop.taskCount() + "]";
  }

  /** The loop's failure handler: keep the failure for the test, and let the loop go on. */
  private void failed(Task<?> task, Throwable failure) {
    synchronized (unobserved) {
      unobserved.add(new TaskFailedException(task, failure));
    }
  }

  /**
   * Cancels what a test left running and lets the cancellations take effect. A task that swallows
   * its cancellation and goes on is left alone: the test has failed already, and says why.
   */
  private void cancelAll(List<Task<?>> left) {
    left.forEach(Task::cancel);
    try {
      cancelAll(); // and, round after round, what those start on their way out
    } catch (IllegalStateException stillBusy) {
      // reported through the assertion error's list of unfinished tasks
    }
    takeFailures(); // what the cancelled tasks threw on their way out is no news
  }

  /**
   * Runs until idle; then, while a cancelled task still waits for its interrupted blocking work to
   * end, which happens on the work's own thread and so may not have happened yet, waits for that
   * end and runs until idle again, so that the cancellation takes effect as for any other task.
   * Polls: the loop offers no way to wait for an outside wake-up without moving a virtual clock.
   */
  private void runUntilInterruptedWorkEnded() {
    runUntilIdle();
    long deadline = System.nanoTime() + BLOCKING_WORK_GRACE_NANOS;
    while (loop.tasks().stream().anyMatch(TestLoop::waitsForInterruptedWork)
        && System.nanoTime() - deadline < 0) {
      LockSupport.parkNanos(1_000_000);
      runUntilIdle();
    }
  }

  /** Whether {@code t} was cancelled while in blocking work, and waits for the work to end. */
  private static boolean waitsForInterruptedWork(Task<?> t) {
    // Task.toString() is "Task[<name> WAITING for blocking work (interrupted; ...)]"
    return t.isCancelled() && t.state() == Task.State.WAITING
        && t.toString().startsWith("Task[" + t.name() + " WAITING for blocking work");
  }

  /**
   * {@link #runUntilInterruptedWorkEnded()}, for the check after a test, which reports what is left
   * itself.
   */
  private void runQuietly() {
    try {
      runUntilInterruptedWorkEnded();
    } catch (IllegalStateException stillBusy) {
      // reported through the assertion error's list of unfinished tasks
    }
  }

  /**
   * The loop's tasks, once no other thread drives it: a test that timed out on a thread of its
   * own may still be driving it. That thread is asked to give up (it does at its next pass) and
   * waited for, a few seconds at most.
   */
  private List<Task<?>> tasksOnceNotDriven() {
    long deadline = System.nanoTime() + 5_000_000_000L;
    for (;;) {
      try {
        return loop.tasks();
      } catch (IllegalStateException driven) {
        if (System.nanoTime() - deadline > 0) {
          throw new AssertionError("loop '" + loop.name() + "' is still driven by another thread"
              + " after the test ended (a test that timed out on a thread of its own?)", driven);
        }
        abandonments++; // only this thread writes it
        loop.stop();
        LockSupport.parkNanos(1_000_000);
      }
    }
  }

  /** Each task's name and state, and what it waits for: {@code 'fan' (WAITING for ...)}. */
  private static String describe(List<Task<?>> tasks) {
    StringBuilder s = new StringBuilder();
    for (Task<?> t : tasks) {
      // Task.toString() is "Task[<name> <state>< for what it waits>]"
      String shown = t.toString();
      String detail = shown.startsWith("Task[" + t.name() + " ") && shown.endsWith("]")
          ? shown.substring(("Task[" + t.name() + " ").length(), shown.length() - 1)
          : String.valueOf(t.state());
      s.append(s.isEmpty() ? "" : ", ").append('\'').append(t.name()).append("' (")
          .append(detail).append(')');
    }
    return s.toString();
  }

  /** Rejects a duration that would take the clock past the end of a long of nanoseconds. */
  private void requireFits(Duration duration) {
    long now = clock.read();
    if (duration.compareTo(Duration.ofNanos(Long.MAX_VALUE - now)) > 0) {
      throw new IllegalArgumentException("duration would take the clock past Long.MAX_VALUE"
          + " nanoseconds: " + duration + " from " + now());
    }
  }

  private static void requireNotNegative(Duration duration) {
    Objects.requireNonNull(duration, "duration == null");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("duration < 0: " + duration);
    }
  }
}
