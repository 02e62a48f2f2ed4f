package dev.tasko.examples.demo;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.gpio.digital.PullResistance;
import com.pi4j.io.spi.Spi;
import com.pi4j.io.spi.SpiBus;
import dev.tasko.Handle;
import dev.tasko.Loop;
import dev.tasko.ScheduledTask;
import dev.tasko.TaskBody;
import dev.tasko.pi4j.EdgeWatcher;
import dev.tasko.pi4j.ManagedSpi;
import dev.tasko.pi4j.test.MockBoard;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The toy app of the original tasko's README, wired on a loop: the whole demo except the screen. It
 * takes its loop and its Pi4J context from outside, so that tests can run it on virtual time and
 * the mock platform.
 *
 * <ul>
 *   <li>a sensor on the SPI bus, read every 5 s and one second after each button press; a read
 *       takes one second, during which the bus is free;
 *   <li>a beach ball animated 10 times a second, only while a read is in flight;
 *   <li>an SD-card logger on the same bus, a task that takes its lines from a channel and writes
 *       each as it comes; it holds the bus while the card is busy after each block;
 *   <li>a 3D printer polled 5 times a second;
 *   <li>a button, a task that takes its edges from the button's edge channel.
 * </ul>
 *
 * <p>Everything here runs in the loop's tasks, one at a time: no field needs a lock.
 */
final class DemoApp {
  /** Pins (BCM numbers) and Pi4J ids of the demo's hardware. */
  static final String SPI = "spi";
  static final String SENSOR_CS = "sensor-cs";
  static final String SDCARD_CS = "sdcard-cs";
  static final String BUTTON = "button";
  static final int SENSOR_CS_PIN = 5;
  static final int SDCARD_CS_PIN = 6;
  static final int BUTTON_PIN = 17;

  static final Duration SENSOR_EVERY = Duration.ofSeconds(5);
  static final Duration BUTTON_DELAY = Duration.ofSeconds(1);
  static final Duration SIMULATED_PRESS_EVERY = Duration.ofMillis(3700);
  /** Button edges queued before the button task falls behind and they are counted as dropped. */
  static final int EDGES = 16;

  private final Loop loop;
  private final Context pi4j;
  private final long start;
  private final Consumer<String> events;
  private final ManagedSpi bus;
  /** Holding the bus longer than this is reported (log and JFR), the lease left alone. */
  static final Duration BUS_HOLD_LIMIT = Duration.ofMillis(100);
  private final Map<Handle<Spi>, String> deviceNames;
  private final Sensor sensor;
  private final SdLogger logger;
  private final BeachBall ball;
  private final Printer printer = new Printer();
  private final EdgeWatcher button;
  private final List<ScheduledTask> schedules = new ArrayList<>();

  private boolean readPending;
  private int presses;
  private int pressReads;
  private int pressesIgnored;
  private int scheduledReadsSkipped;

