package dev.tasko.examples.greenhouse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import dev.tasko.Loop;
import dev.tasko.examples.Output;
import dev.tasko.pi4j.test.MockBoard;
import dev.tasko.test.TestLoop;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class GreenhouseTest {
  private static final Duration PERIOD = Duration.ofSeconds(10);

  private final Context pi4j = MockBoard.context();
  @RegisterExtension final TestLoop test = new TestLoop();
  private final Loop loop = test.loop();
  private final Output out = new Output();
  private final List<String> fanChanges = new ArrayList<>();
  @TempDir Path dir;

  /** The inside temperature the scripted sensor answers with, in °C; outside: 18 °C. */
  private double insideC = 25.0;

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  private Greenhouse startScripted() {
    Greenhouse g = Greenhouse.start(loop, pi4j, dir.resolve("greenhouse.log"), out.stream(),
        PERIOD);
    MockBoard.answerAfterWrite(pi4j.io("i2c-1-0x44"), command -> centi(insideC));
    MockBoard.answerAfterWrite(pi4j.io("i2c-1-0x45"), command -> centi(18.0));
    watchFan();
    return g;
  }

  private void watchFan() {
    pi4j.<DigitalOutput>io("fan").addListener(e -> fanChanges.add(
        String.format(Locale.ROOT, "%.3f s fan %s", loop.nanoTime() / 1e9, e.state())));
  }

  private static byte[] centi(double celsius) {
    int c = (int) Math.round(celsius * 100);
    return new byte[] {(byte) (c >> 8), (byte) c};
  }

  private void insideAt(int seconds, double celsius) {
    loop.runLater(Duration.ofSeconds(seconds), () -> insideC = celsius);
  }

  /** Ends the program as its main does, and checks the log file holds every status line. */
  private void closeAndCheckLog(Greenhouse g) throws IOException {
    g.close();
    test.runUntilIdle();
    assertThat(g.logger().isDone()).isTrue();
    assertThat(Files.readAllLines(dir.resolve("greenhouse.log"), StandardCharsets.UTF_8))
        .isEqualTo(out.lines());
  }

  @Test
  void fan_onFrom28_offBelow26_inBetweenAsItWas() throws IOException {
    Greenhouse g = startScripted();
    insideAt(15, 28.0);
    insideAt(25, 27.0);
    insideAt(35, 26.0);
    insideAt(45, 25.99);
    insideAt(55, 27.99);

    test.runFor(Duration.ofSeconds(65)); // the 60 s measurement ends at 60.015 s

    assertThat(out.lines()).containsExactly(
        "0.015 s  inside 25.00 C  outside 18.00 C  fan off",
        "10.015 s  inside 25.00 C  outside 18.00 C  fan off",
        "20.015 s  inside 28.00 C  outside 18.00 C  fan on",
        "30.015 s  inside 27.00 C  outside 18.00 C  fan on",
        "40.015 s  inside 26.00 C  outside 18.00 C  fan on",
        "50.015 s  inside 25.99 C  outside 18.00 C  fan off",
        "60.015 s  inside 27.99 C  outside 18.00 C  fan off");
    assertThat(fanChanges).containsExactly("20.015 s fan HIGH", "50.015 s fan LOW");
    closeAndCheckLog(g);
  }

  @Test
  void button_bouncingPresses_eachTogglesManualOnceAfterTheDebounce() throws IOException {
    Greenhouse g = startScripted();
    SimulatedGreenhouse finger = SimulatedGreenhouse.attach(loop, pi4j);
    MockBoard.answerAfterWrite(pi4j.io("i2c-1-0x44"), command -> centi(insideC)); // scripted again
    MockBoard.answerAfterWrite(pi4j.io("i2c-1-0x45"), command -> centi(18.0));
    loop.runLater(Duration.ofSeconds(5), finger::press); // bounces at 5.000 .. 5.002 s
    loop.runLater(Duration.ofSeconds(12), finger::press);

    test.runFor(Duration.ofSeconds(25));

    assertThat(out.lines()).containsExactly(
        "0.015 s  inside 25.00 C  outside 18.00 C  fan off",
        "5.022 s  button: fan on (manual)", // settled at 5.002 s, quiet for 20 ms
        "10.015 s  inside 25.00 C  outside 18.00 C  fan on (manual)",
        "12.022 s  button: fan off", // manual off: 25 C is cool enough
        "20.015 s  inside 25.00 C  outside 18.00 C  fan off");
    assertThat(fanChanges).containsExactly("5.022 s fan HIGH", "12.022 s fan LOW");
    assertThat(g.isManual()).isFalse();
    closeAndCheckLog(g);
  }

  @Test
  void anHourInTheSimulatedGreenhouse_fanKeepsItBetweenTheThresholds() throws IOException {
    Greenhouse g = Greenhouse.start(loop, pi4j, dir.resolve("greenhouse.log"), out.stream(),
        PERIOD);
    SimulatedGreenhouse.attach(loop, pi4j);
    watchFan();

    test.runFor(Duration.ofHours(1).plusSeconds(1));

    List<String> lines = out.lines();
    assertThat(lines).hasSize(361); // 0 s, 10 s, ..., 3600 s
    boolean fanOn = false;
    for (String line : lines) { // each line follows the rule from the line before
      double inside = Double.parseDouble(line.split("inside ")[1].split(" C")[0]);
      fanOn = Greenhouse.fanShouldRun(fanOn, inside, false);
      assertThat(line).endsWith(fanOn ? "fan on" : "fan off");
      // the sun adds at most 2 C between two readings, the fan takes off at most 3 C
      assertThat(inside).isBetween(Greenhouse.FAN_OFF_AT - 3.01, Greenhouse.FAN_ON_AT + 2.01);
    }
    assertThat(fanChanges.size()).isGreaterThan(10); // it cycles, hour after hour
    closeAndCheckLog(g);
  }

  @Test
  void fanShouldRun_rule() {
    assertThat(Greenhouse.fanShouldRun(false, 27.99, false)).isFalse();
    assertThat(Greenhouse.fanShouldRun(false, 28.0, false)).isTrue();
    assertThat(Greenhouse.fanShouldRun(true, 26.0, false)).isTrue();
    assertThat(Greenhouse.fanShouldRun(true, 25.99, false)).isFalse();
    assertThat(Greenhouse.fanShouldRun(false, 10.0, true)).isTrue();
  }

  @Test
  void logFile_missingDirectoryDirectoryOrBadName_refusedNamingIt(@TempDir Path dir)
      throws IOException {
    Path taken = Files.createDirectory(dir.resolve("greenhouse.log"));

    // Before: main took any name, and the logger's first write ended the program in a stack trace.
    assertThatThrownBy(() -> Greenhouse.logFile("/no/such/dir/greenhouse.log"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("no directory /no/such/dir to write the log file "
            + "'/no/such/dir/greenhouse.log' in");
    assertThatThrownBy(() -> Greenhouse.logFile(taken.toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the log file '" + taken + "' is a directory");
    assertThatThrownBy(() -> Greenhouse.logFile("green\0house.log"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the log file 'green\0house.log' is not a file name this system"
            + " accepts (");
    assertThat(Greenhouse.logFile(dir.resolve("ok.log").toString()))
        .isEqualTo(dir.resolve("ok.log"));
  }
}
