package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Runs the phase probe with a few thousand sleepers and checks the order of its readings. Never
 * asserts how long anything takes beyond the sleeps themselves (the longest of the seeded delays
 * is just under a second).
 */
class ScalePhasesTest {

  private static Map<String, Double> byMetric(List<Result> results, String impl) {
    assertThat(results).allSatisfy(r -> {
      assertThat(r.impl()).isEqualTo(impl);
      assertThat(r.workload()).isEqualTo("scale-phases");
    });
    return results.stream().collect(Collectors.toMap(Result::metric, Result::value));
  }

  @Test
  void run_tasko_wakesFirstAfterAddingTheTasksAndEndsAfterTheLongestSleep() {
    Map<String, Double> m = byMetric(ScalePhases.run("tasko", 2_000, false), "tasko-java");

    assertThat(m.get("tasks")).isEqualTo(2_000);
    assertThat(m.get("create_time")).isPositive().isLessThan(m.get("first_wake"));
    assertThat(m.get("first_wake")).isLessThan(m.get("total_time"));
    assertThat(m.get("total_time")).isGreaterThan(0.9);
    assertThat(m.get("cpu")).isPositive();
  }

  @Test
  void run_serial_wakesFirstBeforeTheEndAndHasNoCreationOfItsOwn() {
    Map<String, Double> m = byMetric(ScalePhases.run("serial", 2_000, false), "vthreads-serial");

    assertThat(m).doesNotContainKey("create_time");
    assertThat(m.get("tasks")).isEqualTo(2_000);
    assertThat(m.get("first_wake")).isPositive().isLessThan(m.get("total_time"));
    assertThat(m.get("total_time")).isGreaterThan(0.9);
  }

  @Test
  void collectOnce_always_runsOneMoreCollection() {
    long before = ScalePhases.collections();

    ScalePhases.collectOnce();

    assertThat(ScalePhases.collections()).isGreaterThan(before);
  }
}
