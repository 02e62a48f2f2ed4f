package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
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

  @Test
  void waitNanos_longerThanALong_takenAsTheLongest() {
    assertThat(Durations.waitNanos(Duration.ofDays(400L * 365), "timeout"))
        .isEqualTo(Long.MAX_VALUE);
    assertThat(Durations.waitNanos(ChronoUnit.FOREVER.getDuration(), "timeout"))
        .isEqualTo(Long.MAX_VALUE);
    assertThat(Durations.waitNanos(Duration.ofNanos(Long.MAX_VALUE), "timeout"))
        .isEqualTo(Long.MAX_VALUE);
    assertThat(Durations.waitNanos(Duration.ofMillis(3), "timeout")).isEqualTo(3_000_000);
  }

  @Test
  void waitNanos_negativeOrNull_rejectedWithValue() {
    assertThatThrownBy(() -> Durations.waitNanos(Duration.ofSeconds(-1), "timeout"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("timeout < 0: PT-1S");
    assertThatThrownBy(() -> Durations.waitNanos(ChronoUnit.FOREVER.getDuration().negated(),
        "timeout")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("timeout < 0: PT-");
    assertThatThrownBy(() -> Durations.waitNanos(null, "timeout"))
        .isInstanceOf(NullPointerException.class).hasMessage("timeout == null");
  }
}
