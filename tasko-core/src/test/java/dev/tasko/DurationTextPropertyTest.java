package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Every long of nanoseconds, written by {@link DurationText#approximate(long)}, reads as a
 * number of at most three significant digits, under 1000 (under 100 for seconds, minutes and
 * hours), in a unit, and means the value it was written for to within the rounding; or, from a
 * hundred years on, says so. Every long, written by {@link DurationText#exact(long)}, reads as
 * parts in falling units that add up to it exactly.
 */
class DurationTextPropertyTest {
  private static final Pattern TEXT = Pattern.compile("(-?)(\\d+(?:\\.\\d+)?) (ns|ms|s|min|h|d)");
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?) (ns|ms|s|min|h|d)");
  private static final Map<String, Long> UNITS = Map.of("ns", 1L, "ms", 1_000_000L,
      "s", 1_000_000_000L, "min", 60_000_000_000L, "h", 3_600_000_000_000L,
      "d", 86_400_000_000_000L);

  @Provide
  Arbitrary<Long> nanos() {
    // Every order of magnitude alike, both signs, and the ends of the range.
    return Arbitraries.oneOf(
        Arbitraries.integers().between(0, 62).flatMap(bits -> Arbitraries.longs()
            .between(-(1L << bits), 1L << bits)),
        Arbitraries.of(Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE - 1, 0L));
  }

  @Property(tries = 2_000)
  void approximate_anyNanos_aShortNumberInAUnitThatMeansIt(@ForAll("nanos") long nanos) {
    String text = DurationText.approximate(nanos);
    if (nanos >= DurationText.OVER_100_YEARS || nanos <= -DurationText.OVER_100_YEARS) {
      assertThat(text).isEqualTo(nanos < 0 ? DurationText.MINUS_FOREVER : DurationText.FOREVER);
      return;
    }
    Matcher m = TEXT.matcher(text);
    assertThat(m.matches()).as(text).isTrue();
    BigDecimal number = new BigDecimal(m.group(2));
    String unit = m.group(3);
    assertThat(number.stripTrailingZeros().precision()).as(text).isLessThanOrEqualTo(3);
    BigDecimal limit = BigDecimal.valueOf(
        unit.equals("ns") || unit.equals("ms") ? 1000 : unit.equals("d") ? 36_525 : 100);
    assertThat(number).as(text).isLessThan(limit);
    if (!unit.equals("ns")) {
      assertThat(number).as(text).isGreaterThanOrEqualTo(
          unit.equals("ms") ? new BigDecimal("0.001") : BigDecimal.ONE);
    }
    // Three significant digits: off by at most half a unit in the third digit, 0.5% of it.
    double meant = number.doubleValue() * UNITS.get(unit) * (m.group(1).isEmpty() ? 1 : -1);
    assertThat(Math.abs(meant - nanos)).as(text)
        .isLessThanOrEqualTo(Math.abs((double) nanos) * 0.005 + 0.5);
  }

  @Property(tries = 2_000)
  void exact_anyNanos_partsInFallingUnitsThatAddUpToIt(@ForAll("nanos") long nanos) {
    String text = DurationText.exact(nanos);
    boolean negative = text.startsWith("-");
    assertThat(negative).as(text).isEqualTo(nanos < 0);
    String[] words = (negative ? text.substring(1) : text).split(" ");
    assertThat(words.length % 2).as(text).isZero();
    BigDecimal sum = BigDecimal.ZERO;
    long lastUnit = Long.MAX_VALUE;
    for (int i = 0; i < words.length; i += 2) {
      Matcher m = PART.matcher(words[i] + " " + words[i + 1]);
      assertThat(m.matches()).as(text).isTrue();
      long unit = UNITS.get(m.group(2));
      assertThat(unit).as(text + ": units fall").isLessThan(lastUnit);
      if (i > 0) { // a part after the first is under its unit's next one up
        assertThat(new BigDecimal(m.group(1))).as(text).isLessThan(
            BigDecimal.valueOf(lastUnit / unit));
      }
      if (unit < 1_000_000_000L) { // under a second: one part, under 1000 of its unit
        assertThat(words).as(text).hasSize(2);
        assertThat(new BigDecimal(m.group(1))).as(text).isLessThan(BigDecimal.valueOf(1000));
      }
      lastUnit = unit;
      sum = sum.add(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)));
    }
    assertThat(negative ? sum.negate() : sum).as(text)
        .isEqualByComparingTo(BigDecimal.valueOf(nanos));
  }
}
