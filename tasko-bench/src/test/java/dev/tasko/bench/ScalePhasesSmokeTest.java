package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Runs the phase probe with a few thousand sleepers (about a second each, on the real clock) and
 * checks the order of its readings. Never asserts how long anything takes beyond the sleeps
 * themselves.
 */
class ScalePhasesSmokeTest {
  private static final int N = 2_000;

  private static Map<String, Double> byMetric(List<Result> results) {
    return results.stream().collect(Collectors.toMap(Result::metric, Result::value));
  }

  /** The longest of the run's sleeps (the same every time), in seconds: no run ends before it. */
  private static double longestSleep() {
    return Arrays.stream(Scale.delays(N)).max().orElseThrow() / 1e9;
  }

  @Test
  void run_tasko_wakesFirstAfterAddingTheTasksAndEndsAfterTheLongestSleep() {
    Map<String, Double> m = byMetric(ScalePhases.run("tasko", N, false));

    assertThat(m.get("tasks")).isEqualTo(N);
    assertThat(m.get("create_time")).isPositive().isLessThan(m.get("first_wake"));
    assertThat(m.get("first_wake")).isLessThan(m.get("total_time"));
    assertThat(m.get("total_time")).isGreaterThanOrEqualTo(longestSleep());
    assertThat(m.get("wake_time")).isPositive()
        .isCloseTo(m.get("total_time") - m.get("first_wake"), within(1e-6));
    assertThat(m.get("cpu")).isPositive();
    assertThat(m.get("young_gc_time")).isNotNegative().isLessThan(m.get("total_time"));
  }

  @Test
  void run_serial_wakesFirstBeforeTheEndAndHasNoCreationOfItsOwn() {
    Map<String, Double> m = byMetric(ScalePhases.run("serial", N, false));

    assertThat(m).doesNotContainKey("create_time");
    assertThat(m.get("tasks")).isEqualTo(N);
    assertThat(m.get("first_wake")).isPositive().isLessThan(m.get("total_time"));
    assertThat(m.get("total_time")).isGreaterThanOrEqualTo(longestSleep());
    assertThat(m.get("wake_time")).isPositive()
        .isCloseTo(m.get("total_time") - m.get("first_wake"), within(1e-6));
    assertThat(m.get("young_gc_time")).isNotNegative().isLessThan(m.get("total_time"));
  }

  @Test
  void run_unknownImpl_throwsNamingIt() {
    assertThatThrownBy(() -> ScalePhases.run("vthreads", N, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("impl is neither tasko nor serial: vthreads");
  }

  @Test
  void collectOnce_withGarbageToSpare_returnsAfterOneMoreYoungCollection() {
    long before = ScalePhases.youngCollections();

    ScalePhases.collectOnce();

    assertThat(ScalePhases.youngCollections()).isGreaterThan(before);
  }
}
