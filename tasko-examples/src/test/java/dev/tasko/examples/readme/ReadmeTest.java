package dev.tasko.examples.readme;

import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.i2c.I2C;
import com.pi4j.io.spi.Spi;
import com.pi4j.io.spi.SpiBus;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import dev.tasko.Handle;
import dev.tasko.Loop;
import dev.tasko.ManagedResource;
import dev.tasko.Tasko;
import dev.tasko.examples.readme.ReadmeSnippets.Device;
import dev.tasko.examples.readme.ReadmeSnippets.RangeFinder;
import dev.tasko.pi4j.ManagedI2c;
import dev.tasko.pi4j.test.MockBoard;
import dev.tasko.test.TestLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Keeps the README's Java examples from rotting: each {@code java} block of the README must appear,
 * line for line (indentation aside), in a source file of this package, where it is compiled, and
 * the tests below run them and check what the README says they do. A README example that changes
 * must be changed here too; an API change that breaks one breaks the build.
 */
class ReadmeTest {
  private static final Path README = Path.of("..", "README.md");
  private static final Path HERE = Path.of("src", "test", "java", "dev", "tasko", "examples",
      "readme");

  private final Context pi4j = MockBoard.context();
  @RegisterExtension final TestLoop test = new TestLoop();
  private final Loop loop = test.loop();

  @AfterEach
  void shutDown() {
    test.cancelAll(); // some examples run for ever
    pi4j.shutdown();
  }

  @Test
  void readme_everyJavaBlock_isVerbatimInACompiledFile() throws IOException {
    List<List<String>> blocks = javaBlocks(Files.readAllLines(README));
    List<List<String>> sources = new ArrayList<>();
    try (Stream<Path> files = Files.list(HERE)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        sources.add(normalized(Files.readAllLines(file)));
      }
    }

