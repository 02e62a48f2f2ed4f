package dev.tasko;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * How the loop's driving thread waits when no task is ready and the earliest timer is in the
 * future.
 *
 * <p>{@link #lowPower()} (the default) parks the thread until the deadline or an external wake-up:
 * the processor sleeps, and a timer fires as late as the operating system's timer overshoots. A
 * wait shorter than 50 µs is spun through instead, because waking an idle loop costs processor
 * time of that order (20 µs when the thread that would wait is the one inside {@link Loop#run()},
 * after running {@linkplain Loop#scheduleCallback callback schedules}: it would save only a
 * park). {@link #precise(Duration)} parks until a short window before the deadline, then spins
 * on the ticker, so timers fire within microseconds at the price of one busy core during each
 * window. Neither ever busy-polls while nothing is due. The project's BENCHMARKS.md has
 * measured figures for each.
 *
 * <p>The choice matters only with a real clock; a loop on {@linkplain Loop.Builder#virtualTime()
 * virtual time} never waits for a deadline, and on a {@link ManualTicker} the slack of
 * {@link #lowPower(Duration)} is ignored: each timer fires at its own deadline.
 */
public final class IdleStrategy {
  /**
   * Waits shorter than this are spun through rather than slept: waking an idle loop (a timer
   * wake-up, then a carrier thread woken through the JDK's virtual-thread scheduler) costs
   * processor time of this order, so spinning is cheaper as well as more punctual. The figures
   * behind the choice are in BENCHMARKS.md ("Why the CPU target is missed").
   */
  private static final long SHORT_WAIT_NANOS = 50_000;
  /**
   * The same for the driving thread, once it has run callback schedules itself: idling costs it
   * one timed park and its wake-up, about 20 µs of processor time on a 2-core VM (BENCHMARKS.md,
   * "Why the CPU target is missed"), so it spins only through a wait shorter than that. Measured
   * with the 96-job test on callback schedules: 20 µs gave the CPU of a
   * ScheduledThreadPoolExecutor with a lower lateness than its; 50 µs cost 1.2 to 1.4 times its
   * CPU; parking at once gave its CPU and its lateness (BENCHMARKS.md, run J).
   */
  private static final long DRIVER_SHORT_WAIT_NANOS = 20_000;
  private static final IdleStrategy LOW_POWER = new IdleStrategy(0, 0);
  private static final Duration DEFAULT_SPIN = Duration.ofNanos(200_000);

  private final long spinNanos;
  private final long slackNanos;

  private IdleStrategy(long spinNanos, long slackNanos) {
    this.spinNanos = spinNanos;
    this.slackNanos = slackNanos;
  }

  /**
   * Parks like {@link #lowPower()}, but lets a timer fire up to {@code slack} late when that lets
   * it share one wake-up with the timers due soon after it. A wake-up of an idle loop costs far
   * more processor time than a switch between tasks, so with many timers a small slack saves a
   * large share of it.
   *
   * @throws NullPointerException if {@code slack} is null
   * @throws IllegalArgumentException if {@code slack} is negative, or too long for a long of
   *     nanoseconds (over 292 years)
   */
  public static IdleStrategy lowPower(Duration slack) {
    long nanos = Durations.nonNegativeNanos(slack, "slack");
    return nanos == 0 ? LOW_POWER : new IdleStrategy(0, nanos);
  }

  /** Parks until the deadline: the least processor time, the operating system's timer precision. */
  public static IdleStrategy lowPower() {
    return LOW_POWER;
  }

  /** {@link #precise(Duration)} with a 200 µs spin window. */
  public static IdleStrategy precise() {
    return precise(DEFAULT_SPIN);
  }

  /**
   * Parks until {@code spinWindow} before the deadline, then spins until it.
   *
   * @throws NullPointerException if {@code spinWindow} is null
   * @throws IllegalArgumentException if {@code spinWindow} is zero or negative, or too long for
   *     a long of nanoseconds (over 292 years)
   */
  public static IdleStrategy precise(Duration spinWindow) {
    return new IdleStrategy(Durations.positiveNanos(spinWindow, "spinWindow"), 0);
  }

  /** The spin window before each deadline; zero for {@link #lowPower()}. */
  Duration spinWindow() {
    return Duration.ofNanos(spinNanos);
  }

  /** How late a timer may fire to share a wake-up; zero unless {@link #lowPower(Duration)}. */
  Duration slack() {
    return Duration.ofNanos(slackNanos);
  }

  long slackNanos() {
    return slackNanos;
  }

  /** How long before a deadline a park ends, for a spin to take over; zero for low power. */
  long spinNanos() {
    return spinNanos;
  }

  /** A wait this short is spun through by the task holding the processor, without idling. */
  long shortWaitNanos() {
    return Math.max(SHORT_WAIT_NANOS, spinNanos);
  }

  /** A wait this short is spun through by the driving thread when it holds the processor. */
  long driverShortWaitNanos() {
    return Math.max(DRIVER_SHORT_WAIT_NANOS, spinNanos);
  }

  /**
   * Waits until {@code ticker} reaches {@code deadline}, or {@code wakeUp} turns true, or the
   * thread is unparked; may return early (the caller re-checks everything).
   */
  void await(Ticker ticker, long deadline, BooleanSupplier wakeUp) {
    long wait = deadline - ticker.read();
    if (wait <= 0) {
      return;
    }
    if (wait > spinNanos) {
      LockSupport.parkNanos(this, wait - spinNanos);
      return;
    }
    while (ticker.read() - deadline < 0 && !wakeUp.getAsBoolean()) {
      Thread.onSpinWait();
    }
  }

  @Override
  public String toString() {
    if (spinNanos != 0) {
      return "IdleStrategy.precise(" + spinWindow() + ")";
    }
    return slackNanos == 0 ? "IdleStrategy.lowPower()" : "IdleStrategy.lowPower(" + slack() + ")";
  }
}
