package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The parsing behind {@link Measure}'s readings of {@code /proc}. */
class MeasureTest {

  private static long stealOf(String text) {
    byte[] b = text.getBytes(StandardCharsets.US_ASCII);
    return Measure.HostSteal.stealOf(b, b.length);
  }

  @Test
  void stealOf_procStat_eighthColumnInNanos() {
    assertThat(stealOf("cpu  6057120 7918 666917 9231906 5975 0 7034 2813 0 0\n"
        + "cpu0 3061303 3978 331205 4585697 1240 0 2891 1423 0 0\n")).isEqualTo(2813 * 10_000_000L);
  }

  @Test
  void stealOf_lineEndsAtSteal_read() {
    assertThat(stealOf("cpu  1 2 3 4 5 6 7 9\ncpu0 1")).isEqualTo(90_000_000L);
  }

  @Test
  void stealOf_noStealColumn_minusOne() {
    assertThat(stealOf("cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7 8 9\n")).isEqualTo(-1);
  }

  @Test
  void stealOf_cutInsideSteal_minusOne() {
    byte[] b = "cpu  1 2 3 4 5 6 7 2813 0 0\n".getBytes(StandardCharsets.US_ASCII);
    assertThat(Measure.HostSteal.stealOf(b, "cpu  1 2 3 4 5 6 7 28".length())).isEqualTo(-1);
  }

  @Test
  void stealOf_notANumber_minusOne() {
    assertThat(stealOf("cpu  1 2 x 4 5 6 7 8 9\n")).isEqualTo(-1);
    assertThat(stealOf("cpu  1 2 3 4 5 6 7 8x 9\n")).isEqualTo(-1);
  }

  @Test
  void stealOf_otherLine_minusOne() {
    assertThat(stealOf("intr 1 2 3 4 5 6 7 8 9\n")).isEqualTo(-1);
    assertThat(stealOf("cpu0 1 2 3 4 5 6 7 8 9\n")).isEqualTo(-1);
    assertThat(stealOf("")).isEqualTo(-1);
  }

  @Test
  void hostSteal_readAgain_neverGoesBack() {
    try (Measure.HostSteal steal = new Measure.HostSteal()) {
      long first = steal.nanos();
      assumeTrue(first >= 0, "no steal column in /proc/stat here");
      long second = steal.nanos(); // the file read again from its start, not its end
      assertThat(second).isGreaterThanOrEqualTo(first);
      assertThat(Measure.hostStealNanos()).isGreaterThanOrEqualTo(first);
    }
  }
}