    List<String> missing = new ArrayList<>();
    for (List<String> block : blocks) {
      // A module declaration's lines: tasko-it's pi4j-modular project is set up with them.
      if (block.stream().allMatch(line -> line.startsWith("requires "))) {
        continue;
      }
      if (sources.stream().noneMatch(lines -> Collections.indexOfSubList(lines, block) >= 0)) {
        missing.add(String.join("\n", block));
      }
    }
    assertThat(blocks).hasSizeGreaterThan(15); // the README's blocks were found
    assertThat(missing).as("README java blocks not copied into %s", HERE).isEmpty();
  }

  @Test
  void callbackSchedule_oneSecond_samplesAtEveryMillisecond() {
    Device encoder = device(0, Duration.ZERO);
    ReadmeSnippets.callbackSchedule(loop, encoder);

    test.runFor(Duration.ofSeconds(1));

    assertThat(encoder.log).hasSize(1001); // at 0, 1, ..., 1000 ms
  }

  @Test
  void sharedSpi_lease_talksToTheDeviceWithChipSelectLowAndLeavesItHigh() {
    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));
    DigitalOutput sensorCs = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("sensor-cs")
        .address(5).initial(DigitalState.HIGH));
    MockBoard.answerOnSelect(pi4j, "spi", "sensor-cs", MockBoard.thermometer());
    byte[] reply = new byte[2];
    loop.addTask(() -> ReadmeSnippets.sharedSpi(spi, sensorCs, new byte[2], reply));

    test.runUntilIdle();

    assertThat(reply).containsExactly(0x08, 0x66); // 21.50 °C: the device answered
    assertThat(sensorCs.state()).isEqualTo(DigitalState.HIGH);
  }

  @Test
  void virtualTime_anHourOfSleep_movesTheClockAnHour() {
    Loop virtual = ReadmeSnippets.virtualTime();
    virtual.addTask(() -> Tasko.sleep(Duration.ofHours(1)));

    virtual.run();

    assertThat(Duration.ofNanos(virtual.nanoTime())).isEqualTo(Duration.ofHours(1));
    virtual.shutdown();
  }

  @Test
  void timeout_silentRangeFinder_unwindsItAndShowsStatusAfterTwoSeconds() {
    RangeFinder rangeFinder = new RangeFinder(Duration.ofSeconds(5));
    Device status = device(0, Duration.ZERO);
    loop.addTask(() -> ReadmeSnippets.timeout(rangeFinder, status));

    test.runFor(Duration.ofSeconds(3));

    assertThat(rangeFinder.log).containsExactly("finally");
    assertThat(status.log).containsExactly("2000 ms show range finder silent");
  }

  @Test
  void channel_everySecond_loggerAppendsEachLineInOrder() {
    Device thermometer = device(21.5, Duration.ZERO);
    Device sdCard = device(0, Duration.ZERO);
    ReadmeSnippets.channel(loop, thermometer, sdCard);

    test.runFor(Duration.ofMillis(2500));

    assertThat(sdCard.log).containsExactly("0 ms append 21.5 C", "1000 ms append 21.5 C",
        "2000 ms append 21.5 C");
  }

  @Test
  void edges_press_readsSensorOneSecondLater() {
    DigitalInput button = input("button");
    Device sensor = device(21.5, Duration.ZERO);
    ReadmeSnippets.edges(loop, button, sensor);
    loop.runLater(Duration.ofMillis(500), () -> MockBoard.press(pi4j, "button"));

    test.runFor(Duration.ofSeconds(2));

    assertThat(sensor.log).containsExactly("1500 ms read");
  }

  @Test
  void debouncedButton_bouncingPresses_toggleOncePerPress() {
    MockDigitalInput button = (MockDigitalInput) input("button");
    Device fan = device(0, Duration.ZERO);
    loop.addTask(() -> ReadmeSnippets.debouncedButton(button, fan));
    for (long at : new long[] {100, 400}) {
      loop.runLater(Duration.ofMillis(at), () -> { // bounces, then held for 100 ms
        button.mockState(DigitalState.HIGH);
        button.mockState(DigitalState.LOW);
        button.mockState(DigitalState.HIGH);
      });
      loop.runLater(Duration.ofMillis(at + 100), () -> button.mockState(DigitalState.LOW));
    }

    test.runFor(Duration.ofSeconds(1));

    assertThat(fan.log).containsExactly("120 ms toggle", "420 ms toggle");
  }

  @Test
  void event_pinChanges_wakesTheWaiter() {
    DigitalInput dataReady = input("data-ready");
    List<String> log = new ArrayList<>();
    loop.addTask(() -> {
      ReadmeSnippets.event(dataReady);
      log.add(Duration.ofNanos(loop.nanoTime()).toMillis() + " ms ready");
    });
    loop.runLater(Duration.ofMillis(30), () -> MockBoard.press(pi4j, "data-ready"));

    test.runFor(Duration.ofMillis(100));

    assertThat(log).containsExactly("30 ms ready");
  }

  @Test
  void semaphore_permit_letsTheConversionRun() {
    Device sensor = device(0, Duration.ZERO);
    loop.addTask(() -> ReadmeSnippets.semaphore(sensor));

    test.runUntilIdle();

    assertThat(sensor.log).containsExactly("0 ms convertAndRead");
  }

  @Test
  void taskGroup_twoReads_runTogetherAndJoinReturnsAtOnce() {
    Device thermometer = device(21.5, Duration.ofMillis(100));
    Device hygrometer = device(40, Duration.ofMillis(100));
    List<String> log = new ArrayList<>();
    loop.addTask(() -> {
      double celsius = ReadmeSnippets.taskGroup(thermometer, hygrometer);
      log.add(Duration.ofNanos(loop.nanoTime()).toMillis() + " ms " + celsius);
    });

    test.runFor(Duration.ofSeconds(1));

    assertThat(log).containsExactly("100 ms 21.5"); // both at once, not one after the other
  }

  @Test
  void blockingInLease_clockStretchingRead_getsTheDevicesAnswer() {
    Handle<I2C> sensor = ManagedI2c.of(pi4j, 1).handle(0x40);
    MockBoard.answerAfterWrite(pi4j.io("i2c-1-0x40"), command -> new byte[] {0x66, 0x0c});
    byte[] reply = new byte[2];
    loop.addTask(() -> ReadmeSnippets.blockingInLease(sensor, new byte[] {(byte) 0xe3}, reply));

    test.runFor(Duration.ofMillis(1)); // waits for the blocking work, as runUntilIdle does not

    assertThat(reply).containsExactly(0x66, 0x0c);
  }

  @Test
  void holdLimit_set_isKept() {
    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));

    ManagedResource<Spi, DigitalOutput> bus = ReadmeSnippets.holdLimit(spi);

    assertThat(bus.holdLimit()).contains(Duration.ofMillis(100));
    assertThat(bus.longestHold()).isEqualTo(Duration.ZERO);
  }

  private Device device(double value, Duration readTime) {
    return new Device(loop, value, readTime);
  }

  private DigitalInput input(String id) {
    return pi4j.create(DigitalInput.newConfigBuilder(pi4j).id(id).address(17));
  }

  /** The README's {@code java} blocks, each as its lines, normalized. */
  private static List<List<String>> javaBlocks(List<String> readme) {
    List<List<String>> blocks = new ArrayList<>();
    List<String> block = null;
    for (String line : readme) {
      if (block == null && line.strip().equals("```java")) {
        block = new ArrayList<>();
      } else if (block != null && line.strip().equals("```")) {
        blocks.add(normalized(block));
        block = null;
      } else if (block != null) {
        block.add(line);
      }
    }
    return blocks;
  }

  /** Lines without their indentation and trailing spaces, blank ones dropped. */
  private static List<String> normalized(List<String> lines) {
    return lines.stream().map(String::strip).filter(line -> !line.isEmpty()).toList();
  }
}
