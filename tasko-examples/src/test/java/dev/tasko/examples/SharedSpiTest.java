package dev.tasko.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import dev.tasko.Loop;
import dev.tasko.pi4j.test.MockBoard;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SharedSpiTest {
  private final Context pi4j = MockBoard.context();
  private final Loop loop = Loop.builder().name("test").virtualTime().build();
  private final Output out = new Output();

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  @Test
  void wire_twelveSeconds_readsEverySecondAndLoggerSwitchesBetween100msAnd10s() {
    SharedSpi app = SharedSpi.wire(loop, pi4j, out.stream());
    MockBoard.answerOnSelect(pi4j, "spi", "sensor-cs", MockBoard.thermometer());
    loop.runLater(Duration.ofMillis(10_450), loop::stop);

    loop.run();

    assertThat(out.lines()).containsExactly(
        "0.000 s  sensor: 21.50 C",
        "0.000 s  sd card: wrote 17 bytes; next write in 100 ms",
        "0.100 s  sd card: wrote 0 bytes; next write in 10 s",
        "1.000 s  sensor: 21.53 C",
        "2.000 s  sensor: 21.56 C",
        "3.000 s  sensor: 21.59 C",
        "4.000 s  sensor: 21.62 C",
        "5.000 s  sensor: 21.65 C",
        "6.000 s  sensor: 21.68 C",
        "7.000 s  sensor: 21.71 C",
        "8.000 s  sensor: 21.74 C",
        "9.000 s  sensor: 21.77 C",
        "10.000 s  sensor: 21.80 C",
        "10.100 s  sd card: wrote 17 bytes; next write in 100 ms",
        "10.200 s  sd card: wrote 17 bytes; next write in 100 ms",
        "10.300 s  sd card: wrote 17 bytes; next write in 100 ms",
        "10.400 s  sd card: wrote 17 bytes; next write in 100 ms");
    assertThat(app.sdLogTask().interval()).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void wire_afterRun_bothChipSelectsInactive() {
    SharedSpi.wire(loop, pi4j, out.stream());
    loop.runLater(Duration.ofSeconds(3), loop::stop);

    loop.run();

    assertThat(pi4j.<DigitalOutput>io("sensor-cs").isHigh()).isTrue();
    assertThat(pi4j.<DigitalOutput>io("sdcard-cs").isHigh()).isTrue();
  }
}