  private DemoApp(Loop loop, Context pi4j, Consumer<String> events) {
    this.loop = loop;
    this.pi4j = pi4j;
    this.start = loop.nanoTime();
    this.events = events;

    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id(SPI).bus(SpiBus.BUS_0).channel(0)
        .baud(1_000_000));
    bus = ManagedSpi.of(spi);
    // The SD card holds the bus 40 ms per block; a hold past this is a bug worth a warning.
    bus.resource().withHoldLimit(BUS_HOLD_LIMIT);
    Handle<Spi> sensorHandle = bus.csHandle(output(pi4j, SENSOR_CS, SENSOR_CS_PIN));
    Handle<Spi> sdHandle = bus.csHandle(output(pi4j, SDCARD_CS, SDCARD_CS_PIN));
    deviceNames = Map.of(sensorHandle, "sensor", sdHandle, "sd-card");
    sensor = new Sensor(loop, sensorHandle);
    logger = new SdLogger(sdHandle);
    ball = new BeachBall(sensor);
    button = EdgeWatcher.of(loop, pi4j.create(DigitalInput.newConfigBuilder(pi4j).id(BUTTON)
        .address(BUTTON_PIN).pull(PullResistance.PULL_DOWN)), EDGES);
    loop.closeOnShutdown(button); // read by a schedule: it lives as long as the loop
  }

  /**
   * Makes the hardware in {@code pi4j} and schedules the app's tasks on {@code loop}.
   *
   * @param events told, in order, what the app does ("1.000 s sensor 21.50 C"): for tests
   */
  static DemoApp wire(Loop loop, Context pi4j, Consumer<String> events) {
    DemoApp app = new DemoApp(loop, pi4j, events);
    app.logger.log("# tasko demo: sensor log");
    app.logger.log("# time s, temperature C, why");
    app.logger.log("# reads every " + SENSOR_EVERY.toSeconds() + " s and "
        + BUTTON_DELAY.toSeconds() + " s after a button press");
    // The logger first: its first block holds the bus while the sensor asks for it.
    loop.addTask("sd-logger",
        () -> app.logger.run(n -> app.event("sd-card wrote " + n + " bytes")));
    app.schedule("sensor", SENSOR_EVERY, app::scheduledRead);
    app.schedule("beach-ball", Duration.ofMillis(100), app::animate);
    app.schedule("3d-printer", Duration.ofMillis(200), app.printer::poll);
    loop.addTask("button", app::watchButton);
    return app;
  }

  /** Schedules {@code body} and lists it in the status view. */
  ScheduledTask schedule(String name, Duration interval, TaskBody body) {
    ScheduledTask s = loop.schedule(name, interval, body);
    schedules.add(s);
    return s;
  }

  /**
   * Presses the mock button every {@link #SIMULATED_PRESS_EVERY}, from the loop: for runs without a
   * keyboard.
   */
  void simulatePresses() {
    ScheduledTask s = loop.scheduleLater("finger", SIMULATED_PRESS_EVERY, this::pressMockButton);
    schedules.add(s);
  }

  /** Presses and releases the mock button. Any thread: Pi4J calls the listeners on this one. */
  void pressMockButton() {
    MockBoard.press(pi4j, BUTTON);
  }

  // ---- the tasks ----

  private void scheduledRead() {
    if (sensor.busy() || readPending) {
      scheduledReadsSkipped++;
      event("sensor skipped: a read is " + (sensor.busy() ? "in flight" : "pending"));
      return;
    }
    read("every " + SENSOR_EVERY.toSeconds() + " s");
  }

  private void read(String why) {
    event("sensor start (" + why + ")");
    double celsius = sensor.read();
    event(String.format("sensor %.2f C", celsius));
    logger.log(String.format("%.3f, %.2f, %s", seconds(), celsius, why));
  }

  private void animate() {
    if (ball.animate()) {
      event("beach-ball " + ball.glyph());
    }
  }

  /** The button's task: reacts to each press as its edge comes out of the channel. */
  private void watchButton() {
    for (EdgeWatcher.Edge edge : button.edges()) { // until the watcher is closed
      if (edge.state() != DigitalState.HIGH) {
        continue;
      }
      presses++;
      if (sensor.busy() || readPending) {
        pressesIgnored++;
        event("button pressed: ignored, a read is " + (sensor.busy() ? "in flight" : "pending"));
        continue;
      }
      readPending = true;
      pressReads++;
      event("button pressed: read in " + BUTTON_DELAY.toSeconds() + " s");
      loop.runLater("button-read", BUTTON_DELAY, () -> {
        readPending = false;
        read("button");
      });
    }
  }

  private void event(String what) {
    events.accept(String.format("%.3f s %s", seconds(), what));
  }

  // ---- for the status view ----

  double seconds() {
    return (loop.nanoTime() - start) / 1e9;
  }

  long startNanos() {
    return start;
  }

  Loop loop() {
    return loop;
  }

  List<ScheduledTask> schedules() {
    return schedules;
  }

  ManagedSpi bus() {
    return bus;
  }

  /** The device a handle of the bus selects: "sensor" or "sd-card". */
  String deviceName(Handle<Spi> handle) {
    return deviceNames.getOrDefault(handle, String.valueOf(handle));
  }

  Sensor sensor() {
    return sensor;
  }

  SdLogger logger() {
    return logger;
  }

  BeachBall ball() {
    return ball;
  }

  Printer printer() {
    return printer;
  }

  int presses() {
    return presses;
  }

  int pressReads() {
    return pressReads;
  }

  int pressesIgnored() {
    return pressesIgnored;
  }

  int scheduledReadsSkipped() {
    return scheduledReadsSkipped;
  }

  boolean readPending() {
    return readPending;
  }

  private static DigitalOutput output(Context pi4j, String id, int bcm) {
    return pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id(id).address(bcm)
        .shutdown(DigitalState.HIGH));
  }
}
