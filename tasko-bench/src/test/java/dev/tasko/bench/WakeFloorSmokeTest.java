package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs each variant of the wake-up floor for a few deadlines (on the real clock) and checks that it
 * reports every figure. Never asserts how long anything takes or costs.
 */
class WakeFloorSmokeTest {
  static List<String> variants() {
    return WakeFloor.VARIANTS;
  }

  @ParameterizedTest
  @MethodSource("variants")
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void run_eachVariant_reportsItsFigures(String variant) throws Exception {
    Map<String, Double> m = WakeFloor.run(variant, 50, 200_000, 10).stream()
        .collect(Collectors.toMap(Result::metric, Result::value));

    assertThat(m.get("runs")).isEqualTo(50);
    assertThat(m.get("interval")).isEqualTo(200);
    assertThat(m.get("deadlines_passed")).isNotNegative(); // fewer than 50 after a stall
    assertThat(m.get("cpu_per_run")).isNotNegative(); // in 10 ms ticks where /proc is missing
    if (m.containsKey("voluntary_switches_per_run")) { // read from /proc, where there is one
      assertThat(m.get("voluntary_switches_per_run")).isNotNegative();
    }
  }

  @Test
  void run_unknownVariant_throwsNamingIt() {
    assertThatThrownBy(() -> WakeFloor.run("executor", 50, 200_000, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown variant: executor");
  }
}
