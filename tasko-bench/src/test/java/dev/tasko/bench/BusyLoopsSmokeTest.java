package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs busy loops beside each other and beside a ring of virtual threads for two short windows
 * (on the real clock) and checks that every figure is reported and that all of them turned. Never
 * asserts how long anything takes.
 */
class BusyLoopsSmokeTest {
  @Test
  @Tag("realtime")
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void run_twoLoopsAndARing_reportsEveryFigure() throws Exception {
    Map<String, Double> m = BusyLoops.run(2, 3, 20, true).stream()
        .collect(Collectors.toMap(Result::metric, Result::value));

    assertThat(m.get("loops")).isEqualTo(2);
    assertThat(m.get("tasks_per_loop")).isEqualTo(3);
    assertThat(m.get("switches")).isPositive();
    assertThat(m.get("switch_all_loops")).isPositive();
    assertThat(m.get("ring_hand_offs")).isPositive();
    assertThat(m.get("ring_hand_off")).isPositive();
  }

  @Test
  void run_badArguments_throwNamingThem() {
    assertThatThrownBy(() -> BusyLoops.run(0, 3, 20, false))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("loops < 1: 0");
    assertThatThrownBy(() -> BusyLoops.run(1, 1, 20, false))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("tasks < 2: 1");
    assertThatThrownBy(() -> BusyLoops.run(1, 3, 0, false))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("ms <= 0: 0");
  }
}
