package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

class ManualTickerTest {

  @Test
  void advance_adds() {
    ManualTicker ticker = new ManualTicker();

    ticker.advance(Duration.ofSeconds(2));
    ticker.advance(Duration.ofMillis(5));

    assertThat(ticker.read()).isEqualTo(2_005_000_000L);
  }

  @Test
  void advance_pastTheLongestTime_rejectedInsteadOfWrapping() {
    ManualTicker ticker = new ManualTicker();
    ticker.advance(Duration.ofDays(365L * 200));

    // 400 years: past Long.MAX_VALUE nanoseconds, where the time used to wrap to before zero
    assertThatThrownBy(() -> ticker.advance(Duration.ofDays(365L * 200)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration would move the time past Long.MAX_VALUE nanoseconds: PT1752000H"
            + " from PT1752000H");
    assertThatThrownBy(() -> ticker.advance(ChronoUnit.FOREVER.getDuration()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(ticker.read()).isEqualTo(Duration.ofDays(365L * 200).toNanos());
    ticker.advance(Duration.ofNanos(Long.MAX_VALUE - ticker.read())); // up to the last one
    assertThat(ticker.read()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void advance_negative_rejectedAndTimeKept() {
    ManualTicker ticker = new ManualTicker();
    ticker.advance(Duration.ofSeconds(1));

    assertThatThrownBy(() -> ticker.advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("duration < 0: PT-1S");
    assertThat(ticker.read()).isEqualTo(1_000_000_000L);
  }
}
