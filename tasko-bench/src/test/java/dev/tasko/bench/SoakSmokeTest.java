package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Runs the soak for three seconds with 200 tasks and checks its report is whole and sane: every
 * task ended, nothing stuck, no failure, every kind of work done. Never asserts how fast anything
 * is, nor how exact the rates are (that is for the full soak on a quiet machine).
 */
class SoakSmokeTest {

  @Test
  void soak_smoke_everyTaskEndsAndNothingSticks() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    List<Result> results = Soak.run(Soak.Options.parse("--smoke"), out);

    String printed = bytes.toString(StandardCharsets.UTF_8);
    System.out.print(printed);
    assertThat(printed).contains("heap after GC");
    Map<String, Double> r = results.stream()
        .collect(Collectors.toMap(Result::metric, Result::value));
    assertThat(printed.lines().map(Result::parse).flatMap(java.util.Optional::stream).toList())
        .containsExactlyElementsOf(results.stream().map(x -> Result.parse(x.line()).orElseThrow())
            .toList());
    assertThat(r.get("tasks_left")).isZero();
    assertThat(r.get("failures")).isZero();
    assertThat(r.get("stuck_max")).isZero();
    assertThat(r.get("schedule_runs")).isPositive();
    assertThat(r.get("resumes_received")).isPositive();
    assertThat(r.get("bus_uses")).isPositive();
    assertThat(r.get("tasks_spawned")).isPositive().isEqualTo(r.get("tasks_ended"));
    assertThat(r.get("heap_after_gc_last")).isPositive();
  }

  @Test
  void options_parseDurations() {
    assertThat(Soak.Options.parse("--duration", "1h").duration()).hasHours(1);
    assertThat(Soak.Options.parse("--duration", "PT90S").duration()).hasSeconds(90);
    assertThat(Soak.Options.parse("--duration", "1h").reportEvery()).hasMinutes(1);
    assertThat(Soak.Options.parse("--duration", "30s", "--report-every", "5s").reportEvery())
        .hasSeconds(5);
  }
}
