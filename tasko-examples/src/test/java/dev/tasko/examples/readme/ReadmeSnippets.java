package dev.tasko.examples.readme;

import static dev.tasko.Rate.hz;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.i2c.I2C;
import com.pi4j.io.spi.Spi;
import dev.tasko.Channel;
import dev.tasko.Event;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.ManagedResource;
import dev.tasko.Permit;
import dev.tasko.Semaphore;
import dev.tasko.Task;
import dev.tasko.TaskGroup;
import dev.tasko.Tasko;
import dev.tasko.TimeoutException;
import dev.tasko.Timeline;
import dev.tasko.pi4j.EdgeWatcher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The README's Java examples, each verbatim in a method of its own, at the README's indentation
 * (so that {@link ReadmeTest} can find it line by line), between the lines a user would add
 * around it: the method's parameters stand for the devices and values the README leaves out.
 * {@link ReadmeTest} runs most of them and checks what the README says they do; the ones it
 * does not run say why.
 */
final class ReadmeSnippets {
  private ReadmeSnippets() {}

  /** Whatever device an example talks to: it logs each call, in loop time. */
  static final class Device {
    final List<String> log = new ArrayList<>();
    private final Loop loop;
    private final double value;
    private final Duration readTime;

    Device(Loop loop, double value, Duration readTime) {
      this.loop = loop;
      this.value = value;
      this.readTime = readTime;
    }

    private void log(String call) {
      log.add(Duration.ofNanos(loop.nanoTime()).toMillis() + " ms " + call);
    }

    double read() {
      log("read");
      if (!readTime.isZero()) {
        Tasko.sleep(readTime);
      }
      return value;
    }

    void startMeasurement() {
      log("startMeasurement");
    }

    double result() {
      return value;
    }

    void convertAndRead() {
      log("convertAndRead");
    }

    void sample() {
      log.add("sample"); // a thousand a second: not timed
    }

    void append(String line) {
      log("append " + line);
    }

    void show(String text) {
      log("show " + text);
    }

    void toggle() {
      log("toggle");
    }

    void animate(boolean reading) {
      log("animate " + reading);
    }
  }

  /** The devices of the README's first example ({@link Greenhouse}), which is never run. */
  static final class GreenhouseDevices {
    static Device sensor;
    static Device spinner;
    static DigitalInput buttonPin;

    private GreenhouseDevices() {}
  }

  /** A range finder that answers after its given time; the README's reads an {@code int}. */
  static final class RangeFinder {
    final List<String> log = new ArrayList<>();
    private final Duration readTime;

    RangeFinder(Duration readTime) {
      this.readTime = readTime;
    }

    int read() {
      try {
        Tasko.sleep(readTime);
        return 1234;
      } finally {
        log.add("finally");
      }
    }
  }

  // "Example": a callback schedule
  static void callbackSchedule(Loop loop, Device encoder) {
loop.scheduleCallback(hz(1000), () -> encoder.sample());   // no thread of its own
  }

  // "Example": sharing one SPI bus
  static void sharedSpi(Spi spi, DigitalOutput sensorCs, byte[] command, byte[] reply) {
ManagedResource<Spi, DigitalOutput> bus = ManagedResource.of(spi, cs -> cs.low(), cs -> cs.high());
Handle<Spi> sensor = bus.handle("sensor", sensorCs);  // the name shows in deadlock reports
try (Lease<Spi> lease = sensor.acquire()) {      // waits its turn if the bus is busy
  lease.resource().transfer(command, reply);
}                                                  // chip select high; next in line gets the bus
  }

  // "Example": a clean end. Compiled only: it adds a JVM shutdown hook and runs until stopped.
  static void cleanEnd(Loop loop, Context pi4j) {
loop.closeOnShutdown(() -> pi4j.shutdown());     // closed after the tasks' cleanup
Runtime.getRuntime().addShutdownHook(new Thread(() -> {
  loop.stop();                                   // run() returns below...
  try {
    loop.awaitShutdown(Duration.ofSeconds(5));   // ...and the JVM waits for the cleanup
  } catch (InterruptedException e) {
    Thread.currentThread().interrupt();
  }
}));
try {
  loop.run();
} finally {
  loop.shutdown();
}
  }

