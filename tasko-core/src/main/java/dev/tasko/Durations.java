package dev.tasko;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Checks and conversions for the durations of the public API. Messages name the parameter
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

  /**
   * A wait or a timeout in nanoseconds: rejects null and negative durations ({@code "timeout < 0:
   * PT-1S"}); one too long for a long of nanoseconds (over 292 years) is taken as the longest that
   * fits, as {@link Thread#sleep(Duration)} takes it. A deadline that far away is never reached on
   * the system clock; virtual time jumps to it once no earlier deadline is left.
   */
  public static long waitNanos(Duration d, String name) {
    Objects.requireNonNull(d, () -> name + " == null");
    if (d.isNegative()) {
      throw new IllegalArgumentException(name + " < 0: " + d);
    }
    return TimeUnit.NANOSECONDS.convert(d); // saturates at Long.MAX_VALUE
  }

  /**
   * Like {@link #toNanos} but also rejects negative durations: {@code "delay < 0: PT-1S"}. The sign
   * is checked first, so that a negative duration too long for a long of nanoseconds is refused
   * for being negative, not for its size.
   */
  public static long nonNegativeNanos(Duration d, String name) {
    Objects.requireNonNull(d, () -> name + " == null");
    if (d.isNegative()) {
      throw new IllegalArgumentException(name + " < 0: " + d);
    }
    return toNanos(d, name);
  }

  /**
   * Like {@link #toNanos} but also rejects zero and negative durations:
   * {@code "interval <= 0: PT0S"}. The sign is checked first, as in {@link #nonNegativeNanos}.
   */
  public static long positiveNanos(Duration d, String name) {
    Objects.requireNonNull(d, () -> name + " == null");
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " <= 0: " + d);
    }
    return toNanos(d, name);
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
