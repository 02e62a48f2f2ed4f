package dev.tasko.examples;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.gpio.digital.PullResistance;
import dev.tasko.Loop;
import dev.tasko.Task;
import dev.tasko.Tasko;
import dev.tasko.pi4j.EdgeWatcher;
import dev.tasko.pi4j.test.MockBoard;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;

/**
 * "You can do a lot more than this", from the original <a
 * href="https://github.com/WarriorOfWire/tasko">tasko</a>'s README: rather than keep state and
 * inspect it on every pass of a main loop, await the condition you need. A doorbell task waits for
 * the button (no polling: it costs nothing while it waits), rings a bell for two seconds, and says
 * so when nobody has rung for a while. A press during the ringing is not lost: it rings again
 * afterwards.
 *
 * <p>Run it, then press Enter to press the (mock) button; Ctrl-C to stop:
 * <pre>./demo --example AwaitButton</pre>
 */
public final class AwaitButton {
  private AwaitButton() {}

  /**
   * Adds the doorbell task to {@code loop}: button on GPIO 17, bell on GPIO 18. Returns the task.
   */
  public static Task<Void> wire(Loop loop, Context pi4j, PrintStream out) {
    DigitalInput pin = pi4j.create(DigitalInput.newConfigBuilder(pi4j).id("button").address(17)
        .pull(PullResistance.PULL_DOWN));
    DigitalOutput bell = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("bell").address(18)
        .initial(DigitalState.LOW).shutdown(DigitalState.LOW));
    long start = loop.nanoTime();

    return loop.addTask("doorbell", () -> {
      // The task's own watcher: closed when the task ends, however it ends.
      try (EdgeWatcher button = EdgeWatcher.of(pin)) {
        for (;;) {
          Optional<DigitalState> change = button.await(Duration.ofSeconds(5)); // the loop sleeps
          double at = (loop.nanoTime() - start) / 1e9;
          if (change.isEmpty()) {
            out.printf("%8.3f s  nobody rang for 5 s%n", at);
          } else if (change.get() == DigitalState.HIGH) {
            out.printf("%8.3f s  ding dong%n", at);
            bell.high();
            Tasko.sleep(Duration.ofSeconds(2)); // presses meanwhile wait in the watcher's queue
            bell.low();
          }
        }
      }
    });
  }

  /** Runs the example on Pi4J's mock platform until Ctrl-C; each Enter presses the button. */
  public static void main(String[] args) {
    Context pi4j = MockBoard.context(); // on a Raspberry Pi: Pi4J.newAutoContext()
    Loop loop = Loop.create();
    wire(loop, pi4j, System.out);
    System.out.println("Press Enter to ring, Ctrl-C to stop.");
    MockBoard.pressOnEnter(pi4j, "button", System.in); // the mock has no finger
    loop.run();
  }
}
