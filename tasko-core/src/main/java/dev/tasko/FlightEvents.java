package dev.tasko;

import java.util.Map;
import java.util.WeakHashMap;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Percentage;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * The JFR event types of the loop and how they are committed. Loaded only through
 * {@link Flight}, when {@code jdk.jfr} is present. Each event class is a nested class here: they
 * are one concept, the loop's flight recording, and share one category.
 */
final class FlightEvents {
  private static final String CATEGORY = "tasko";
  private static boolean summaryRegistered; // guarded by FlightEvents.class
  /** Each driven loop's counters at the last summary, to report the work since. */
  private static final Map<Loop, long[]> lastSummary = new WeakHashMap<>();

  private FlightEvents() {}

  @Name("dev.tasko.Stall")
  @Label("Task Stall")
  @Category(CATEGORY)
  @Description("A task held the processor past the stall threshold without suspending")
  @StackTrace(false) // committed by the loop's driving thread: its stack says nothing
  static final class StallEvent extends Event {
    @Label("Loop") String loop;
    @Label("Task") String task;
    @Label("Held") @Timespan(Timespan.NANOSECONDS) long held;
    @Label("At") @Description("The line of the program the task is on") String at;
  }

  @Name("dev.tasko.ScheduleSkip")
  @Label("Schedule Grid Reset")
  @Category(CATEGORY)
  @Description("A schedule fell two intervals or more behind: its grid was reset, runs skipped")
  static final class ScheduleSkipEvent extends Event {
    @Label("Loop") String loop;
    @Label("Schedule") String schedule;
    @Label("Skipped Runs") long skippedRuns;
    @Label("Behind")
    @Description("How far the end of the late run was past the target after its own")
    @Timespan(Timespan.NANOSECONDS) long behind;
  }

  @Name("dev.tasko.TaskFailure")
  @Label("Task Failure")
  @Category(CATEGORY)
  @Description("An exception escaped a task; committed before the failure handler runs")
  static final class TaskFailureEvent extends Event {
    @Label("Loop") String loop;
    @Label("Task") String task;
    @Label("Exception") String exception;
    @Label("Message") String message;
  }

  @Name("dev.tasko.Deadlock")
  @Label("Deadlock")
  @Category(CATEGORY)
  @Description("No task can ever run again: run() throws a DeadlockException")
  static final class DeadlockEvent extends Event {
    @Label("Loop") String loop;
    @Label("Stuck Tasks") int tasks;
    @Label("Report") String report;
  }

  @Name("dev.tasko.LeaseWait")
  @Label("Lease Wait")
  @Category(CATEGORY)
  @Description("A task waited for a managed resource held by another")
  static final class LeaseWaitEvent extends Event {
    @Label("Loop") String loop;
    @Label("Resource") String resource;
    @Label("Handle") String handle;
    @Label("Task") String task;
  }

  @Name("dev.tasko.LeaseHold")
  @Label("Lease Hold")
  @Category(CATEGORY)
  @Description("A task held a managed resource, from acquire() to close()")
  static final class LeaseHoldEvent extends Event {
    @Label("Loop") String loop;
    @Label("Resource") String resource;
    @Label("Handle") String handle;
    @Label("Task") String task;
  }

  @Name("dev.tasko.LeaseHoldLimit")
  @Label("Lease Over Hold Limit")
  @Category(CATEGORY)
  @Description("A lease was held past its resource's hold limit (reported once per lease)")
  @StackTrace(false) // committed by whichever task holds the processor: see the log for stacks
  static final class LeaseHoldLimitEvent extends Event {
    @Label("Loop") String loop;
    @Label("Resource") String resource;
    @Label("Handle") String handle;
    @Label("Task") String task;
    @Label("Held") @Timespan(Timespan.NANOSECONDS) long held;
    @Label("Limit") @Timespan(Timespan.NANOSECONDS) long limit;
    @Label("Waiters") String waiters;
  }

  @Name("dev.tasko.LoopSummary")
  @Label("Loop Summary")
  @Category(CATEGORY)
  @Description("A driven loop's work since the last summary")
  @Period("1 s")
  @StackTrace(false)
  static final class LoopSummaryEvent extends Event {
    @Label("Loop") String loop;
    @Label("Passes") long passes;
    @Label("Switches") long switches;
    @Label("Idle") @Percentage double idle;
    @Label("Tasks") int tasks;
  }

