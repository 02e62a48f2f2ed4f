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
 * The idle time and the quiet hand-backs take plain volatile stores, whose fence is nothing beside
 * the park each of them comes with. A quiet hand-back is counted just after the baton has gone back
 * to the driver, so two of them may race and one count be lost: that count is for tests only.
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

  private volatile long passes;
  /** Also taken back by a hand-off that failed, in place (see Runner#handTo): no call there. */
  volatile long switches;
  private volatile long idleNanos;
  private volatile long quietHandBacks;

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

  /** Adds time the driving thread spent waiting. On the baton. */
  void idled(long nanos) {
    idleNanos = idleNanos + nanos;
  }

  /** Counts a hand-back that left the driver asleep. On the baton. */
  void quietHandBack() {
    quietHandBacks = quietHandBacks + 1;
  }

  /** Hand-backs that left the driver asleep so far. Any thread. */
  long quietHandBacks() {
    return quietHandBacks;
  }

  /** The counters, each a value it really had. Any thread. */
  Loop.Stats stats() {
    return new Loop.Stats(passes, switches, Duration.ofNanos(idleNanos));
  }
}
