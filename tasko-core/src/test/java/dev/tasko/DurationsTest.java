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
  void positiveNanos_negativeLongerThanALong_rejectedAsNotPositive() {
    // Before: "interval does not fit in a long of nanoseconds", as if it were too long.
    Duration hugeNegative = Duration.ofDays(-400L * 365);
    assertThatThrownBy(() -> Durations.positiveNanos(hugeNegative, "interval"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("interval <= 0: PT-3504000H");
    assertThatThrownBy(() -> Durations.nonNegativeNanos(hugeNegative, "slack"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("slack < 0: PT-3504000H");
    assertThatThrownBy(() -> Loop.create().schedule(hugeNegative, () -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("interval <= 0: PT-3504000H");
    assertThatThrownBy(() -> new ManualTicker().advance(hugeNegative))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration < 0: PT-3504000H");
  }

  @Test
  void positiveAndNonNegativeNanos_edges_acceptedOrRejectedWithValue() {
    assertThatThrownBy(() -> Durations.positiveNanos(Duration.ZERO, "interval"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("interval <= 0: PT0S");
    assertThatThrownBy(() -> Durations.positiveNanos(null, "interval"))
        .isInstanceOf(NullPointerException.class).hasMessage("interval == null");
    assertThatThrownBy(() -> Durations.nonNegativeNanos(null, "slack"))
        .isInstanceOf(NullPointerException.class).hasMessage("slack == null");
    assertThatThrownBy(() -> Durations.nonNegativeNanos(Duration.ofNanos(-1), "slack"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("slack < 0: PT-0.000000001S");
    assertThat(Durations.nonNegativeNanos(Duration.ZERO, "slack")).isZero();
    assertThat(Durations.positiveNanos(Duration.ofNanos(1), "interval")).isEqualTo(1);
    assertThat(Durations.positiveNanos(Duration.ofNanos(Long.MAX_VALUE), "interval"))
        .isEqualTo(Long.MAX_VALUE);
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