  /**
   * Learns when the recorder starts (at once if it has), without starting it: only then are the
   * event classes loaded and the periodic summary registered.
   */
  static void watchRecorder() {
    FlightRecorder.addListener(new FlightRecorderListener() {
      @Override
      public void recorderInitialized(FlightRecorder recorder) {
        registerSummary();
        Flight.recorderUp = true;
      }
    });
  }

  private static synchronized void registerSummary() {
    if (summaryRegistered) {
      return;
    }
    summaryRegistered = true;
    FlightRecorder.addPeriodicEvent(LoopSummaryEvent.class, FlightEvents::summarize);
  }

  /** Runs on JFR's periodic thread: reads each driven loop's counters (any thread may). */
  private static void summarize() {
    long now = System.nanoTime();
    synchronized (FlightEvents.class) {
      for (Runner r : DrivenLoops.all()) {
        Loop l = r.loop;
        Loop.Stats s = l.stats();
        // A loop no thread drove for a while (run() again after a pause) did nothing meanwhile.
        long idle = s.idleTime().toNanos() + r.undrivenNanos();
        long[] last = lastSummary.get(l);
        lastSummary.put(l, new long[] {now, s.passes(), s.switches(), idle});
        if (last == null) {
          // Its first summary: its work since it was first driven.
          last = new long[] {r.firstDrivenAt, 0, 0, 0};
        }
        LoopSummaryEvent e = new LoopSummaryEvent();
        e.loop = l.name();
        e.passes = s.passes() - last[1];
        e.switches = s.switches() - last[2];
        long span = now - last[0];
        e.idle = span <= 0 ? 0 : Math.min(1.0, (idle - last[3]) / (double) span);
        e.tasks = l.taskCount();
        e.commit();
      }
    }
  }

  static void stall(String loop, String task, long heldNanos, String at) {
    StallEvent e = new StallEvent();
    if (e.isEnabled()) {
      e.loop = loop;
      e.task = task;
      e.held = heldNanos;
      e.at = at;
      e.commit();
    }
  }

  static void scheduleSkipped(String loop, String schedule, long skipped, long behindNanos) {
    ScheduleSkipEvent e = new ScheduleSkipEvent();
    if (e.isEnabled()) {
      e.loop = loop;
      e.schedule = schedule;
      e.skippedRuns = skipped;
      e.behind = behindNanos;
      e.commit();
    }
  }

  static void taskFailed(String loop, String task, Throwable failure) {
    TaskFailureEvent e = new TaskFailureEvent();
    if (e.isEnabled()) {
      e.loop = loop;
      e.task = task;
      e.exception = Failures.typeName(failure);
      e.message = failure.getMessage();
      e.commit();
    }
  }

  static void deadlock(String loop, int tasks, String report) {
    DeadlockEvent e = new DeadlockEvent();
    if (e.isEnabled()) {
      e.loop = loop;
      e.tasks = tasks;
      e.report = report;
      e.commit();
    }
  }

  static void leaseHoldLimit(String loop, String resource, String handle, String task,
      long heldNanos, long limitNanos, String waiters) {
    LeaseHoldLimitEvent e = new LeaseHoldLimitEvent();
    if (e.isEnabled()) {
      e.loop = loop;
      e.resource = resource;
      e.handle = handle;
      e.task = task;
      e.held = heldNanos;
      e.limit = limitNanos;
      e.waiters = waiters;
      e.commit();
    }
  }

  static Object beginLeaseWait() {
    LeaseWaitEvent e = new LeaseWaitEvent();
    if (!e.isEnabled()) {
      return null;
    }
    e.begin();
    return e;
  }

  static void endLeaseWait(Object event, String loop, String resource, String handle,
      String task) {
    LeaseWaitEvent e = (LeaseWaitEvent) event;
    e.end();
    if (e.shouldCommit()) {
      e.loop = loop;
      e.resource = resource;
      e.handle = handle;
      e.task = task;
      e.commit();
    }
  }

  static Object beginLeaseHold() {
    LeaseHoldEvent e = new LeaseHoldEvent();
    if (!e.isEnabled()) {
      return null;
    }
    e.begin();
    return e;
  }

  static void endLeaseHold(Object event, String loop, String resource, String handle,
      String task) {
    LeaseHoldEvent e = (LeaseHoldEvent) event;
    e.end();
    if (e.shouldCommit()) {
      e.loop = loop;
      e.resource = resource;
      e.handle = handle;
      e.task = task;
      e.commit();
    }
  }
}
