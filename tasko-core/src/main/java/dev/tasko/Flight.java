package dev.tasko;

/**
 * The loop's JDK Flight Recorder events, behind one guard: {@code jdk.jfr} is an optional module
 * ({@code requires static}), absent from a JRE image made by jlink without it. {@link #PRESENT}
 * is decided once, from the boot layer; while it is false, no class of {@code jdk.jfr} (nor
 * {@link FlightEvents}, which names them) is ever loaded, and every method here returns at once.
 * While it is true, nothing of JFR is touched either until the recorder itself starts (a
 * {@code -XX:StartFlightRecording}, a {@code jcmd JFR.start}, a {@code Recording} started in the
 * program): the first loop driven only adds a listener that learns of it, so a program that never
 * records loads no event class and pays no start-up for JFR. Until then each event costs a read
 * of {@link #recorderUp}; after, what JFR's own {@code isEnabled()} costs.
 *
 * <p>Events are named {@code dev.tasko.*}; {@code tasko.jfc} in the repository enables them.
 */
final class Flight {
  /** Whether {@code jdk.jfr} is in the boot layer: the only way a JFR class may be loaded. */
  static final boolean PRESENT = ModuleLayer.boot().findModule("jdk.jfr").isPresent();

  /** Set once the flight recorder has started: before, no recording can want an event. */
  static volatile boolean recorderUp;
  private static volatile boolean watching;

  private Flight() {}

  /**
   * Watches for the recorder's start, once, from the first loop driven; the periodic loop
   * summary is registered then.
   */
  static void loopDriven() {
    if (PRESENT && !watching) {
      watching = true; // a second listener from a racing loop would be harmless
      FlightEvents.watchRecorder();
    }
  }

  static void stall(String loop, String task, long heldNanos, String at) {
    if (recorderUp) {
      FlightEvents.stall(loop, task, heldNanos, at);
    }
  }

  static void scheduleSkipped(String loop, String schedule, long skipped, long behindNanos) {
    if (recorderUp) {
      FlightEvents.scheduleSkipped(loop, schedule, skipped, behindNanos);
    }
  }

  static void taskFailed(String loop, String task, Throwable failure) {
    if (recorderUp) {
      FlightEvents.taskFailed(loop, task, failure);
    }
  }

  static void deadlock(String loop, int tasks, String report) {
    if (recorderUp) {
      FlightEvents.deadlock(loop, tasks, report);
    }
  }

  static void leaseHoldLimit(String loop, String resource, String handle, String task,
      long heldNanos, long limitNanos, String waiters) {
    if (recorderUp) {
      FlightEvents.leaseHoldLimit(loop, resource, handle, task, heldNanos, limitNanos, waiters);
    }
  }

  /** Begins a lease wait event; null (nothing to end) when no recording wants it. */
  static Object beginLeaseWait() {
    return recorderUp ? FlightEvents.beginLeaseWait() : null;
  }

  /** Ends what {@link #beginLeaseWait()} began; does nothing for null. */
  static void endLeaseWait(Object event, String loop, String resource, String handle,
      String task) {
    if (event != null) {
      FlightEvents.endLeaseWait(event, loop, resource, handle, task);
    }
  }

  /** Begins a lease hold event; null when no recording wants it. */
  static Object beginLeaseHold() {
    return recorderUp ? FlightEvents.beginLeaseHold() : null;
  }

  /** Ends what {@link #beginLeaseHold()} began; does nothing for null. */
  static void endLeaseHold(Object event, String loop, String resource, String handle,
      String task) {
    if (event != null) {
      FlightEvents.endLeaseHold(event, loop, resource, handle, task);
    }
  }
}
