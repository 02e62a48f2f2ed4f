package dev.tasko.examples.greenhouse;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.gpio.digital.PullResistance;
import com.pi4j.io.i2c.I2C;
import dev.tasko.Channel;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.ScheduledTask;
import dev.tasko.Task;
import dev.tasko.Tasko;
import dev.tasko.examples.OutputFile;
import dev.tasko.pi4j.EdgeWatcher;
import dev.tasko.pi4j.ManagedI2c;
import dev.tasko.pi4j.test.MockBoard;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Locale;

/**
 * A greenhouse controller, the kind of program a newcomer writes first: two temperature sensors
 * on one I2C bus, a fan relay, a button, a log file and a status line, each job written as plain
 * sequential code, with no lock anywhere.
 *
 * <ul>
 *   <li><b>measuring</b>, a schedule (every 10 s in the field): reads the sensor inside, then the
 *       one outside, switches the fan, prints the status line and hands a line to the logger. The
 *       sensors share bus 1 ({@link ManagedI2c}): each read holds the bus for its whole
 *       command-wait-read transaction. The inside sensor stretches the clock while it measures, so
 *       its read blocks: it runs off the loop ({@link Tasko#blocking}) while the task keeps the
 *       bus and the other tasks go on;
 *   <li><b>fan</b>: on at {@value #FAN_ON_AT} °C or warmer, off again below {@value #FAN_OFF_AT}
 *       °C (the gap keeps the relay from chattering), or on whatever the temperature while the
 *       button has put it in manual mode;
 *   <li><b>button</b>, a task that waits for presses without polling: an {@link EdgeWatcher} of the
 *       rising edges, debounced by 20 ms, so a bouncing contact is one press. Each press toggles
 *       manual mode;
 *   <li><b>logger</b>, a task that takes lines from a {@link Channel} and appends them to the log
 *       file with blocking writes run off the loop: a slow SD card never holds up the fan.
 * </ul>
 *
 * <p>Wiring (BCM numbers): I2C bus 1, the inside sensor at 0x44, the outside one at 0x45 (two
 * SHT3x-like sensors: a two-byte command, then two bytes, hundredths of a degree Celsius); the
 * fan's relay on GPIO 23; a push button from 3.3 V to GPIO 17, whose pull-down holds it low.
 *
 * <p>Run it on Pi4J's mock platform, with a simulated greenhouse (it warms in the sun, the fan
 * cools it); Enter presses the button:
 * <pre>./demo --example greenhouse.Greenhouse 60 greenhouse.log</pre>
 */
public final class Greenhouse implements AutoCloseable {
  /** The fan switches on at this inside temperature or above, in °C. */
  public static final double FAN_ON_AT = 28.0;
  /** The fan, once on, switches off below this inside temperature, in °C. */
  public static final double FAN_OFF_AT = 26.0;
  /** The inside sensor's 7-bit I2C address. */
  public static final int INSIDE = 0x44;
  /** The outside sensor's 7-bit I2C address. */
  public static final int OUTSIDE = 0x45;
  /** The button's debounce interval: a press counts once the contact has settled this long. */
  public static final Duration DEBOUNCE = Duration.ofMillis(20);

  /** Measure with clock stretching: the sensor holds the bus clock until it has measured. */
  static final byte[] MEASURE_STRETCHED = {0x2c, 0x06};
  /** Measure without clock stretching: the result is ready 15 ms later. */
  static final byte[] MEASURE = {0x24, 0x00};

  private final Loop loop;
  private final Handle<I2C> inside;
  private final Handle<I2C> outside;
  private final DigitalOutput fan;
  private final PrintStream status;
  private final long start;
  private final Channel<String> logLines = Channel.create("log lines", 256);
  private final ScheduledTask measuring;
  private final Task<Void> button;
  private final Task<Void> logger;

  // ---- Touched only by the loop's tasks, one at a time: no volatile, no lock. ----
  private double insideC = Double.NaN;
  private double outsideC = Double.NaN;
  private boolean manual;

