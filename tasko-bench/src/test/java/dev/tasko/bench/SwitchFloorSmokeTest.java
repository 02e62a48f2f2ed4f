package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Turns each variant of the switch floor's ring for a few short rounds (on the real clock) and
 * checks that it reports every figure and, for the rings sure to turn, that the turn went round in
 * order: every thread took its turns, none twice in a row. Never asserts how long anything takes
 * or costs.
 */
class SwitchFloorSmokeTest {
  /**
   * The rings sure to turn: a thread that yields may not get its carrier back (BENCHMARKS.md,
   * run AI).
   */
  static List<String> variants() {
    return List.of("park", "park-held", "spin-ahead");
  }

  @ParameterizedTest
  @MethodSource("variants")
  @Tag("realtime")
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void measure_eachVariant_reportsItsFiguresAndTurnsInOrder(String variant) throws Exception {
    SwitchFloor.Ring ring = new SwitchFloor.Ring(variant, 10, 2);

    Map<String, Double> m = ring.measure(20, 2).stream()
        .collect(Collectors.toMap(Result::metric, Result::value));
    long[] each = ring.stopAndJoin(); // already stopped: the counts as the threads left them

    assertThat(m.get("threads")).isEqualTo(10);
    assertThat(m.get("switch")).isPositive();
    assertThat(m.get("cpu_per_switch")).isNotNegative();
    assertThat(m).containsKeys("round1_switch", "round2_switch");
    assertThat(Arrays.stream(each).sum()).isEqualTo(ring.turns());
    // In order round the ring: each thread took its turn once per lap, so counts differ by one
    // at most (the lap the ring stopped in).
    long min = Arrays.stream(each).min().orElseThrow();
    long max = Arrays.stream(each).max().orElseThrow();
    assertThat(min).isPositive();
    assertThat(max - min).isLessThanOrEqualTo(1);
  }

  @Test
  @Tag("realtime")
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void measure_yield_reportsItsFiguresAndEveryTurnTaken() throws Exception {
    SwitchFloor.Ring ring = new SwitchFloor.Ring("yield", 10, 2);

    Map<String, Double> m = ring.measure(20, 2).stream()
        .collect(Collectors.toMap(Result::metric, Result::value));
    long[] each = ring.stopAndJoin();

    assertThat(SwitchFloor.VARIANTS).containsExactly("park", "park-held", "spin-ahead", "yield");
    assertThat(m.get("threads")).isEqualTo(10);
    assertThat(m.get("switch")).isPositive();
    assertThat(m).containsKeys("round1_switch", "round2_switch");
    assertThat(Arrays.stream(each).sum()).isEqualTo(ring.turns());
  }

  @Test
  void ring_badArguments_throwNamingThem() {
    assertThatThrownBy(() -> new SwitchFloor.Ring("sleep", 10, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown variant: sleep");
    assertThatThrownBy(() -> new SwitchFloor.Ring("park", 1, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("threads < 2: 1");
    assertThatThrownBy(() -> new SwitchFloor.Ring("spin-ahead", 10, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ahead not in [1, threads - 1]: 10");
  }

  @Test
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void measure_badRoundLength_throwsNamingIt() throws Exception {
    SwitchFloor.Ring ring = new SwitchFloor.Ring("park", 10, 2);

    assertThatThrownBy(() -> ring.measure(0, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("round-ms <= 0: 0");
    assertThatThrownBy(() -> ring.measure(20, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rounds <= 0: 0");
  }
}
