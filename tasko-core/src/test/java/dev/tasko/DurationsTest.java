package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void hertzToNanos_roundsToNearestNanosecond() {
    assertThat(Durations.hertzToNanos(100, "rate")).isEqualTo(10_000_000L);
    assertThat(Durations.hertzToNanos(3, "rate")).isEqualTo(333_333_333L);
    assertThat(Durations.hertzToNanos(1e9, "rate")).isEqualTo(1L);
    assertThat(Durations.hertzToNanos(1e-3, "rate")).isEqualTo(1_000_000_000_000L);
  }

  @Test
  void hertzToNanos_badRates_namedInMessage() {
    assertThatThrownBy(() -> Durations.hertzToNanos(0, "rate")).hasMessage("rate <= 0: 0.0 Hz");
    assertThatThrownBy(() -> Durations.hertzToNanos(Double.NEGATIVE_INFINITY, "rate"))
        .hasMessage("rate is not finite: -Infinity");
    assertThatThrownBy(() -> Durations.hertzToNanos(1.5e9, "rate"))
        .hasMessageContaining("> 1e9 Hz");
    assertThatThrownBy(() -> Durations.hertzToNanos(Double.MIN_VALUE, "rate"))
        .hasMessageStartingWith("rate is too low");
  }

  @Test
  void saturatedAdd_clampsInsteadOfWrapping() {
    assertThat(Durations.saturatedAdd(Long.MAX_VALUE - 1, 5)).isEqualTo(Long.MAX_VALUE);
    assertThat(Durations.saturatedAdd(Long.MIN_VALUE + 1, -5)).isEqualTo(Long.MIN_VALUE);
    assertThat(Durations.saturatedAdd(-5, 10)).isEqualTo(5);
  }

  @Test
  void positiveNanos_overflow_rejectedWithValue() {
    assertThatThrownBy(() -> Durations.positiveNanos(Duration.ofDays(400L * 365), "interval"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("interval does not fit in a long of nanoseconds: PT3504000H");
  }
}
