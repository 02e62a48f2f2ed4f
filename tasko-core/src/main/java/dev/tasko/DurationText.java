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
  /**
   * What it writes from {@code -}{@link #OVER_100_YEARS} down: the sign before the number, as in
   * {@code "-2 h"}, where {@code "-over 100 years"} read as a typo and {@code "over -100 years"}
   * would say the opposite.
   */
  static final String MINUS_FOREVER = "-100 years or more";
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
      return d.isNegative() ? MINUS_FOREVER : FOREVER; // over 292 years either way
    }
  }

  /**
   * Rounded to three significant digits, for measurements: nanoseconds under a microsecond,
   * milliseconds under a second ({@code "0.36 ms"}, {@code "12.3 ms"}); then seconds, minutes and
   * hours, each while it stays under 100 ({@code "83.5 s"}, {@code "1.67 min"}, {@code "50 h"}),
   * and days above ({@code "4.17 d"}); {@link #FOREVER} from a hundred years on, and
   * {@link #MINUS_FOREVER} from minus a hundred years down.
   */
  static String approximate(long nanos) {
    if (nanos >= OVER_100_YEARS) {
      return FOREVER;
    }
    if (nanos <= -OVER_100_YEARS) { // no Math.abs: Long.MIN_VALUE
      return MINUS_FOREVER;
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
   * Exact, for settings such as a rate's interval: every digit kept, in units a person reads.
   * Under a second as {@code "250 ns"} or {@code "1.000001 ms"}. A whole number of days, or of
   * hours or minutes under 100, in the largest of them: {@code "2 d"}, {@code "36 h"},
   * {@code "90 min"}. Else seconds under 100 s ({@code "1.5 s"}, {@code "61 s"}), and from there
   * whole days, hours and minutes, as a clock reads, and the seconds left: {@code "2 min 30 s"},
   * {@code "1 d 1 min"}, {@code "1 h 0.5 s"}, {@code "106751 d 23 h 47 min 16.854775807 s"} for
   * {@code Long.MAX_VALUE}. Not a decimal of a larger unit, which would not be exact: the
   * nanoseconds of a minute or an hour do not divide into decimals. A negative one has one sign,
   * for the whole: {@code "-2 min 30 s"} is minus two and a half minutes.
   */
  static String exact(long nanos) {
    // No Math.abs(nanos): that of Long.MIN_VALUE is negative, which would make it "ns".
    if (nanos > -MICRO && nanos < MICRO) {
      return nanos + " ns";
    }
    if (nanos > -SECOND && nanos < SECOND) {
      return decimal(nanos, MILLI, MathContext.UNLIMITED) + " ms";
    }
    if (nanos % DAY == 0) {
      return nanos / DAY + " d";
    }
    if (nanos % HOUR == 0 && Math.abs(nanos / HOUR) < 100) {
      return nanos / HOUR + " h";
    }
    if (nanos % MINUTE == 0 && Math.abs(nanos / MINUTE) < 100) {
      return nanos / MINUTE + " min";
    }
    if (Math.abs(nanos / SECOND) < 100) {
      return decimal(nanos, SECOND, MathContext.UNLIMITED) + " s";
    }
    StringBuilder b = new StringBuilder(nanos < 0 ? "-" : "");
    long rest = nanos; // each part has the sign of the whole, written once, first
    for (long unit : new long[] {DAY, HOUR, MINUTE}) {
      long n = Math.abs(rest / unit);
      rest %= unit;
      if (n != 0) {
        b.append(n).append(unit == DAY ? " d " : unit == HOUR ? " h " : " min ");
      }
    }
    if (rest == 0) {
      return b.substring(0, b.length() - 1);
    }
    return b.append(decimal(Math.abs(rest), SECOND, MathContext.UNLIMITED)).append(" s")
        .toString();
  }

  private static String decimal(long nanos, long unit, MathContext precision) {
    // Rounded once, by the division: a minute's nanoseconds do not divide into decimals.
    return BigDecimal.valueOf(nanos).divide(BigDecimal.valueOf(unit), precision)
        .stripTrailingZeros().toPlainString();
  }
}
