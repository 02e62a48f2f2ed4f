package dev.tasko;

import java.time.Duration;
import java.util.Objects;

/**
 * Checks and conversions for the durations and rates of the public API. Messages name the parameter
 * and show the value, so a rejected call says what was wrong without a debugger.
 */
final class Durations {
  private Durations() {}

  /** Returns {@code d} in nanoseconds; rejects null and values that overflow a long. */
  public static long toNanos(Duration d, String name) {
    Objects.requireNonNull(d, () -> name + " == null");
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(name + " does not fit in a long of nanoseconds: " + d, e);
    }
  }

  /** Like {@link #toNanos} but also rejects negative durations: {@code "delay < 0: PT-1S"}. */
  public static long nonNegativeNanos(Duration d, String name) {
    long n = toNanos(d, name);
    if (n < 0) {
      throw new IllegalArgumentException(name + " < 0: " + d);
    }
    return n;
  }

  /**
   * Like {@link #toNanos} but also rejects zero and negative durations:
   * {@code "interval <= 0: PT0S"}.
   */
  public static long positiveNanos(Duration d, String name) {
    long n = toNanos(d, name);
    if (n <= 0) {
      throw new IllegalArgumentException(name + " <= 0: " + d);
    }
    return n;
  }

  /**
   * Converts a rate in hertz to a whole interval in nanoseconds, rounded to the nearest. Rejects
   * NaN, infinities, zero and negative rates, and rates above 1 GHz (an interval under one
   * nanosecond).
   */
  public static long hertzToNanos(double hz, String name) {
    if (Double.isNaN(hz) || Double.isInfinite(hz)) {
      throw new IllegalArgumentException(name + " is not finite: " + hz);
    }
    if (hz <= 0) {
      throw new IllegalArgumentException(name + " <= 0: " + hz + " Hz");
    }
    double nanos = 1e9 / hz;
    if (nanos >= 0x1p63) {
      throw new IllegalArgumentException(name + " is too low (interval over 292 years): " + hz
          + " Hz");
    }
    if (nanos < 1.0) {
      throw new IllegalArgumentException(name + " > 1e9 Hz (interval under 1 ns): " + hz + " Hz");
    }
    return Math.round(nanos);
  }

  /** {@code a + b}, clamped to {@link Long#MAX_VALUE} instead of wrapping (far deadlines). */
  public static long saturatedAdd(long a, long b) {
    long sum = a + b;
    // Overflow only if both have the same sign and the sum has the other.
    if (((a ^ sum) & (b ^ sum)) < 0) {
      return a > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
    return sum;
  }
}
