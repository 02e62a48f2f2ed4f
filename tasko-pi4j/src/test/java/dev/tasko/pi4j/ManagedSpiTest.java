package dev.tasko.pi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.spi.Spi;
import com.pi4j.plugin.mock.provider.spi.MockSpi;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.Tasko;
import dev.tasko.testsupport.EventLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

// some leases are held across a sleep only to keep the bus: unused on purpose
@SuppressWarnings("try")
class ManagedSpiTest {
  private final EventLog log = new EventLog();
  private final Context pi4j = MockPi.context();
  private final Loop loop = Loop.builder().name("test").virtualTime().build();
  private final Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi")
      .bus(com.pi4j.io.spi.SpiBus.BUS_0).channel(0).baud(1_000_000));
  private final ManagedSpi bus = ManagedSpi.of(spi);

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  @Test
  void csHandle_newPin_drivesItHighAtOnce() {
    DigitalOutput cs = MockPi.loggedOutput(pi4j, "cs", 5, log);
    assertThat(cs.state()).isEqualTo(DigitalState.UNKNOWN);

    bus.csHandle(cs);

    log.assertTaken("cs=HIGH");
    assertThat(cs.isHigh()).isTrue();
  }

  @Test
  void csHandle_pin_namedByItsPinInReports() {
    Handle<Spi> sensor = bus.csHandle(MockPi.loggedOutput(pi4j, "sensor", 5, log));

    assertThat(sensor).hasToString("cs sensor (GPIO 5) on spi 'spi'");
    assertThat(sensor.name()).isEqualTo("cs sensor (GPIO 5)");
  }

  @Test
  void acquire_transfers_ownChipSelectLowAroundEveryTransferOthersHigh() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "b", 6, log);
    Handle<Spi> a = bus.csHandle(csA);
    Handle<Spi> b = bus.csHandle(csB);
    log.take();
    loop.addTask(() -> {
      try (Lease<Spi> lease = a.acquire()) {
        transfer(lease, "a1", csA, csB);
        transfer(lease, "a2", csA, csB);
      }
      try (Lease<Spi> lease = b.acquire()) {
        transfer(lease, "b1", csA, csB);
      }
    });

    loop.run();

    log.assertTaken(
        "a=LOW",
        "transfer a1 (a=LOW, b=HIGH)", "transfer a2 (a=LOW, b=HIGH)",
        "a=HIGH",
        "b=LOW",
        "transfer b1 (a=HIGH, b=LOW)",
        "b=HIGH");
    // The mock answers each transfer with what the previous one sent: the last one's bytes remain.
    assertThat(((MockSpi) spi).readEntireMockBuffer()).containsExactly((byte) 'b', (byte) '1');
  }

  @Test
  void acquire_threeDevicesContend_servedInArrivalOrderWithOneChipSelectLow() {
    // tasko's own ManagedSpi scenario: SD card, sensor and screen loop over one bus, each holding
    // it across a sleep. They take it in the order they first asked, round after round.
    List<DigitalOutput> pins = new ArrayList<>();
    List<String> violations = new ArrayList<>();
    String[] names = {"sd", "sensor", "screen"};
    for (int i = 0; i < names.length; i++) {
      DigitalOutput pin = MockPi.loggedOutput(pi4j, names[i] + "-cs", 5 + i, new EventLog());
      pin.addListener(e -> {
        long low = pins.stream().filter(DigitalOutput::isLow).count();
        if (low > 1) {
          violations.add(low + " chip selects low at once");
        }
      });
      pins.add(pin);
    }
    for (int i = 0; i < names.length; i++) {
      String name = names[i];
      DigitalOutput own = pins.get(i);
      Handle<Spi> handle = bus.csHandle(own);
      loop.addTask(name, () -> {
        for (int round = 0; round < 3; round++) {
          try (Lease<Spi> lease = handle.acquire()) {
            long low = pins.stream().filter(DigitalOutput::isLow).count();
            log.add(name + (own.isLow() && low == 1 ? " alone" : " NOT ALONE"));
            lease.resource().write((byte) round);
            Tasko.sleep(Duration.ofMillis(5)); // holding the bus: the others queue up
          }
        }
      });
    }

    loop.run();

    log.assertTaken(
        "sd alone", "sensor alone", "screen alone",
        "sd alone", "sensor alone", "screen alone",
        "sd alone", "sensor alone", "screen alone");
    assertThat(violations).isEmpty();
    assertThat(pins).allMatch(DigitalOutput::isHigh);
    // 9 holds of 5 ms, back to back
    assertThat(loop.nanoTime()).isEqualTo(Duration.ofMillis(45).toNanos());
  }

  @Test
  void holderAndWaiting_whileOneDeviceTransfers_nameTheHandles() {
    Handle<Spi> a = bus.csHandle(MockPi.loggedOutput(pi4j, "a", 5, log));
    Handle<Spi> b = bus.csHandle(MockPi.loggedOutput(pi4j, "b", 6, log));
    List<Object> seen = new ArrayList<>();
    loop.addTask("a", () -> {
      try (Lease<Spi> lease = a.acquire()) {
        Tasko.sleep(Duration.ofMillis(10));
      }
    });
    loop.addTask("b", () -> {
      try (Lease<Spi> lease = b.acquire()) {
        Tasko.sleep(Duration.ofMillis(10));
      }
    });
    loop.runLater(Duration.ofMillis(5), () -> {
      seen.add(bus.resource().holder());
      seen.add(bus.resource().waiting());
    });
    loop.runLater(Duration.ofMillis(25), () -> seen.add(bus.resource().holder()));

    loop.run();

    assertThat(seen).containsExactly(Optional.of(a), List.of(b), Optional.empty());
    assertThat(bus.resource().contextOf(a).id()).isEqualTo("a");
  }

  @Test
  void acquire_waitingDeviceCancelled_neverSelected() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "b", 6, log);
    Handle<Spi> a = bus.csHandle(csA);
    Handle<Spi> b = bus.csHandle(csB);
    log.take();
    loop.addTask("a", () -> {
      try (Lease<Spi> lease = a.acquire()) {
        Tasko.sleep(Duration.ofMillis(10));
      }
    });
    var waiter = loop.addTask("b", () -> {
      try (Lease<Spi> lease = b.acquire()) {
        log.add("b got the bus");
      }
    });
    loop.runLater(Duration.ofMillis(5), waiter::cancel);

    loop.run();

    log.assertTaken("a=LOW", "a=HIGH");
    assertThat(waiter.isCancelled()).isTrue();
  }

  @Test
  void of_nullArguments_throwNamingThem() {
    assertThatThrownBy(() ->
        ManagedSpi.of(null)).isInstanceOf(NullPointerException.class).hasMessage("spi == null");
    assertThatThrownBy(() -> bus.csHandle(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("chipSelect == null");
  }

  @Test
  void name_default_isSpiId() {
    assertThat(bus.name()).isEqualTo("spi 'spi'");
    assertThat(ManagedSpi.of("display bus", spi).name()).isEqualTo("display bus");
  }

  private void transfer(Lease<Spi> lease, String payload, DigitalOutput csA, DigitalOutput csB) {
    log.add("transfer " + payload + " (a=" + csA.state() + ", b=" + csB.state() + ")");
    lease.resource().transfer(payload.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
        new byte[2]);
  }
}
