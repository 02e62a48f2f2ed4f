package dev.tasko.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptionsTest {
  @Test
  void parse_nothing_runsUntilStoppedOnTheMock() {
    assertThat(Options.parse()).isEqualTo(new Options(null, false, false, false));
    // empty -Ddemo.args
    assertThat(Options.parse("")).isEqualTo(new Options(null, false, false, false));
  }

  @Test
  void parse_everyOption_setsIt() {
    assertThat(Options.parse("--duration", "5s", "--plain", "--real", "--help"))
        .isEqualTo(new Options(Duration.ofSeconds(5), true, true, true));
    assertThat(Options.parse("--duration=250ms").duration()).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void parse_timelines_keepsEachFileInOrder() {
    assertThat(Options.parse("--timeline", "out.json", "--timeline=out.svg").timelines())
        .containsExactly(Path.of("out.json"), Path.of("out.svg"));
    assertThatThrownBy(() -> Options.parse("--timeline"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--timeline needs a file, e.g. --timeline out.svg");
  }

  @Test
  void parseDuration_unitsAndIso_parse() {
    assertThat(Options.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Options.parseDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Options.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Options.parseDuration("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Options.parseDuration("PT7S")).isEqualTo(Duration.ofSeconds(7));
    assertThat(Options.parseDuration(".5s")).isEqualTo(Duration.ofMillis(500));
    assertThat(Options.parseDuration("2.s")).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void parse_numberWithoutUnit_saysItNeedsOne() {
    assertThatThrownBy(() -> Options.parse("--duration", ".5"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bad duration: '.5' (a number needs a unit: use e.g. 500ms, 5s, 2m, 1h or "
            + "PT5S)");
    assertThatThrownBy(() -> Options.parse("--duration", "1.5"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a number needs a unit");
    assertThatThrownBy(() -> Options.parse("--duration", "."))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bad duration: '.' (use e.g. 500ms, 5s, 2m, 1h or PT5S)");
  }

  @Test
  void parse_negativeDuration_saysItMustBePositive() {
    // Before: "bad duration: '-1s' (use e.g. 500ms, 5s, ...)", as if the form were wrong.
    assertThatThrownBy(() -> Options.parse("--duration", "-1s"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("duration <= 0: '-1s'");
    assertThatThrownBy(() -> Options.parse("--duration=-0.5ms"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("duration <= 0: '-0.5ms'");
    assertThatThrownBy(() -> Options.parse("--duration", "-1000000000000000h"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration <= 0: '-1000000000000000h'");
  }

  @Test
  void parse_badInput_throwsNamingIt() {
    assertThatThrownBy(() -> Options.parse("--duration"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--duration needs a value, e.g. --duration 5s");
    assertThatThrownBy(() -> Options.parse("--duration",
        "soon")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bad duration: 'soon' (use e.g. 500ms, 5s, 2m, 1h or PT5S)");
    assertThatThrownBy(() -> Options.parse("--duration", "5"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bad duration: '5' (a number needs a unit: use e.g. 500ms, 5s, 2m, 1h or "
            + "PT5S)");
    assertThat(Demo.splitExampleOption(new String[] {"--example=ToyApp", "x"}))
        .containsExactly("--example", "ToyApp", "x");
    assertThat(Demo.splitExampleOption(new String[] {"--plain"})).containsExactly("--plain");
    assertThatThrownBy(() -> Options.parse("--duration", "2s", "--example=ToyApp"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--example comes first on the command line");
    assertThatThrownBy(() -> Options.parse("--duration", "2s", "--example", "ToyApp"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--example comes first on the command line, its arguments after its name: "
            + "--example ToyApp");
    assertThatThrownBy(() -> Options.parse("--duration",
        "0s")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration <= 0: '0s'");
    assertThatThrownBy(() -> Options.parse("--fast")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown option: '--fast'");
    assertThatThrownBy(() -> Options.parse("--duration", "0.0001s"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("duration < 1 ms: '0.0001s'");
    assertThatThrownBy(() -> Options.parse("--duration", "1000000000000000h"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration too long: '1000000000000000h'");
    // Before: ISO-8601 durations past a long of nanoseconds were taken (2,738 years).
    assertThatThrownBy(() -> Options.parse("--duration", "P1000000D"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration too long: 'P1000000D'");
    assertThatThrownBy(() -> Options.parse("--duration", "PT2562048H"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration too long: 'PT2562048H'");
    assertThat(Options.parseDuration("PT2562047H")).isEqualTo(Duration.ofHours(2562047));
  }

  @Test
  void parse_timelineThatCannotBeWritten_refusedAtOnce() {
    assertThatThrownBy(() -> Options.parse("--timeline", "out.txt"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--timeline: 'out.txt' ends in neither .json nor .svg");
    assertThatThrownBy(() -> Options.parse("--timeline=/no/such/dir/out.svg"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--timeline: no directory /no/such/dir to write '/no/such/dir/out.svg' in");
  }

  @Test
  void parse_timelineThatIsADirectoryOrNoFileName_refusedAtOnceNamingTheOption(
      @TempDir Path dir) throws Exception {
    Path taken = Files.createDirectory(dir.resolve("out.svg"));

    // Before: a directory was refused only when the demo ended, with status 1; a name the system
    // refuses threw a message that named no option.
    assertThatThrownBy(() -> Options.parse("--timeline", taken.toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--timeline: '" + taken + "' is a directory");
    assertThatThrownBy(() -> Options.parse("--timeline", "out\0.svg"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--timeline: 'out\0.svg' is not a file name this system accepts");
  }
}
