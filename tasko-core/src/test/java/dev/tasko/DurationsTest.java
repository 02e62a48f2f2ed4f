package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

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
