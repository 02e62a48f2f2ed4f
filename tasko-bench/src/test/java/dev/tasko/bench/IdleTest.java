package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdleTest {

  @Test
  void results_secondSwitchReadingFailed_leavesTheSwitchRateOut() {
    Idle.Window window = new Idle.Window(0, 1);
    window.runs = 10;
    window.switches0 = new long[] {100, 5};
    window.switches = new long[] {-1, -1}; // /proc could not be read at the end

    assertThat(window.results("tasko-java", 1, false))
        .extracting(Result::metric)
        .contains("runs")
        .doesNotContain("voluntary_switches_per_run");
  }

  @Test
  void results_bothSwitchReadings_givesTheRatePerRun() {
    Idle.Window window = new Idle.Window(0, 1);
    window.runs = 10;
    window.switches0 = new long[] {100, 5};
    window.switches = new long[] {130, 9};

    assertThat(window.results("tasko-java", 1, false))
        .filteredOn(r -> r.metric().equals("voluntary_switches_per_run"))
        .singleElement()
        .satisfies(r -> assertThat(r.value()).isEqualTo(3.0));
  }
}
