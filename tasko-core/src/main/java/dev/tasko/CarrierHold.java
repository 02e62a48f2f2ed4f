package dev.tasko;

import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * Keeps the second of two carrier threads busy while one loop hands the processor from task to
 * task in quick succession, so that each task runs on the carrier of the one before it.
 *
 * <p>Why: on two carriers, a task that hands on the processor unparks the next task, which the
 * JDK's scheduler puts on the queue of the carrier the first runs on; the other carrier, idle,
 * takes the task over before the first has parked, so every switch moves to the other core, and
 * the core it left spins idle. One more virtual thread that spins on the other carrier leaves no
 * carrier idle: the next task waits in its queue and runs there as soon as the first parks, as
 * on one carrier (BENCHMARKS.md, run AJ). While the loop switches that fast, both cores were busy
 * anyway; the spinning thread costs no more than the idle carrier did.
 *
 * <p>Only a loop that keeps switching asks for it, and only for a short while: each request
 * ({@link #renew}) holds the carrier for {@link #LAPSE_NANOS}, so a loop that goes idle, ends,
 * fails or runs longer turns stops asking and the hold lapses on its own; a loop that idles
 * also lets go at once ({@link #release}). Two loops that ask within that time would share one
 * carrier between them while the other spins: the hold then stands down until only one asks.
 * The spinning thread gives its carrier up every {@link #YIELD_NANOS} until the loop's next
 * hand-off, so other virtual threads waiting for one still run. With one carrier or more than two
 * it is never asked for (see Runner): one spinning thread cannot keep two idle carriers from
 * taking tasks over.
 *
 * <p>One per JVM ({@link #JVM}); any thread may call it. Its thread is started on the first
 * request, parks while nothing is held, and is a virtual thread, so it never keeps the JVM alive.
 */
final class CarrierHold {
  /** How long one request holds the carrier: a loop renews far more often while it switches. */
  static final long LAPSE_NANOS = 1_000_000;
  /**
   * How long the spinning thread keeps its carrier before it lets waiting threads run: it then
   * parks, and the loop's next hand-off wakes it ({@link #resume}). Not {@code Thread.yield()}:
   * on a yield the JDK's scheduler puts the thread in a submission queue of its own, and the
   * carrier, going back to the queue it took it from, takes it again at once; meanwhile the other
   * carrier runs the loop's tasks from its own queue. A thread woken from outside the carriers
   * (a timer, as for {@code Thread.sleep}; another thread; I/O) then waited for a carrier for up
   * to a second.
   */
  static final long YIELD_NANOS = 50_000;

  /** The JVM's. */
  static final CarrierHold JVM = new CarrierHold();

  /** Makes the spinning thread from its body (tests make one that cannot start). */
  private final Function<Runnable, Thread> threads;

  /** Until when (System.nanoTime) the carrier is held, unless contended. */
  private volatile long holdUntil = System.nanoTime(); // over: nanoTime may be any value
  /** Until when two loops were asking at once, and nothing is held. */
  private volatile long contendedUntil = holdUntil;
  /** The last loop that asked, and when. */
  private volatile Object lastAsker;
  private volatile long lastAskedAt;
  /** The spinning thread, once started. Read without the lock by {@link #wakeSpinner}. */
  private volatile Thread thread;
  /** Whether the spinning thread is parked or about to park (see {@link #spin}). */
  private volatile boolean parked;

  CarrierHold() {
    this(body -> Thread.ofVirtual().name("tasko-carrier-hold").unstarted(body));
  }

  CarrierHold(Function<Runnable, Thread> threads) {
    this.threads = threads;
  }

  /**
   * Asks for the carrier to be held for {@link #LAPSE_NANOS} from {@code now}, for the loop
   * {@code asker}. Returns whether it is held: false while another loop asks too.
   */
  boolean renew(Object asker, long now) {
    Object last = lastAsker;
    if (last != null && last != asker && now - lastAskedAt < LAPSE_NANOS) {
      contendedUntil = now + LAPSE_NANOS;
    }
    lastAsker = asker;
    lastAskedAt = now;
    if (now - contendedUntil < 0) {
      return false;
    }
    holdUntil = now + LAPSE_NANOS;
    wakeSpinner(); // after the write of holdUntil, as spin() writes parked before it reads it
    return true;
  }

  /**
   * {@code asker} has gone idle: the hold ends now, unless another loop asked since; and a loop
   * that asks next is not taken for a second loop asking at the same time.
   */
  void release(Object asker, long now) {
    if (lastAsker == asker) {
      lastAsker = null;
      holdUntil = now;
    }
  }

  /** Whether the carrier should be held at {@code now}. */
  boolean holds(long now) {
    return now - holdUntil < 0 && now - contendedUntil >= 0;
  }

  /**
   * Wakes the spinning thread if it has parked after a spin (see {@link #YIELD_NANOS}): called
   * at each hand-off of a loop the carrier is held for, so that the carrier is let go for no
   * longer than the scheduler takes to look at its queues once. Any thread.
   */
  void resume() {
    if (parked) {
      Thread t = thread;
      if (t != null) {
        LockSupport.unpark(t);
      }
    }
  }

  private void wakeSpinner() {
    Thread t = thread;
    if (t == null) {
      synchronized (this) {
        if (thread == null) {
          Thread s = threads.apply(this::spin);
          // Published once started: should start() throw (a stack overflow on a deep task's
          // stack, no memory for a thread), the next request makes another.
          s.start();
          thread = s;
          return;
        }
        t = thread;
      }
    }
    if (parked) {
      LockSupport.unpark(t);
    }
  }

  /**
   * The spinning thread's body: spins while held, for {@link #YIELD_NANOS} at most, then parks
   * until the loop's next hand-off or request wakes it (see {@link #YIELD_NANOS} for why it does
   * not yield).
   */
  private void spin() {
    for (;;) {
      long parkAt = System.nanoTime() + YIELD_NANOS;
      for (long now; holds(now = System.nanoTime()) && now - parkAt < 0; ) {
        Thread.onSpinWait();
      }
      parked = true;
      // Read after the write of parked, as renew() writes holdUntil before it reads parked: a
      // request that found parked unset is seen here. After a whole spin the thread parks all
      // the same, and lets other threads have the carrier until the next request wakes it.
      if (!holds(System.nanoTime()) || System.nanoTime() - parkAt >= 0) {
        LockSupport.park(this);
      }
      parked = false;
    }
  }
}