  // "Example": tests run the same code on virtual time
  static Loop virtualTime() {
Loop loop = Loop.builder().virtualTime().build();  // idle = jump to the next deadline
    return loop;
  }

  // "Coordination": timeouts
  static void timeout(RangeFinder rangeFinder, Device status) {
try {
  int mm = Tasko.withTimeout(Duration.ofSeconds(2), () -> rangeFinder.read());
} catch (TimeoutException e) {
  status.show("range finder silent");
}
  }

  // "Coordination": a channel
  static Channel<String> channel(Loop loop, Device thermometer, Device sdCard) {
Channel<String> lines = Channel.create("lines", 64);
loop.schedule(Duration.ofSeconds(1), () -> lines.put(thermometer.read() + " C"));
loop.addTask("sd-logger", () -> {
  for (String line : lines) {                      // until closed and drained
    sdCard.append(line);
  }
});
    return lines;
  }

  // "Coordination": a GPIO interrupt's edges
  static void edges(Loop loop, DigitalInput buttonInput, Device sensor) {
EdgeWatcher button = EdgeWatcher.of(loop, buttonInput, 16);   // up to 16 queued, beyond: counted
loop.addTask("button", () -> {
  for (EdgeWatcher.Edge e : button.edges()) {
    if (e.state() == DigitalState.HIGH) {
      loop.runLater(Duration.ofSeconds(1), sensor::read);
    }
  }
});
  }

  // "Coordination": a debounced push button (in a task)
  static void debouncedButton(DigitalInput buttonInput, Device fan) {
try (EdgeWatcher presses = EdgeWatcher.builder(buttonInput)   // in the task: on its loop
    .direction(EdgeWatcher.Direction.RISING)                   // FALLING for a pull-up button
    .debounce(Duration.ofMillis(20))
    .build()) {
  for (EdgeWatcher.Edge press : presses.edges()) {
    fan.toggle();
  }
}
  }

  // "Coordination": an event (in a task)
  static void event(DigitalInput dataReadyPin) {
Event ready = Event.create("ready");
dataReadyPin.addListener(e -> ready.set());
ready.await();                                     // or ready.await(Duration.ofMillis(50))
  }

  // "Coordination": a semaphore (in a task)
  static void semaphore(Device sensor) {
Semaphore slots = Semaphore.create("i2c-slots", 2);
try (Permit p = slots.acquire()) {
  sensor.convertAndRead();
}
  }

  // "Coordination": a task group (in a task)
  static double taskGroup(Device thermometer, Device hygrometer) {
Task<Double> t;
try (TaskGroup reads = TaskGroup.open("reads")) {
  t = reads.add("temperature", () -> thermometer.read());
  reads.add("humidity", () -> hygrometer.read());
}                                                  // both done here
double celsius = t.join();                         // returns at once
    return celsius;
  }

  // "Coordination": blocking work. Compiled only: the file is a Raspberry Pi's.
  static void blocking() {
byte[] image = Tasko.blocking(() -> Files.readAllBytes(Path.of("/boot/logo.raw")));
  }

  // "Coordination": blocking work inside a bus lease (in a task)
  static void blockingInLease(Handle<I2C> sensor, byte[] MEASURE_HOLD, byte[] reply) {
try (Lease<I2C> lease = sensor.acquire()) {
  I2C chip = lease.resource();
  chip.write(MEASURE_HOLD);
  Tasko.blocking(() -> chip.read(reply));          // the sensor holds the clock until it is done
}
  }

  // "Diagnostics": bus hold limits
  static ManagedResource<Spi, DigitalOutput> holdLimit(Spi spi) {
ManagedResource<Spi, DigitalOutput> bus = ManagedResource.of(spi, cs -> cs.low(), cs -> cs.high());
bus.withHoldLimit(Duration.ofMillis(100));
bus.longestHold();   // the longest hold so far, for a status view
    return bus;
  }

  // "Diagnostics": a timeline. Compiled only: it writes loop.svg where the JVM runs.
  static void timeline() throws Exception {
Timeline timeline = Timeline.ofLast(100_000);
Loop loop = Loop.builder().timeline(timeline).build();
// ... loop.run() ...
timeline.write(Path.of("loop.svg"));                  // or loop.json
  }
}
