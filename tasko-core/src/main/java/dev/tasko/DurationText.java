package dev.tasko;

import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;

/**
 * Durations written for people: {@code "0.36 ms"}, {@code "500 ms"}, {@code "1.5 s"},
 * {@code "2 min"}, {@code "3.5 h"}, rather than {@link java.time.Duration#toString()}'s
 * {@code "PT0.000360448S"}.
 */
final class DurationText {
  private static final long MICRO = 1_000L;
  private static final long MILLI = 1_000_000L;
  private static final long SECOND = 1_000_000_000L;
  private static final long MINUTE = 60 * SECOND;
  private static final long HOUR = 60 * MINUTE;
  private static final long DAY = 24 * HOUR;
  /**
   * A hundred years (of 365.25 days): longer than any program runs or any real wait lasts, and a
   * third of the longest a long of nanoseconds holds. Longer measurements come from a deadline
   * kept at the end of the clock (a sleep for {@code ChronoUnit.FOREVER}, "due in" 292 years less
   * the time since the ticker's origin), and are written as such rather than as a count of days.
   */
  static final long OVER_100_YEARS = 36_525 * DAY;
  /** What {@link #approximate(long)} writes from {@link #OVER_100_YEARS} on. */
  static final String FOREVER = "over 100 years";
  private static final MathContext THREE_DIGITS = new MathContext(3);

  private DurationText() {}

  /** Like {@link #approximate(long)}; {@code "null"} for null, and beyond a long of nanos. */
  static String approximate(Duration d) {
    if (d == null) {
      return "null";
    }
    try {
      return approximate(d.toNanos());
    } catch (ArithmeticException e) {
      return (d.isNegative() ? "-" : "") + FOREVER; // over 292 years either way
    }
  }

  /**
   * Rounded to three significant digits, for measurements: nanoseconds under a microsecond,
   * milliseconds under a second ({@code "0.36 ms"}, {@code "12.3 ms"}); then seconds, minutes and
   * hours, each while it stays under 100 ({@code "83.5 s"}, {@code "1.67 min"}, {@code "50 h"}),
   * and days above ({@code "4.17 d"}); {@link #FOREVER} from a hundred years on.
   */
  static String approximate(long nanos) {
    if (nanos >= OVER_100_YEARS || nanos <= -OVER_100_YEARS) { // no Math.abs: Long.MIN_VALUE
      return (nanos < 0 ? "-" : "") + FOREVER;
    }
    long size = Math.abs(nanos);
    if (size < MICRO) {
      return nanos + " ns";
    }
    if (size < SECOND - SECOND / 2000) { // from 999.5 ms on, it rounds to "1 s"
      return decimal(nanos, MILLI, THREE_DIGITS) + " ms";
    }
    // Each from 99.95 of its unit on, where it would round to "100": the next unit says it better.
    if (size < 100 * SECOND - SECOND / 20) {
      return decimal(nanos, SECOND, THREE_DIGITS) + " s";
    }
    if (size < 100 * MINUTE - MINUTE / 20) {
      return decimal(nanos, MINUTE, THREE_DIGITS) + " min";
    }
    if (size < 100 * HOUR - HOUR / 20) {
      return decimal(nanos, HOUR, THREE_DIGITS) + " h";
    }
    return decimal(nanos, DAY, THREE_DIGITS) + " d";
  }

  /**
   * For the labels of an axis whose ticks are 1, 2 or 5 times a power of ten nanoseconds:
   * {@link #approximate(long)} up to a second, then seconds however many, so that the labels of
   * one axis stay round numbers of one unit ({@code "500 s"}, {@code "1000 s"}), where minutes
   * would give {@code "8.33 min"}, {@code "16.7 min"}.
   */
  static String axis(long nanos) {
    if (Math.abs(nanos) < SECOND - SECOND / 2000) {
      return approximate(nanos);
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
    // Rounded once, by the division: a minute's nanoseconds do not divide into decimals.
    return BigDecimal.valueOf(nanos).divide(BigDecimal.valueOf(unit), precision)
        .stripTrailingZeros().toPlainString();
  }
}
