package dev.tasko.examples;

import static dev.tasko.Rate.hz;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.gpio.digital.PullResistance;
import dev.tasko.Loop;
import dev.tasko.pi4j.EdgeWatcher;
import dev.tasko.pi4j.test.MockBoard;
import java.io.PrintStream;
import java.time.Duration;

/**
 * "Run something later", from the original <a
 * href="https://github.com/WarriorOfWire/tasko">tasko</a>'s README: a button is read 100 times a
 * second, and a press starts a sensor read one second later — while the button keeps being read.
 *
 * <p>Run it, then press Enter to press the (mock) button; Ctrl-C to stop:
 * <pre>./demo --example RunLater</pre>
 */
public final class RunLater {
  private final Loop loop;
  private final EdgeWatcher button;
  private final PrintStream out;
  /** The loop's time when the example started: the origin of the times it prints. */
  private final long start;
  /** Whether a read is scheduled and not yet done. Only the loop's tasks touch it: no lock. */
  private boolean pendingSensor;

  private RunLater(Loop loop, EdgeWatcher button, PrintStream out) {
    this.loop = loop;
    this.button = button;
    this.out = out;
    this.start = loop.nanoTime();
  }

  /** Reads the button on GPIO 17 100 times a second. Returns the running example. */
  public static RunLater wire(Loop loop, Context pi4j, PrintStream out) {
    DigitalInput pin = pi4j.create(DigitalInput.newConfigBuilder(pi4j).id("button").address(17)
        .pull(PullResistance.PULL_DOWN));
    // The watcher queues every change, so a press shorter than 10 ms is not missed between reads.
    EdgeWatcher watcher = EdgeWatcher.of(pin);
    loop.closeOnShutdown(watcher); // polled by a schedule, it lives as long as the loop
    RunLater app = new RunLater(loop, watcher, out);
    loop.schedule("read-button", hz(100), app::readButton);
    return app;
  }

  private void readSensor() {
    say("reading the sensor");
    pendingSensor = false;
  }

  private void readButton() {
    boolean wasPressed = checkIfButtonWasPressed();

    if (wasPressed && !pendingSensor) {
      // Read the sensor a second later. You can show UI or something beforehand, or you could tell
      // the BME680 to warm up its VOC sensor without waiting for it. You'll still be checking the
      // button at 100 Hz in the meantime.
      pendingSensor = true;
      loop.runLater(Duration.ofSeconds(1), this::readSensor);
      say("button pressed: sensor read in 1 s");
    } else if (wasPressed) {
      say("button pressed: a read is already pending");
    }
  }

  /** Whether the button went down since the last call. */
  private boolean checkIfButtonWasPressed() {
    boolean pressed = false;
    for (DigitalState change; (change = button.poll()) != null; ) {
      pressed |= change == DigitalState.HIGH;
    }
    return pressed;
  }

  private void say(String what) {
    out.printf("%8.3f s  %s%n", (loop.nanoTime() - start) / 1e9, what);
  }

  /** Runs the example on Pi4J's mock platform until Ctrl-C; each Enter presses the button. */
  public static void main(String[] args) {
    Context pi4j = MockBoard.context(); // on a Raspberry Pi: Pi4J.newAutoContext()
    Loop loop = Loop.create();
    wire(loop, pi4j, System.out);
    System.out.println("Press Enter to press the button, Ctrl-C to stop.");
    MockBoard.pressOnEnter(pi4j, "button", System.in); // the mock has no finger
    loop.run();
  }
}
