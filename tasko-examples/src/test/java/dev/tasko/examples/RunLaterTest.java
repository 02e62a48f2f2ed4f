package dev.tasko.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import dev.tasko.Loop;
import dev.tasko.pi4j.test.MockBoard;
import dev.tasko.test.TestLoop;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RunLaterTest {
  private final Context pi4j = MockBoard.context();
  @RegisterExtension final TestLoop test = new TestLoop();
  private final Loop loop = test.loop();
  private final Output out = new Output();

  @AfterEach
  void shutDown() {
    test.cancelAll(); // the program runs forever
    pi4j.shutdown();
  }

  @Test
  void readButton_press_readsSensorOneSecondLaterAndIgnoresPressesMeanwhile() {
    RunLater.wire(loop, pi4j, out.stream());
    // Presses between two reads of the button (every 10 ms): the watcher keeps them.
    loop.runLater(Duration.ofMillis(505), () -> MockBoard.press(pi4j, "button"));
    loop.runLater(Duration.ofMillis(1205), () -> MockBoard.press(pi4j, "button"));
    loop.runLater(Duration.ofMillis(2005), () -> MockBoard.press(pi4j, "button"));
    test.runFor(Duration.ofSeconds(4));

    assertThat(out.lines()).containsExactly(
        "0.510 s  button pressed: sensor read in 1 s",
        "1.210 s  button pressed: a read is already pending",
        "1.510 s  reading the sensor",
        "2.010 s  button pressed: sensor read in 1 s",
        "3.010 s  reading the sensor");
  }

  @Test
  void readButton_pressFromForeignThread_isSeenAtTheNextRead() throws InterruptedException {
    RunLater.wire(loop, pi4j, out.stream());
    Thread outside = new Thread(() -> MockBoard.press(pi4j, "button"), "outside");
    outside.start();
    outside.join(); // before the loop runs: the press waits in the watcher
    test.runFor(Duration.ofMillis(1500));

    assertThat(out.lines()).containsExactly(
        "0.000 s  button pressed: sensor read in 1 s",
        "1.000 s  reading the sensor");
  }
}
