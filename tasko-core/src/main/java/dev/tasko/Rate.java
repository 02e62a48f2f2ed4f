package dev.tasko;

import java.math.BigDecimal;
import java.time.Duration;

/**
 * How often a {@linkplain ScheduledTask schedule} runs, written so that a call site cannot be
 * misread: {@code hz(2)} is twice a second, {@code every(Duration.ofSeconds(2))} once every two
 * seconds. Java has no named arguments, so the unit is in the name, as tasko's {@code hz=2} puts it
 * in the keyword.
 *
 * <pre>{@code
 * import static dev.tasko.Rate.hz;
 * import static dev.tasko.Rate.every;
 *
 * loop.schedule(hz(100), () -> readButton());                       // 100 times a second
 * loop.schedule(every(Duration.ofSeconds(10)), () -> logTemperature());
 * }</pre>
 *
 * <p>A rate is an immutable value that any thread may share. Inside, it is a whole number of
 * nanoseconds between runs: a rate in hertz is rounded to the nearest nanosecond. Two rates are
 * {@linkplain #equals equal} when their intervals are, however they were written: {@code hz(2)}
 * equals {@code every(Duration.ofMillis(500))}. {@link #toString()} shows the rate as it was
 * written: {@code "2 Hz"}, {@code "every 500 ms"}, {@code "6 per minute"}.
 */
public final class Rate {
  private static final double NANOS_PER_SECOND = 1e9;
  private static final double NANOS_PER_MINUTE = 60e9;

  private final long intervalNanos;
  private final String text;

  private Rate(long intervalNanos, String text) {
    this.intervalNanos = intervalNanos;
    this.text = text;
  }

  /**
   * {@code hz} runs a second: {@code hz(100)} runs every 10 ms, {@code hz(0.5)} every 2 s.
   *
   * @throws IllegalArgumentException if {@code hz} is NaN, infinite, zero or negative, above 1 GHz
   *     (an interval under one nanosecond), or so low that the interval overflows a long of
   *     nanoseconds (about 292 years)
   */
  public static Rate hz(double hz) {
    return new Rate(intervalNanos(hz, NANOS_PER_SECOND, "hz"), number(hz) + " Hz");
  }

  /**
   * {@code perMinute} runs a minute: {@code perMinute(6)} runs every 10 s.
   *
   * @throws IllegalArgumentException if {@code perMinute} is NaN, infinite, zero or negative, or
   *     outside the range {@link #hz(double)} accepts
   */
  public static Rate perMinute(double perMinute) {
    return new Rate(intervalNanos(perMinute, NANOS_PER_MINUTE, "perMinute"),
        number(perMinute) + " per minute");
  }

  /**
   * One run every {@code interval}: {@code every(Duration.ofMillis(500))} is 2 Hz.
   *
   * @throws NullPointerException if {@code interval} is null
   * @throws IllegalArgumentException if {@code interval} is zero, negative or overflows a long of
   *     nanoseconds
   */
  public static Rate every(Duration interval) {
    long nanos = Durations.positiveNanos(interval, "interval");
    return new Rate(nanos, "every " + DurationText.exact(nanos));
  }

  /** The time between two runs' targets, a whole number of nanoseconds. */
  public Duration interval() {
    return Duration.ofNanos(intervalNanos);
  }

  /** Runs a second: {@code 1e9 / interval in nanoseconds}. */
  public double hertz() {
    return NANOS_PER_SECOND / intervalNanos;
  }

  long intervalNanos() {
    return intervalNanos;
  }

  /** Whether {@code o} is a rate with the same interval, however it was written. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Rate r && r.intervalNanos == intervalNanos;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(intervalNanos);
  }

  /** The rate as it was written: {@code "2 Hz"}, {@code "every 500 ms"}, {@code "6 per minute"}. */
  @Override
  public String toString() {
    return text;
  }

  /** {@code count} runs per {@code nanosPerUnit}, as a whole interval rounded to the nearest. */
  private static long intervalNanos(double count, double nanosPerUnit, String name) {
    if (Double.isNaN(count) || Double.isInfinite(count)) {
      throw new IllegalArgumentException(name + " is not finite: " + count);
    }
    if (count <= 0) {
      throw new IllegalArgumentException(name + " <= 0: " + count);
    }
    double nanos = nanosPerUnit / count;
    if (nanos >= 0x1p63) {
      throw new IllegalArgumentException(
          name + " is too low (interval over 292 years): " + count);
    }
    if (nanos < 1.0) {
      throw new IllegalArgumentException(
          name + " is too high (interval under 1 ns, above 1e9 Hz): " + count);
    }
    return Math.round(nanos);
  }

  /** {@code 2.0} as {@code "2"}, {@code 0.5} as {@code "0.5"}: no trailing zeros, no exponent. */
  private static String number(double value) {
    return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
  }
}