  private Greenhouse(Loop loop, Context pi4j, Path logFile, PrintStream status, Duration period) {
    this.loop = loop;
    this.status = status;
    this.start = loop.nanoTime();
    ManagedI2c bus = ManagedI2c.of(pi4j, 1);
    this.inside = bus.handle(INSIDE);
    this.outside = bus.handle(OUTSIDE);
    this.fan = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("fan").address(23)
        .initial(DigitalState.LOW).shutdown(DigitalState.LOW));
    DigitalInput buttonPin = pi4j.create(DigitalInput.newConfigBuilder(pi4j).id("button")
        .address(17).pull(PullResistance.PULL_DOWN));

    this.logger = loop.addTask("logger", () -> writeLog(logFile));
    this.button = loop.addTask("button", () -> handlePresses(buttonPin));
    this.measuring = loop.schedule("measuring", period, this::measure);
  }

  /**
   * Starts the greenhouse's tasks on {@code loop}: measuring every {@code period}, the button and
   * the logger. Creates the devices in {@code pi4j}. May be called from any thread.
   *
   * @param logFile where the logger appends a line per measurement and per press
   * @param status where the status lines go
   */
  public static Greenhouse start(Loop loop, Context pi4j, Path logFile, PrintStream status,
      Duration period) {
    return new Greenhouse(loop, pi4j, logFile, status, period);
  }

  /**
   * Whether the fan should run: on while the button holds it on, else on from
   * {@value #FAN_ON_AT} °C and off below {@value #FAN_OFF_AT} °C; in between, as it is.
   */
  static boolean fanShouldRun(boolean running, double insideC, boolean manual) {
    if (manual) {
      return true;
    }
    return running ? insideC >= FAN_OFF_AT : insideC >= FAN_ON_AT;
  }

  /** The schedule's body: both sensors, the fan, the status line, the log. */
  private void measure() {
    insideC = readInside();
    outsideC = readOutside();
    switchFan();
    report(String.format(Locale.ROOT, "inside %.2f C  outside %.2f C  fan %s", insideC, outsideC,
        fanText()));
  }

  private double readInside() {
    try (Lease<I2C> lease = inside.acquire()) { // waits while the outside sensor has the bus
      I2C sensor = lease.resource();
      sensor.write(MEASURE_STRETCHED);
      byte[] reply = new byte[2];
      // The sensor stretches the clock until it has measured, so Pi4J's read blocks that long:
      // off the loop, with the bus still ours, while the button and the logger go on.
      Tasko.blocking(() -> sensor.read(reply));
      return celsius(reply);
    }
  }

  private double readOutside() {
    try (Lease<I2C> lease = outside.acquire()) {
      I2C sensor = lease.resource();
      sensor.write(MEASURE);
      Tasko.sleep(Duration.ofMillis(15)); // it measures; the other tasks run, the bus stays ours
      byte[] reply = new byte[2];
      sensor.read(reply);
      return celsius(reply);
    }
  }

  /** Two bytes, big-endian, signed hundredths of a degree Celsius. */
  static double celsius(byte[] reply) {
    return (short) (((reply[0] & 0xff) << 8) | (reply[1] & 0xff)) / 100.0;
  }

  private void switchFan() {
    boolean on = fanShouldRun(fan.isHigh(), insideC, manual);
    if (on != fan.isHigh()) {
      fan.state(on ? DigitalState.HIGH : DigitalState.LOW);
    }
  }

  private String fanText() {
    return (fan.isHigh() ? "on" : "off") + (manual ? " (manual)" : "");
  }

  /** The button task: a press toggles manual mode; waits for presses, costing nothing. */
  private void handlePresses(DigitalInput pin) {
    try (EdgeWatcher presses = EdgeWatcher.builder(pin)
        .direction(EdgeWatcher.Direction.RISING) // pressed: to 3.3 V
        .debounce(DEBOUNCE)
        .build()) { // in this task: timed on its loop, closed when the task ends
      for (EdgeWatcher.Edge press : presses.edges()) {
        manual = !manual;
        switchFan();
        report("button: fan " + fanText());
      }
    }
  }

  /** The status line now, and the same line to the log. */
  private void report(String what) {
    String line = String.format(Locale.ROOT, "%9.3f s  %s", (loop.nanoTime() - start) / 1e9, what);
    status.println(line);
    logLines.put(line); // suspends only if the logger is 256 lines behind
  }

  /** The logger task: until the channel is closed and drained. */
  private void writeLog(Path logFile) {
    for (String line : logLines) {
      Tasko.blocking(() -> Files.writeString(logFile, line.strip() + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    }
  }

  /** Whether the button has put the fan in manual mode. Call from the loop's tasks. */
  public boolean isManual() {
    return manual;
  }

  /**
   * Ends the greenhouse's work: measuring stops (a measurement in progress is cancelled, its
   * leases released), the button's watcher is closed, and the logger ends once it has written
   * every line already handed to it. The loop then has nothing left of it: {@code loop.run()}
   * returns. May be called from any thread.
   */
  @Override
  public void close() {
    measuring.cancel();
    button.cancel();
    logLines.close();
  }

  /** The logger task, which ends once the log is written after {@link #close()}. */
  public Task<Void> logger() {
    return logger;
  }

  /**
   * Runs the greenhouse on Pi4J's mock platform, simulated, until Ctrl-C or for the number of
   * seconds given as the first argument; the second names the log file (default
   * {@code greenhouse.log}). Measures every second, so that there is something to watch; Enter
   * presses the button.
   */
  public static void main(String[] args) throws InterruptedException {
    Duration runFor = null;
    if (args.length > 0) {
      long seconds = -1;
      try {
        seconds = Long.parseLong(args[0]);
      } catch (NumberFormatException e) {
        // reported below
      }
      if (seconds < 0) {
        System.err.println("usage: Greenhouse [seconds to run] [log file]; not a whole number of"
            + " seconds from 0 to " + Long.MAX_VALUE + ": '" + args[0] + "'");
        System.exit(2);
      }
      runFor = Duration.ofSeconds(seconds);
    }
    Path logFile;
    try {
      logFile = logFile(args.length > 1 ? args[1] : "greenhouse.log");
    } catch (IllegalArgumentException e) {
      System.err.println("usage: Greenhouse [seconds to run] [log file]; " + e.getMessage());
      System.exit(2);
      return;
    }
    Context pi4j = MockBoard.context(); // on a Raspberry Pi: Pi4J.newAutoContext()
    Loop loop = Loop.create();
    Greenhouse greenhouse = start(loop, pi4j, logFile, System.out, Duration.ofSeconds(1));
    SimulatedGreenhouse world = SimulatedGreenhouse.attach(loop, pi4j);
    world.pressOnEnter(System.in);
    if (runFor != null) {
      loop.runLater("end", runFor, greenhouse::close);
    }
    // Ctrl-C: end on the loop, let the logger finish, then let the JVM go.
    Thread main = Thread.currentThread();
    Thread onCtrlC = new Thread(() -> {
      try {
        loop.addTask("end", greenhouse::close);
        main.join(Duration.ofSeconds(2));
      } catch (IllegalStateException e) {
        // the loop has ended already
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    System.out.println("Logging to " + logFile.toAbsolutePath() + "; Enter presses the button,"
        + " Ctrl-C stops.");
    try {
      loop.run(); // returns once the greenhouse is closed and the log written
    } finally {
      loop.shutdown(); // anything left: cancelled, leases released, watchers closed
      pi4j.shutdown(); // the fan relay off (its shutdown state)
      try {
        Runtime.getRuntime().removeShutdownHook(onCtrlC); // ended without Ctrl-C
      } catch (IllegalStateException e) {
        // ended by Ctrl-C: the hook is running, and waits for this thread
      }
    }
  }

  /**
   * The log file named on the command line, checked before the greenhouse starts rather than
   * when its logger first writes (see {@link OutputFile#check}).
   *
   * @throws IllegalArgumentException naming the file, if it cannot be written
   */
  static Path logFile(String name) {
    return OutputFile.check(name, "the log file");
  }
}
