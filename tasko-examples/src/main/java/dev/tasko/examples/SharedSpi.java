package dev.tasko.examples;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.spi.Spi;
import com.pi4j.io.spi.SpiBus;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.ScheduledTask;
import dev.tasko.pi4j.ManagedSpi;
import dev.tasko.pi4j.test.MockBoard;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The "context manager that wraps your SPI bus" of the original <a
 * href="https://github.com/WarriorOfWire/tasko">tasko</a>'s README: a sensor and an SD card share
 * one SPI bus, each behind its own chip select, and neither task coordinates with the other. The
 * SD-card logger changes its own rate: every 100 ms while it has something to write, every 10 s
 * when it has not.
 *
 * <p>Run it (Ctrl-C to stop):
 * <pre>./demo --example SharedSpi</pre>
 */
public final class SharedSpi {
  private static final byte READ_TEMPERATURE = 0x50;

  /** The two devices on the bus, as {@link #setupSpi} makes them. */
  public record Devices(Handle<Spi> sensor, Handle<Spi> sdCard) {}

  /**
   * The original README's {@code setup_spi()}: one bus, two chip-select pins, a handle for each.
   */
  public static Devices setupSpi(Context pi4j) {
    // Configure the hardware
    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0)
        .baud(1_000_000));
    DigitalOutput sensorCs = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("sensor-cs")
        .address(4).shutdown(DigitalState.HIGH));
    DigitalOutput sdCardCs = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("sdcard-cs")
        .address(5).shutdown(DigitalState.HIGH));

    // Configure the physical SPI as a managed resource that drives the chip selects: low on
    // acquire, high on release, high right now.
    ManagedSpi managedSpi = ManagedSpi.of(spi);

    // Get handles for each chip select on this bus
    return new Devices(managedSpi.csHandle(sensorCs), managedSpi.csHandle(sdCardCs));
  }

  private final Loop loop;
  private final Devices devices;
  private final PrintStream out;
  /** The loop's time when the example started: the origin of the times it prints. */
  private final long start;
  /** Lines waiting for the SD card. Only the loop's tasks touch it, one at a time: no lock. */
  private final List<String> toLog = new ArrayList<>();
  private ScheduledTask sdLogTask;

  private SharedSpi(Loop loop, Devices devices, PrintStream out) {
    this.loop = loop;
    this.devices = devices;
    this.out = out;
    this.start = loop.nanoTime();
  }

  /**
   * Schedules the two tasks on {@code loop}: the sensor read every second, the SD-card logger every
   * 10 s to begin with. Returns the running example.
   */
  public static SharedSpi wire(Loop loop, Context pi4j, PrintStream out) {
    SharedSpi app = new SharedSpi(loop, setupSpi(pi4j), out);
    loop.schedule("read-sensor", Duration.ofSeconds(1), app::readSensor);
    app.sdLogTask = loop.schedule("log-to-sd-card", Duration.ofSeconds(10), app::logToSdCard);
    return app;
  }

  /** The SD-card logger's schedule, which changes its own rate. */
  public ScheduledTask sdLogTask() {
    return sdLogTask;
  }

  private void readSensor() {
    try (Lease<Spi> bus = devices.sensor().acquire()) {
      // Or, if you're a library author, consider taking the handle as an argument, so that you can
      // acquire, send, release, --> sleep <--, acquire, read, release rather than holding the bus
      // for the whole operation.
      byte[] reply = new byte[2];
      bus.resource().transfer(new byte[] {READ_TEMPERATURE, 0}, reply);
      double celsius = (short) (((reply[0] & 0xff) << 8) | (reply[1] & 0xff)) / 100.0;
      String line = String.format("%.3f s: %.2f C", seconds(), celsius);
      toLog.add(line);
      say("sensor: " + String.format("%.2f C", celsius));
    }
  }

  private void logToSdCard() {
    int bytesWritten;
    try (Lease<Spi> bus = devices.sdCard().acquire()) {
      bytesWritten = writeToSdCard(bus.resource());
    }

    // You can update the frequency of the task based on whatever you want, to focus your processor
    // time on what currently matters. stop() and start() can toggle whole aspects of your app.
    if (bytesWritten == 0) {
      sdLogTask.changeRate(Duration.ofSeconds(10));
    } else {
      sdLogTask.changeRate(Duration.ofMillis(100));
    }
    say("sd card: wrote " + bytesWritten + " bytes; next write in " + pretty(sdLogTask.interval()));
  }

  /** Writes what is waiting, one line per call, as one block; returns the bytes written. */
  private int writeToSdCard(Spi spi) {
    if (toLog.isEmpty()) {
      return 0;
    }
    byte[] block = (toLog.remove(0) + "\n").getBytes(StandardCharsets.US_ASCII);
    spi.write(block);
    return block.length;
  }

  private void say(String what) {
    out.printf("%8.3f s  %s%n", seconds(), what);
  }

  private double seconds() {
    return (loop.nanoTime() - start) / 1e9;
  }

  private static String pretty(Duration d) {
    return d.toMillis() < 1000 ? d.toMillis() + " ms" : d.toSeconds() + " s";
  }

  /** Runs the example on Pi4J's mock platform until Ctrl-C. */
  public static void main(String[] args) {
    Context pi4j = MockBoard.context(); // on a Raspberry Pi: Pi4J.newAutoContext()
    Loop loop = Loop.create();
    wire(loop, pi4j, System.out);
    // the mock has no sensor
    MockBoard.answerOnSelect(pi4j, "spi", "sensor-cs", MockBoard.thermometer());
    loop.run();
  }
}
