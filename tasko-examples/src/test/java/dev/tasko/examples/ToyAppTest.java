package dev.tasko.examples;

import static com.pi4j.io.gpio.digital.DigitalState.HIGH;
import static com.pi4j.io.gpio.digital.DigitalState.LOW;
import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import dev.tasko.Loop;
import dev.tasko.pi4j.test.MockBoard;
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ToyAppTest {
  private final Context pi4j = MockBoard.context();
  private final Loop loop = Loop.builder().name("test").virtualTime().build();
  private final Output out = new Output();

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  @Test
  void wire_twelveSeconds_beachBallSpinsOnlyWhileTheSensorReads() {
    ToyApp app = ToyApp.wire(loop, pi4j, out.stream());
    Supplier<byte[]> thermometer = MockBoard.thermometer();
    MockBoard.answerAfterWrite(pi4j.io("i2c-1-0x44"), command -> thermometer.get());
    loop.runLater(Duration.ofSeconds(12), loop::stop);

    loop.run();

    assertThat(out.lines()).containsExactly(
        "0.000 s  beach ball |", "0.100 s  beach ball /",
        "0.200 s  beach ball -", "0.300 s  beach ball \\",
        "0.400 s  beach ball |", "0.500 s  beach ball /",
        "0.600 s  beach ball -", "0.700 s  beach ball \\",
        "0.800 s  beach ball |", "0.900 s  beach ball /",
        "1.000 s  sensor: 21.50 C",
        "10.000 s  beach ball -", "10.100 s  beach ball \\",
        "10.200 s  beach ball |", "10.300 s  beach ball /",
        "10.400 s  beach ball -", "10.500 s  beach ball \\",
        "10.600 s  beach ball |", "10.700 s  beach ball /",
        "10.800 s  beach ball -", "10.900 s  beach ball \\",
        "11.000 s  sensor: 21.53 C");
    // 0.0, 0.2, ..., 12.0: the stop ends the pass at 12 s
    assertThat(app.printerPolls()).isEqualTo(61);
  }

  @Test
  void rotary_turnedBothWaysAndPressed_reportsDetentsAndPress() {
    ToyApp app = ToyApp.wire(loop, pi4j, out.stream());
    MockDigitalInput a = pi4j.io("rotary-a");
    MockDigitalInput b = pi4j.io("rotary-b");
    // One detent clockwise (A leads), one click, two detents back (B leads); 20 ms per step, so the
    // 100 Hz reads see every step.
    DigitalState[][] steps = {
        {HIGH, LOW}, {HIGH, HIGH}, {LOW, HIGH}, {LOW, LOW},
        {LOW, HIGH}, {HIGH, HIGH}, {HIGH, LOW}, {LOW, LOW},
        {LOW, HIGH}, {HIGH, HIGH}, {HIGH, LOW}, {LOW, LOW},
    };
    for (int i = 0; i < steps.length; i++) {
      DigitalState[] ab = steps[i];
      long at = 2_005 + 20L * i + (i >= 4 ? 500 : 0);
      loop.runLater(Duration.ofMillis(at), () -> {
        a.mockState(ab[0]);
        b.mockState(ab[1]);
      });
    }
    loop.runLater(Duration.ofMillis(2_305), () -> MockBoard.press(pi4j, "rotary-push"));
    loop.runLater(Duration.ofSeconds(3), loop::stop);

    loop.run();

    assertThat(out.lines()).filteredOn(line -> line.contains("rotary")).containsExactly(
        "2.070 s  rotary at 1",
        "2.310 s  rotary pressed",
        "2.650 s  rotary at 0",
        "2.730 s  rotary at -1");
    assertThat(app.rotaryPosition()).isEqualTo(-1);
  }
}
