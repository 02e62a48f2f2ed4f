package dev.tasko;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;

/**
 * A loop's counters, for {@link Loop#stats()}: passes, switches, the driving thread's idle time,
 * and hand-backs that left the driver asleep.
 *
 * <p>Written only by the baton holder, with opaque stores, and read from any thread with opaque
 * loads: a reader never sees a long half-written (as a plain long may be on a 32-bit JVM), and the
 * switch path pays no fence for it.
 */
final class Counters {
  private static final VarHandle PASSES;
  private static final VarHandle SWITCHES;
  private static final VarHandle IDLE_NANOS;
  private static final VarHandle QUIET_HAND_BACKS;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      PASSES = lookup.findVarHandle(Counters.class, "passes", long.class);
      SWITCHES = lookup.findVarHandle(Counters.class, "switches", long.class);
      IDLE_NANOS = lookup.findVarHandle(Counters.class, "idleNanos", long.class);
      QUIET_HAND_BACKS = lookup.findVarHandle(Counters.class, "quietHandBacks", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private long passes;
  private long switches;
  private long idleNanos;
  private long quietHandBacks;

  /** Counts a pass begun; returns its number. On the baton. */
  long passBegun() {
    long n = passes + 1;
    PASSES.setOpaque(this, n);
    return n;
  }

  /** Counts a hand-off of the processor. On the baton. */
  void switched() {
    SWITCHES.setOpaque(this, switches + 1);
  }

  /** Adds time the driving thread spent waiting. On the baton. */
  void idled(long nanos) {
    IDLE_NANOS.setOpaque(this, idleNanos + nanos);
  }

  /** Counts a hand-back that left the driver asleep. On the baton. */
  void quietHandBack() {
    QUIET_HAND_BACKS.setOpaque(this, quietHandBacks + 1);
  }

  /** Hand-backs that left the driver asleep so far. Any thread. */
  long quietHandBacks() {
    return (long) QUIET_HAND_BACKS.getOpaque(this);
  }

  /** The counters, each a value it really had. Any thread. */
  Loop.Stats stats() {
    return new Loop.Stats((long) PASSES.getOpaque(this), (long) SWITCHES.getOpaque(this),
        Duration.ofNanos((long) IDLE_NANOS.getOpaque(this)));
  }
}
