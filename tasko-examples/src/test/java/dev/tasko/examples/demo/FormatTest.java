package dev.tasko.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class FormatTest {
  @Test
  void interval_shortAndLong_readable() {
    assertThat(Format.interval(Duration.ofMillis(10))).isEqualTo("10 ms");
    assertThat(Format.interval(Duration.ofMillis(3700))).isEqualTo("3.7 s");
    assertThat(Format.interval(Duration.ofSeconds(10))).isEqualTo("10 s");
  }

  @Test
  void hertz_anyRate_aboutThreeDigits() {
    assertThat(Format.hertz(100)).isEqualTo("100 Hz");
    assertThat(Format.hertz(9.94)).isEqualTo("9.94 Hz");
    assertThat(Format.hertz(9.96)).isEqualTo("10.0 Hz");
    assertThat(Format.hertz(10)).isEqualTo("10.0 Hz");
    assertThat(Format.hertz(0.2)).isEqualTo("0.20 Hz");
    assertThat(Format.hertz(Double.NaN)).isEqualTo("-");
  }

  @Test
  void latency_anySize_readable() {
    assertThat(Format.latency(Duration.ofNanos(80_000))).isEqualTo("0.08 ms");
    assertThat(Format.latency(Duration.ofMillis(40))).isEqualTo("40.0 ms");
    assertThat(Format.latency(Duration.ofMillis(1250))).isEqualTo("1.25 s");
  }

  @Test
  void count_oneOrMore_agreesInNumber() {
    assertThat(Format.count(1, "press", "presses")).isEqualTo("1 press");
    assertThat(Format.count(0, "press", "presses")).isEqualTo("0 presses");
  }
}
