package dev.tasko;

import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;

/**
 * Durations written for people: {@code "0.36 ms"}, {@code "500 ms"}, {@code "1.5 s"},
 * {@code "2 min"}, rather than {@link java.time.Duration#toString()}'s {@code "PT0.000360448S"}.
 */
final class DurationText {
  private static final long MICRO = 1_000L;
  private static final long MILLI = 1_000_000L;
  private static final long SECOND = 1_000_000_000L;
  private static final long MINUTE = 60 * SECOND;
  private static final long HOUR = 60 * MINUTE;
  private static final MathContext THREE_DIGITS = new MathContext(3);

  private DurationText() {}

  /** Like {@link #approximate(long)}; {@code "null"} for null, ISO-8601 beyond a long of nanos. */
  static String approximate(Duration d) {
    if (d == null) {
      return "null";
    }
    try {
      return approximate(d.toNanos());
    } catch (ArithmeticException e) {
      return d.toString();
    }
  }

  /**
   * Rounded to three significant digits, for measurements: nanoseconds under a microsecond,
   * milliseconds under a second ({@code "0.36 ms"}, {@code "12.3 ms"}), seconds above.
   */
  static String approximate(long nanos) {
    if (Math.abs(nanos) < MICRO) {
      return nanos + " ns";
    }
    if (Math.abs(nanos) < SECOND - SECOND / 2000) { // from 999.5 ms on, it rounds to "1 s"
      return decimal(nanos, MILLI, THREE_DIGITS) + " ms";
    }
    return decimal(nanos, SECOND, THREE_DIGITS) + " s";
  }

  /**
   * Exact, for settings such as a rate's interval: {@code "250 ns"}, {@code "1.000001 ms"},
   * {@code "1.5 s"}, and whole minutes or hours as {@code "2 min"} or {@code "1 h"}.
   */
  static String exact(long nanos) {
    if (Math.abs(nanos) < MICRO) {
      return nanos + " ns";
    }
    if (Math.abs(nanos) < SECOND) {
      return decimal(nanos, MILLI, MathContext.UNLIMITED) + " ms";
    }
    if (nanos % HOUR == 0) {
      return nanos / HOUR + " h";
    }
    if (nanos % MINUTE == 0) {
      return nanos / MINUTE + " min";
    }
    return decimal(nanos, SECOND, MathContext.UNLIMITED) + " s";
  }

  private static String decimal(long nanos, long unit, MathContext precision) {
    return BigDecimal.valueOf(nanos).divide(BigDecimal.valueOf(unit))
        .round(precision).stripTrailingZeros().toPlainString();
  }
}
