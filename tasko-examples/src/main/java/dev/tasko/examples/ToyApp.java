package dev.tasko.examples;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.PullResistance;
import com.pi4j.io.i2c.I2C;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.Tasko;
import dev.tasko.pi4j.ManagedI2c;
import dev.tasko.pi4j.test.MockBoard;
import java.io.PrintStream;
import java.time.Duration;

/**
 * The toy app of the original <a href="https://github.com/WarriorOfWire/tasko">tasko</a>'s README:
 * a sensor that takes a second to measure, a "loading" beach ball animated 10 times a second while
 * it does, a 3D printer polled 5 times a second and a rotary button read 100 times a second — one
 * loop, no state machines. The sensor and the display of the beach ball share one I2C bus.
 *
 * <p>Run it (Ctrl-C to stop):
 * <pre>./demo --example ToyApp</pre>
 */
public final class ToyApp {
  private static final byte[] MEASURE = {0x24, 0x00};
  private static final byte[] BALL = {'|', '/', '-', '\\'};

  private final Loop loop;
  private final Handle<I2C> sensor;
  private final Handle<I2C> display;
  private final PrintStream out;
  private final long start;

  // Some state. Only the loop's tasks touch it, and only one of them runs at a time: no locks.
  private boolean readingSensor;
  private int ballFrame;
  private int printerPolls;
  private RotaryButton rotary;

  private ToyApp(Loop loop, Handle<I2C> sensor, Handle<I2C> display, PrintStream out) {
    this.loop = loop;
    this.sensor = sensor;
    this.display = display;
    this.out = out;
    this.start = loop.nanoTime();
  }

  // Define the top-level workflows (you would have to write this stuff no matter what)

  private void readSensor() {
    readingSensor = true;
    try {
      try (Lease<I2C> i2c = sensor.acquire()) {
        i2c.resource().write(MEASURE);
      }
      // Don't block your loading beach ball while the sensor is sensing.
      Tasko.sleep(Duration.ofSeconds(1));
      byte[] reading = new byte[2];
      try (Lease<I2C> i2c = sensor.acquire()) {
        i2c.resource().read(reading);
      }
      say(String.format("sensor: %.2f C",
          (short) (((reading[0] & 0xff) << 8) | (reading[1] & 0xff)) / 100.0));
    } finally {
      readingSensor = false;
    }
  }

  private void animateBeachBall() {
    if (readingSensor) {
      // hopefully this is quick - if not, maybe there's something inside to await
      setAnimationState();
    }
  }

  private void setAnimationState() {
    byte frame = BALL[ballFrame++ % BALL.length];
    try (Lease<I2C> i2c = display.acquire()) { // waits if the sensor is on the bus right now
      i2c.resource().write(new byte[] {0x40, frame});
    }
    say("beach ball " + (char) frame);
  }

  private void readFrom3dPrinter() {
    printerPolls++; // ask the printer how it is doing: over a serial port, or HTTP to OctoPrint
  }

  /** How many times the 3D printer was polled. */
  public int printerPolls() {
    return printerPolls;
  }

  /** The rotary button's position, in detents. */
  public int rotaryPosition() {
    return rotary.position();
  }

  /**
   * Makes the devices and schedules the four workflows on {@code loop}. Returns the running app.
   */
  public static ToyApp wire(Loop loop, Context pi4j, PrintStream out) {
    ManagedI2c i2c = ManagedI2c.of(pi4j, 1);
    ToyApp app = new ToyApp(loop, i2c.handle(0x44), i2c.handle(0x3c), out);
    app.rotary = new RotaryButton(input(pi4j, "rotary-a", 22), input(pi4j, "rotary-b", 23),
        input(pi4j, "rotary-push", 27),
        position -> app.say("rotary at " + position),
        () -> app.say("rotary pressed"));
    loop.closeOnShutdown(app.rotary); // its button watcher goes with the loop

    // ---------- Tasko wiring begins here ---------- //
    // Schedule the workflows at whatever frequency makes sense. (The original README schedules the
    // sensor at 100 ms, its text every 10 s: a read takes 1 s, so 10 s leaves the ball at rest.)
    loop.schedule("read-sensor", Duration.ofSeconds(10), app::readSensor);
    loop.schedule("animate-beach-ball", Duration.ofMillis(100), app::animateBeachBall);
    loop.schedule("read-from-3d-printer", Duration.ofMillis(200), app::readFrom3dPrinter);
    loop.schedule("rotary", Duration.ofMillis(10), app.rotary::loop);
    // ----------  Tasko wiring ends here  ---------- //
    return app;
  }

  private static DigitalInput input(Context pi4j, String id, int bcm) {
    return pi4j.create(DigitalInput.newConfigBuilder(pi4j).id(id).address(bcm)
        .pull(PullResistance.PULL_DOWN));
  }

  private void say(String what) {
    out.printf("%8.3f s  %s%n", (loop.nanoTime() - start) / 1e9, what);
  }

  /** Runs the app on Pi4J's mock platform until Ctrl-C. */
  public static void main(String[] args) {
    Context pi4j = MockBoard.context(); // on a Raspberry Pi: Pi4J.newAutoContext()
    Loop loop = Loop.create();
    wire(loop, pi4j, System.out);
    var thermometer = MockBoard.thermometer(); // the mock has no sensor: answer its measure command
    MockBoard.answerAfterWrite(pi4j.io("i2c-1-0x44"), command -> thermometer.get());
    // And let tasko do while (true)
    loop.run();
  }
}
