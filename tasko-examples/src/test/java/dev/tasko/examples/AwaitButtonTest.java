package dev.tasko.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import dev.tasko.Loop;
import dev.tasko.pi4j.test.MockBoard;
import dev.tasko.test.TestLoop;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class AwaitButtonTest {
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
  void doorbell_pressWhileRinging_ringsAgainAfterwardsThenReportsQuiet() {
    AwaitButton.wire(loop, pi4j, out.stream());
    pi4j.<DigitalOutput>io("bell").addListener(e ->
        out.stream().printf("%8.3f s  bell %s%n", loop.nanoTime() / 1e9, e.state()));
    loop.runLater(Duration.ofSeconds(1), () -> MockBoard.press(pi4j, "button"));
    loop.runLater(Duration.ofSeconds(2), () -> MockBoard.press(pi4j, "button")); // while it rings
    test.runFor(Duration.ofSeconds(11));

    assertThat(out.lines()).containsExactly(
        "1.000 s  ding dong",
        "1.000 s  bell HIGH",
        "3.000 s  bell LOW",
        "3.000 s  ding dong", // the press at 2 s waited in the watcher's queue
        "3.000 s  bell HIGH",
        "5.000 s  bell LOW",
        "10.000 s  nobody rang for 5 s");
  }
}
