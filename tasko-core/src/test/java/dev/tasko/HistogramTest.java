package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class HistogramTest {

  @Test
  void quantile_empty_isZero() {
    Histogram h = new Histogram();
    assertThat(h.quantile(0.5)).isZero();
    assertThat(h.max()).isZero();
    assertThat(h.count()).isZero();
  }

  @Test
  void quantile_smallValues_exact() {
    Histogram h = new Histogram();
    for (int v = 1; v <= 20; v++) {
      h.record(v);
    }
    assertThat(h.quantile(0.5)).isEqualTo(10);
    assertThat(h.quantile(1.0)).isEqualTo(20);
    assertThat(h.max()).isEqualTo(20);
  }

  @Test
  void quantile_wideRange_within7PercentBelowTrueValue() {
    Histogram h = new Histogram();
    for (long v = 1; v <= 100_000; v++) {
      h.record(v * 1000); // 1 us .. 100 ms
    }
    for (double q : new double[] {0.5, 0.9, 0.99, 0.999}) {
      double truth = q * 100_000 * 1000;
      assertThat((double) h.quantile(q)).as("q=%s", q).isCloseTo(truth * 0.965,
          within(truth * 0.035));
    }
    assertThat(h.max()).isEqualTo(100_000_000L);
  }

  @Test
  void record_negativeAndHuge_clamped() {
    Histogram h = new Histogram();
    h.record(-5);
    h.record(Long.MAX_VALUE);
    assertThat(h.quantile(0.5)).isZero();
    assertThat(h.max()).isEqualTo(Long.MAX_VALUE);
    assertThat(h.quantile(1.0)).isEqualTo(Histogram.lowerBound(Histogram.index(Long.MAX_VALUE)));
    assertThat(h.quantile(1.0)).isGreaterThan(Long.MAX_VALUE / 16 * 15);
  }

  @Test
  void quantile_hoursLate_within7PercentBelow() {
    // From a hostile test: every value from 2^41 ns (36.6 minutes) up read as 35.5 minutes.
    long hour = 3_600_000_000_000L;
    for (long v : new long[] {hour, 5 * hour, 24 * 365 * hour}) {
      Histogram h = new Histogram();
      h.record(v);
      assertThat(h.quantile(0.5)).as("%d ns", v).isBetween((long) (v * 0.93), v);
      assertThat(h.quantile(0.99)).as("%d ns", v).isBetween((long) (v * 0.93), v);
    }
  }

  @Test
  void quantile_mostRunsOnTimeAFewHoursLate_p99SeesTheLateOnes() {
    Histogram h = new Histogram();
    h.record(50_000, 980);
    h.record(7_200_000_000_000L, 20);

    assertThat(h.quantile(0.5)).isBetween(47_000L, 50_000L);
    assertThat(h.quantile(0.99)).isBetween(6_700_000_000_000L, 7_200_000_000_000L);
  }

  @Test
  void index_lowerBound_roundTripForEveryBucket() {
    long previous = -1;
    for (int i = 0; i <= Histogram.index(Long.MAX_VALUE); i++) {
      long lower = Histogram.lowerBound(i);
      assertThat(lower).isGreaterThan(previous);
      assertThat(Histogram.index(lower)).isEqualTo(i);
      previous = lower;
    }
  }
  @Test
  void quantile_beyondTwoToThe31Counts_doesNotWrap() {
    Histogram h = new Histogram();
    h.record(10, 3L << 30); // 3.2 billion runs: 37 days at 1 kHz
    h.record(1_000_000, 1L << 31);

    assertThat(h.count()).isEqualTo((3L << 30) + (1L << 31));
    assertThat(h.quantile(0.5)).isEqualTo(10);
    assertThat(h.quantile(0.99)).isBetween(940_000L, 1_000_000L);
  }
}
