package dev.tasko;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * A loop's counters, for {@link Loop#stats()}: passes, switches, the driving thread's idle time,
 * and hand-backs that left the driver asleep.
 *
 * <p>Written by the baton holder and read from any thread. Every field is volatile, so a reader
 * never sees a long half-written (as a plain long may be on a 32-bit JVM). Passes and switches,
 * written on the switch path, take release stores through field updaters, which pay no fence (a
 * hand-off that fails takes its switch back with a volatile store, in place: see Runner#handTo).
 * The idle time (its total, and when the current idle period began) and the quiet hand-backs take
 * plain volatile stores, whose fence is nothing beside the park each of them comes with. A quiet
 * hand-back is counted just after the baton has gone back to the driver, so two of them may race
 * and one count be lost: that count is for tests only.
 *
 * <p>No VarHandles: compiled, a VarHandle store is the same as an updater's, but a loop that wakes
 * once a second runs this code in the interpreter for its first minutes, where each VarHandle call
 * goes through the JDK's method-handle machinery, cold at every wake-up (BENCHMARKS.md, run R).
 */
final class Counters {
  private static final AtomicLongFieldUpdater<Counters> PASSES =
      AtomicLongFieldUpdater.newUpdater(Counters.class, "passes");
  private static final AtomicLongFieldUpdater<Counters> SWITCHES =
      AtomicLongFieldUpdater.newUpdater(Counters.class, "switches");

  /** {@link #idleSince} while the driving thread is not idle. */
  static final long NOT_IDLE = Long.MIN_VALUE;

  private volatile long passes;
  /** Also taken back by a hand-off that failed, in place (see Runner#handTo): no call there. */
  volatile long switches;
  /** Idle periods that have ended, added up. */
  private volatile long idleNanos;
  /**
   * When the driving thread's current idle period began ({@code System.nanoTime()}), or
   * {@link #NOT_IDLE}: stats() adds the period so far, so a loop that has idled for an hour does
   * not read zero until it wakes. Set by stores in place where no call may be made (see
   * Runner#handBack), with {@link #idleSeq} around them.
   */
  volatile long idleSince = NOT_IDLE;
  /**
   * A sequence lock over {@link #idleNanos} and {@link #idleSince}, which change together: odd
   * while they are being changed. One writer at a time (the baton holder); stats() reads both
   * again if it changed meanwhile, so that a period just ended is never missing from both.
   */
  volatile int idleSeq;
  private volatile long quietHandBacks;
  /**
   * Guarded by the baton: see spunHandOffs(). Counted by Runner#handTo with a store, no call: it
   * counts after the hand-off, where nothing may be thrown.
   */
  long spunHandOffs;
  /** Guarded by the baton: see wakeAheadPauses(). */
  long wakeAheadPauses;

  /** Counts a pass begun; returns its number. On the baton. */
  long passBegun() {
    long n = passes + 1;
    PASSES.lazySet(this, n);
    return n;
  }

  /** Counts a hand-off of the processor. On the baton. */
  void switched() {
    SWITCHES.lazySet(this, switches + 1);
  }

  /** Notes that the driver begins to wait, at {@code now} (System.nanoTime). On the baton. */
  void idleBegan(long now) {
    idleSeq++;
    idleSince = now;
    idleSeq++;
  }

  /** Adds the idle period that ends now. On the baton. */
  void idleEnded() {
    long since = idleSince;
    if (since == NOT_IDLE) {
      return;
    }
    idleSeq++;
    // Read after the sequence moved on: a reader that saw the period still in progress read its
    // clock before that, so what it counted is no more than what is added here.
    long now;
    try {
      now = System.nanoTime();
    } catch (Throwable e) { // a stack overflow: leave the period in progress, the sequence even
      idleSeq++;
      throw e;
    }
    long idle = now - since;
    idleSince = NOT_IDLE;
    idleNanos = idleNanos + (idle > 0 ? idle : 0); // no call between the two moves of idleSeq
    idleSeq++;
  }

  /**
   * Hand-offs so far to a task woken early that had not given up spinning for its turn (see
   * Runner#wakeAfterNext): hand-offs that woke nobody. On the baton, or once run() has returned.
   */
  long spunHandOffs() {
    return spunHandOffs;
  }

  /**
   * Times the loop paused waking ahead because a task woken early gave up spinning (see
   * Runner#wakeAfterNext). On the baton, or once run() has returned.
   */
  long wakeAheadPauses() {
    return wakeAheadPauses;
  }

  /** Counts a hand-back that left the driver asleep. On the baton. */
  void quietHandBack() {
    quietHandBacks = quietHandBacks + 1;
  }

  /** Hand-backs that left the driver asleep so far. Any thread. */
  long quietHandBacks() {
    return quietHandBacks;
  }

  /**
   * The counters, each a value it really had, and the idle time up to now: an idle period in
   * progress counts as far as it has gone. Any thread.
   */
  Loop.Stats stats() {
    long idle;
    long since;
    long now;
    for (;;) {
      // The clock first: a period in progress then counts no further than idleEnded() will add
      // once it ends, so a later reading is never lower.
      now = System.nanoTime();
      int seq = idleSeq;
      idle = idleNanos;
      since = idleSince;
      if ((seq & 1) == 0 && idleSeq == seq) {
        break; // both from between two changes
      }
      Thread.onSpinWait(); // a change in progress: a few stores long
    }
    if (since != NOT_IDLE) {
      idle += Math.max(0, now - since);
    }
    return new Loop.Stats(passes, switches, Duration.ofNanos(idle));
  }
}
