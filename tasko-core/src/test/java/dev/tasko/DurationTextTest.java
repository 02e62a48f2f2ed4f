package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationTextTest {

  @Test
  void approximate_measurements_threeSignificantDigitsInAReadableUnit() {
    assertThat(DurationText.approximate(0)).isEqualTo("0 ns");
    assertThat(DurationText.approximate(999)).isEqualTo("999 ns");
    assertThat(DurationText.approximate(1_000)).isEqualTo("0.001 ms");
    assertThat(DurationText.approximate(360_448)).isEqualTo("0.36 ms");
    assertThat(DurationText.approximate(12_345_678)).isEqualTo("12.3 ms");
    assertThat(DurationText.approximate(999_400_000)).isEqualTo("999 ms");
    assertThat(DurationText.approximate(999_600_000)).isEqualTo("1 s");
    assertThat(DurationText.approximate(83_456_000_000L)).isEqualTo("83.5 s");
    assertThat(DurationText.approximate(-2_000_000)).isEqualTo("-2 ms");
  }

  @Test
  void approximate_minutesHoursDays_eachWhileUnder100OfItsUnit() {
    assertThat(DurationText.approximate(99_940_000_000L)).isEqualTo("99.9 s");
    assertThat(DurationText.approximate(99_950_000_000L)).isEqualTo("1.67 min");
    assertThat(DurationText.approximate(Duration.ofMinutes(90))).isEqualTo("90 min");
    assertThat(DurationText.approximate(Duration.ofMinutes(100))).isEqualTo("1.67 h");
    assertThat(DurationText.approximate(Duration.ofHours(50))).isEqualTo("50 h");
    assertThat(DurationText.approximate(Duration.ofHours(100))).isEqualTo("4.17 d");
    assertThat(DurationText.approximate(Duration.ofDays(365))).isEqualTo("365 d");
    assertThat(DurationText.approximate(-Duration.ofHours(2).toNanos())).isEqualTo("-2 h");
  }

  @Test
  void approximate_nearTheEndOfALongOfNanos_saysOver100Years() {
    // Before: "9220000000 s", the "due in" of a sleep for ChronoUnit.FOREVER in a dump.
    assertThat(DurationText.approximate(Long.MAX_VALUE)).isEqualTo("over 100 years");
    assertThat(DurationText.approximate(Long.MAX_VALUE - Duration.ofDays(3650).toNanos()))
        .isEqualTo("over 100 years");
    assertThat(DurationText.approximate(Long.MIN_VALUE)).isEqualTo("-100 years or more");
    assertThat(DurationText.approximate(Duration.ofDays(36_524))).isEqualTo("36500 d");
  }

  @Test
  void approximate_hugeNegative_signBeforeTheNumber() {
    // Before: "-over 100 years".
    assertThat(DurationText.approximate(-DurationText.OVER_100_YEARS))
        .isEqualTo("-100 years or more");
    assertThat(DurationText.approximate(-DurationText.OVER_100_YEARS + 1)).isEqualTo("-36500 d");
  }

  @Test
  void approximate_nullOrBeyondLongNanos_stillPrints() {
    assertThat(DurationText.approximate((Duration) null)).isEqualTo("null");
    assertThat(DurationText.approximate(Duration.ofDays(400L * 365))).isEqualTo("over 100 years");
    assertThat(DurationText.approximate(Duration.ofDays(-400L * 365)))
        .isEqualTo("-100 years or more");
  }

  @Test
  void axis_roundTicks_stayInSecondsAboveASecond() {
    assertThat(DurationText.axis(500_000)).isEqualTo("0.5 ms");
    assertThat(DurationText.axis(500_000_000_000L)).isEqualTo("500 s");
    assertThat(DurationText.axis(2_000_000_000_000L)).isEqualTo("2000 s");
  }

  @Test
  void exact_settings_keepEveryDigit() {
    assertThat(DurationText.exact(250)).isEqualTo("250 ns");
    assertThat(DurationText.exact(1_000_001)).isEqualTo("1.000001 ms");
    assertThat(DurationText.exact(333_333_333)).isEqualTo("333.333333 ms");
    assertThat(DurationText.exact(1_500_000_000)).isEqualTo("1.5 s");
    assertThat(DurationText.exact(Duration.ofMinutes(90).toNanos())).isEqualTo("90 min");
    assertThat(DurationText.exact(Duration.ofHours(2).toNanos())).isEqualTo("2 h");
    assertThat(DurationText.exact(Duration.ofSeconds(61).toNanos())).isEqualTo("61 s");
  }

  @Test
  void exact_longIntervals_inDaysHoursAndMinutesWithTheSecondsLeft() {
    // Before: "9223372036.854775807 s", "150 s", "86460 s".
    assertThat(DurationText.exact(Long.MAX_VALUE))
        .isEqualTo("106751 d 23 h 47 min 16.854775807 s");
    assertThat(DurationText.exact(Long.MIN_VALUE))
        .isEqualTo("-106751 d 23 h 47 min 16.854775808 s");
    assertThat(DurationText.exact(Duration.ofSeconds(150).toNanos())).isEqualTo("2 min 30 s");
    assertThat(DurationText.exact(-Duration.ofSeconds(150).toNanos())).isEqualTo("-2 min 30 s");
    assertThat(DurationText.exact(Duration.ofMinutes(1441).toNanos())).isEqualTo("1 d 1 min");
    assertThat(DurationText.exact(Duration.ofMinutes(100).toNanos())).isEqualTo("1 h 40 min");
    assertThat(DurationText.exact(Duration.ofMillis(3_600_500).toNanos())).isEqualTo("1 h 0.5 s");
    assertThat(DurationText.exact(Duration.ofSeconds(100).plusNanos(1).toNanos()))
        .isEqualTo("1 min 40.000000001 s");
    assertThat(DurationText.exact(Duration.ofHours(100).toNanos())).isEqualTo("4 d 4 h");
    assertThat(DurationText.exact(Duration.ofDays(2).toNanos())).isEqualTo("2 d");
    assertThat(DurationText.exact(Duration.ofDays(36_525).toNanos())).isEqualTo("36525 d");
    assertThat(DurationText.exact(Duration.ofHours(36).toNanos())).isEqualTo("36 h");
    assertThat(DurationText.exact(Duration.ofMinutes(1).toNanos())).isEqualTo("1 min");
    assertThat(DurationText.exact(Duration.ofMillis(99_500).toNanos())).isEqualTo("99.5 s");
  }
}
