package dev.tasko.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import dev.tasko.Loop;
import dev.tasko.pi4j.test.MockBoard;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DemoAppTest {
  private final Context pi4j = MockBoard.context();
  private final Loop loop = Loop.builder().name("test").virtualTime().build();
  private final List<String> events = new ArrayList<>();

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  private DemoApp wire() {
    DemoApp app = DemoApp.wire(loop, pi4j, events::add);
    MockBoard.answerOnSelect(pi4j, DemoApp.SPI, DemoApp.SENSOR_CS, MockBoard.thermometer());
    MockBoard.answerOnSelect(pi4j, DemoApp.SPI, DemoApp.SDCARD_CS, () -> new byte[0]);
    return app;
  }

  @Test
  void wire_twelveSecondsWithSimulatedPresses_sensorBusLoggerAndButtonInOrder() {
    DemoApp app = wire();
    app.simulatePresses();
    loop.runLater(Duration.ofSeconds(12), loop::stop);

    loop.run();

    assertThat(events).filteredOn(e -> !e.contains("beach-ball")).containsExactly(
        "0.000 s sensor start (every 5 s)", // asks for the bus; the SD card holds it until 0.040
        "0.040 s sd-card wrote 25 bytes", // the three header lines, back to back
        "0.080 s sd-card wrote 29 bytes",
        "0.120 s sd-card wrote 47 bytes",
        "1.040 s sensor 21.53 C", // one second after it got the bus
        "1.080 s sd-card wrote 24 bytes", // the logger woke for the reading's line at once
        "3.700 s button pressed: read in 1 s", // the edge's task woke at the press
        "4.700 s sensor start (button)", // run later: exactly one second after the press
        "5.000 s sensor skipped: a read is in flight",
        "5.700 s sensor 21.59 C",
        "5.740 s sd-card wrote 21 bytes",
        "7.400 s button pressed: read in 1 s",
        "8.400 s sensor start (button)",
        "9.400 s sensor 21.65 C",
        "9.440 s sd-card wrote 21 bytes",
        "10.000 s sensor start (every 5 s)",
        "11.000 s sensor 21.71 C",
        "11.040 s sd-card wrote 25 bytes",
        "11.100 s button pressed: read in 1 s");
    assertThat(app.sensor().busWaits()).isEqualTo(1);
    assertThat(app.sensor().maxBusWait()).isEqualTo(Duration.ofMillis(40));
    assertThat(app.logger().queued()).isZero();
  }

  @Test
  void wire_twelveSeconds_beachBallSpinsAt10HzOnlyWhileAReadIsInFlight() {
    DemoApp app = wire();
    app.simulatePresses();
    loop.runLater(Duration.ofSeconds(12), loop::stop);

    loop.run();

    List<double[]> reads = new ArrayList<>(); // [start, end] of each read, from the events
    List<Double> frames = new ArrayList<>();
    for (String e : events) {
      double at = Double.parseDouble(e.substring(0, e.indexOf(' ')));
      if (e.contains("sensor start")) {
        reads.add(new double[] {at, Double.NaN});
      } else if (e.matches(".* sensor \\d.*")) {
        reads.get(reads.size() - 1)[1] = at;
      } else if (e.contains("beach-ball")) {
        frames.add(at);
      }
    }
    assertThat(reads).hasSize(4);
    for (double frame : frames) {
      assertThat(reads).as("a read in flight at frame %.3f s", frame)
          .anyMatch(r -> r[0] <= frame && frame <= r[1]);
    }
    // 10 Hz while in flight: 11 frames for the first read (1.04 s long), 10 for each other one.
    assertThat(frames).hasSize(11 + 10 + 10 + 10);
    assertThat(app.ball().frames()).isEqualTo(frames.size());
  }

  @Test
  void pressMockButton_fromForeignThread_triggersReadOneSecondAfterNextButtonRead()
      throws InterruptedException {
    DemoApp app = wire();
    loop.runLater(Duration.ofMillis(2_000), () -> {
      Thread finger = new Thread(app::pressMockButton, "keyboard");
      finger.start();
      finger.join(); // a thread outside the loop, like the demo's keyboard; the 100 Hz read sees it
    });
    loop.runLater(Duration.ofSeconds(4), loop::stop);

    loop.run();

    assertThat(events).filteredOn(e -> e.contains("button")
        || e.contains("sensor")).containsExactly( "0.000 s sensor start (every 5 s)",
        "1.040 s sensor 21.53 C",
        "2.000 s button pressed: read in 1 s",
        "3.000 s sensor start (button)",
        "4.000 s sensor 21.59 C");
    assertThat(app.presses()).isEqualTo(1);
  }
}
