package dev.tasko.pi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pi4j.context.Context;
import com.pi4j.io.exception.IOAlreadyExistsException;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.spi.Spi;
import com.pi4j.plugin.mock.provider.spi.MockSpi;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.Tasko;
import dev.tasko.testsupport.EventLog;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
  void csHandle_pinSelectedNowThroughAResourceHandle_leftLow() {
    // From a hostile test: a csHandle made while the device of a handle made on resource() for
    // the same pin held the bus drove the pin high in mid-transfer.
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    csA.high();
    Handle<Spi> viaResource = bus.resource().handle(csA);
    log.take();
    loop.addTask("holder", () -> {
      try (Lease<Spi> lease = viaResource.acquire()) {
        bus.csHandle(csA); // another part of the program, lazily
        log.add("after csHandle, a low: " + csA.isLow());
        lease.resource().write((byte) 1);
      }
    });

    loop.run();

    log.assertTaken("a=LOW", "after csHandle, a low: true", "a=HIGH");
  }

  /** Chip selects "a" (GPIO 5) and "b" (GPIO 6), known to the bus, their first writes taken. */
  private DigitalOutput[] twoKnownPins() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "b", 6, log);
    bus.csHandle(csA);
    bus.csHandle(csB);
    log.take();
    return new DigitalOutput[] {csA, csB};
  }

  @Test
  void select_releaseThatNeverDeselected_drivesThatPinHighFirst() {
    // A lease runs its release at most once: a stack overflow on the way into the bus's deselect
    // skips it for good, and that device's chip select stayed low while the next one went low.
    DigitalOutput[] cs = twoKnownPins();

    bus.wires.select(cs[0]);
    // a's release never reached deselect(a)
    bus.wires.select(cs[1]);

    log.assertTaken("a=LOW", "a=HIGH", "b=LOW");
  }

  @Test
  void select_afterACompleteRelease_touchesNoOtherPin() {
    DigitalOutput[] cs = twoKnownPins();
    DigitalOutput csA = cs[0];
    DigitalOutput csB = cs[1];

    bus.wires.select(csA);
    bus.wires.deselect(csA);
    bus.wires.select(csB);

    log.assertTaken("a=LOW", "a=HIGH", "b=LOW");
  }

  @Test
  void csHandle_pin_namedByItsPinInReports() {
    Handle<Spi> sensor = bus.csHandle(MockPi.loggedOutput(pi4j, "sensor", 5, log));

    assertThat(sensor).hasToString("cs sensor (GPIO 5) on spi-0");
    assertThat(sensor.name()).isEqualTo("cs sensor (GPIO 5)");
  }

  @Test
  void blocking_holdersWorkInsideItsLease_transfersWithItsChipSelectLow() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    Handle<Spi> a = bus.csHandle(csA);
    log.take();
    loop.addTask("reader", () -> {
      try (Lease<Spi> lease = a.acquire()) {
        Spi view = lease.resource();
        int sent = Tasko.blocking(() -> { // a long transfer off the loop
          log.add("work: cs " + csA.state());
          return view.write(new byte[] {1, 2, 3});
        });
        log.add("sent " + sent);
      }
    });

    loop.run();

    log.assertTaken("a=LOW", "work: cs LOW", "sent 3", "a=HIGH");
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
    Spi display = pi4j.create(Spi.newConfigBuilder(pi4j).id("display")
        .bus(com.pi4j.io.spi.SpiBus.BUS_1).channel(1).baud(1_000_000)); // a bus of its own

    assertThat(bus.name()).isEqualTo("spi-0");
    assertThat(ManagedSpi.of("display bus", display).name()).isEqualTo("display bus");
  }

  @Test
  void of_nameWithLineBreak_refusedAndBusLeftUnshared() {
    Spi display = pi4j.create(Spi.newConfigBuilder(pi4j).id("display")
        .bus(com.pi4j.io.spi.SpiBus.BUS_1).channel(1).baud(1_000_000));

    assertThatThrownBy(() -> ManagedSpi.of("display\nbus", display))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name has a control character at index 7: \"display\\nbus\"");
    assertThat(ManagedSpi.of("display bus", display).name()).isEqualTo("display bus");
  }

  @Test
  void of_emptyOrBlankNameForABusSharedAlready_refusedAsABadName() {
    // A bad name is refused as such, before it is compared with the name the bus is shared under
    Spi otherChannel = pi4j.create(Spi.newConfigBuilder(pi4j).id("other channel")
        .bus(com.pi4j.io.spi.SpiBus.BUS_0).channel(1).baud(1_000_000));
    for (Spi s : List.of(spi, otherChannel)) {
      assertThatThrownBy(() -> ManagedSpi.of("", s))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("name is empty: \"\"");
      assertThatThrownBy(() -> ManagedSpi.of(" ", s))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("name is blank: \" \"");
      assertThatThrownBy(() -> ManagedSpi.of("spi-0\r", s))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("name has a control character at index 5: \"spi-0\\r\"");
    }
    assertThat(ManagedSpi.of("spi-0", spi)).isSameAs(bus);
  }

  @Test
  void of_sameSpiTwice_sameBusSoItsDevicesExcludeEachOther() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "b", 6, log);
    Handle<Spi> a = ManagedSpi.of(spi).csHandle(csA); // two parts of a program, each sharing spi
    Handle<Spi> b = ManagedSpi.of(spi).csHandle(csB);
    log.take();
    loop.addTask("a", () -> {
      try (Lease<Spi> lease = a.acquire()) {
        Tasko.sleep(Duration.ofMillis(10));
      }
    });
    loop.addTask("b", () -> {
      try (Lease<Spi> lease = b.acquire()) {
        log.add("b selected while a is " + csA.state());
      }
    });

    loop.run();

    assertThat(ManagedSpi.of(spi)).isSameAs(bus);
    log.assertTaken("a=LOW", "a=HIGH", "b=LOW", "b selected while a is HIGH", "b=HIGH");
    assertThatThrownBy(() -> ManagedSpi.of("another name", spi))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Spi 'spi' is on a bus shared already as 'spi-0', not 'another name':"
            + " use that name, so that its devices exclude each other");
  }

  @Test
  void of_spiALeaseHandedOut_refusedAndDevicesStillTalkThroughTheBus() {
    // From a hostile test: a driver given a lease's Spi shared it; the devices it then made
    // handles for talked through that lease, closed by then, and every transfer of theirs was
    // refused in the name of the device that lease was for.
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "b", 6, log);
    Handle<Spi> a = bus.csHandle(csA);
    log.take();
    loop.addTask("app", () -> {
      try (Lease<Spi> lease = a.acquire()) {
        Spi view = lease.resource();
        assertThatThrownBy(() -> ManagedSpi.of(view))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("Spi of device 'a' on spi-0, lease open is what a lease hands out, not a"
                + " bus: pass the Pi4J Spi itself, or use the ManagedSpi that lease came from");
        assertThatThrownBy(() -> ManagedSpi.of("spi-0", view))
            .isInstanceOf(IllegalArgumentException.class);
      }
      try (Lease<Spi> lease = bus.csHandle(csB).acquire()) {
        lease.resource().write((byte) 'b');
      }
    });

    loop.run();

    log.assertTaken("a=LOW", "a=HIGH", "b=HIGH", "b=LOW", "b=HIGH");
    assertThat(((MockSpi) spi).readEntireMockBuffer()).containsExactly((byte) 'b');
  }

  @Test
  void of_twoSpisOnTheSameBus_theirDevicesExcludeEachOtherEachTalkingThroughItsOwn() {
    // From a hostile test: one managed bus per Spi object, so two Spi objects on the same wires
    // (one per channel, or per mode a device needs) selected a device of each at once.
    Spi modeThree = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi-mode-3")
        .bus(com.pi4j.io.spi.SpiBus.BUS_0).channel(1).baud(500_000));
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "b", 6, log);
    Handle<Spi> a = bus.csHandle(csA);
    Handle<Spi> b = ManagedSpi.of(modeThree).csHandle(csB);
    log.take();
    loop.addTask("a", () -> {
      try (Lease<Spi> lease = a.acquire()) {
        lease.resource().write((byte) 1);
        Tasko.sleep(Duration.ofMillis(5));
        lease.resource().write((byte) 2);
      }
    });
    loop.addTask("b", () -> {
      try (Lease<Spi> lease = b.acquire()) {
        log.add("b selected while a is " + csA.state());
        lease.resource().write((byte) 3);
      }
    });

    loop.run();

    log.assertTaken("a=LOW", "a=HIGH", "b=LOW", "b selected while a is HIGH", "b=HIGH");
    assertThat(((com.pi4j.plugin.mock.provider.spi.MockSpi) spi).readEntireMockBuffer())
        .containsExactly(1, 2);
    assertThat(((com.pi4j.plugin.mock.provider.spi.MockSpi) modeThree).readEntireMockBuffer())
        .containsExactly(3);
    assertThat(ManagedSpi.of(modeThree).resource()).isSameAs(bus.resource());
    assertThatThrownBy(() -> ManagedSpi.of(modeThree).csHandle(csA))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("chip select 'a' selects a device through Spi 'spi' of spi-0 already,"
            + " not through Spi 'spi-mode-3'");
  }

  @Test
  void csHandle_pinWithAHandleOnAnotherBus_refusedAndPinLeftAlone() {
    // Both buses would drive the one line: a device on spi-0 would hear what spi-1 sends
    Spi other = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi-1")
        .bus(com.pi4j.io.spi.SpiBus.BUS_1).channel(1).baud(1_000_000));
    DigitalOutput cs = MockPi.loggedOutput(pi4j, "cs", 5, log);
    Handle<Spi> first = bus.csHandle(cs);
    log.take();
    ManagedSpi spi1 = ManagedSpi.of(other);

    assertThatThrownBy(() -> spi1.csHandle(cs)).isInstanceOf(IllegalStateException.class)
        .hasMessage("chip select 'cs' selects a device on spi-0 (through Spi 'spi') already, not"
            + " on spi-1 (through Spi 'spi-1'): a pin selects devices of one bus only, or both"
            + " buses would drive its line");
    log.assertTaken();
    assertThat(bus.csHandle(cs)).isSameAs(first);
    assertThat(spi1.csHandle(MockPi.loggedOutput(pi4j, "cs1", 6, log))).hasToString(
        "cs cs1 (GPIO 6) on spi-1");
  }

  @Test
  void csHandle_pinWhoseFirstHighThrew_freeForAnotherBus() {
    // No handle was made on spi-0, so the pin must not stay taken by it
    Spi other = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi-1")
        .bus(com.pi4j.io.spi.SpiBus.BUS_1).channel(1).baud(1_000_000));
    FlakyOutput cs = new FlakyOutput(MockPi.loggedOutput(pi4j, "cs", 5, log));
    cs.failHigh = FlakyOutput.Failure.BEFORE_CHANGE;
    assertThatThrownBy(() -> bus.csHandle(cs.pin)).isInstanceOf(IllegalStateException.class)
        .hasMessage("high() of 'cs' failed");
    cs.failHigh = FlakyOutput.Failure.NONE;

    assertThat(ManagedSpi.of(other).csHandle(cs.pin)).hasToString("cs cs (GPIO 5) on spi-1");
    log.assertTaken("cs=HIGH");
  }

  @Test
  void pi4j_secondOutputOnAPinOfTheSameContext_refusedByPi4J() {
    // Why csHandle tells pins apart by identity: one context has one DigitalOutput per GPIO pin
    MockPi.loggedOutput(pi4j, "cs", 5, log);

    assertThatThrownBy(() -> MockPi.loggedOutput(pi4j, "cs-again", 5, log))
        .isInstanceOf(IOAlreadyExistsException.class)
        .hasMessageContaining("address 5 already exists");
  }

  @Test
  void resourceHandle_pinWithoutCsHandle_talksThroughTheBussFirstSpi() {
    // From a review: a first version of the shared bus gave such a handle's lease a view of no Spi
    // at all, which selected the device and then threw a NullPointerException on the first write.
    DigitalOutput cs = MockPi.loggedOutput(pi4j, "x", 7, log);
    Handle<Spi> raw = bus.resource().handle("x", cs);
    loop.addTask("x", () -> {
      try (Lease<Spi> lease = raw.acquire()) {
        lease.resource().write((byte) 9);
      }
    });

    loop.run();

    assertThat(((com.pi4j.plugin.mock.provider.spi.MockSpi) spi).readEntireMockBuffer())
        .containsExactly(9);
  }

  // ---- A kept Spi never reaches the bus outside its lease ----

  @Test
  void resource_keptSpiUsedOutsideItsLease_throwsAndSendsNothing() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "b", 6, log);
    Handle<Spi> a = bus.csHandle(csA);
    Handle<Spi> b = bus.csHandle(csB);
    log.take();
    AtomicReference<Spi> kept = new AtomicReference<>();
    loop.addTask("a", () -> {
      try (Lease<Spi> lease = a.acquire()) {
        kept.set(lease.resource());
      }
      assertThatThrownBy(() -> kept.get().write((byte) 1)).isInstanceOf(IllegalStateException.class)
          .hasMessage("Spi.write() on spi-0 through the lease of device 'a' by task 'a', after"
              + " that lease was closed (the bus is free): use what a lease hands out only inside"
              + " that lease, in its task or its blocking work");
      try (Lease<Spi> lease = b.acquire()) {
        assertThatThrownBy(() -> kept.get().write((byte) 2))
            .isInstanceOf(IllegalStateException.class);
        Tasko.sleep(Duration.ofMillis(10));
      }
    });
    loop.runLater("intruder", Duration.ofMillis(5), () -> {
      assertThatThrownBy(() -> kept.get().write((byte) 3)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("(task 'a' holds the bus for device 'b')");
      log.add("intruder refused during b's transaction");
    });

    loop.run();

    assertThatThrownBy(() -> kept.get().write((byte) 4)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(" by thread ");
    log.assertTaken("a=LOW", "a=HIGH", "b=LOW", "intruder refused during b's transaction",
        "b=HIGH");
    assertThat(((MockSpi) spi).readEntireMockBuffer()).isEmpty(); // not one byte reached the bus
  }

  @Test
  void resource_streamKeptPastItsLease_throwsAndSendsNothing() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "b", 6, log);
    Handle<Spi> a = bus.csHandle(csA);
    Handle<Spi> b = bus.csHandle(csB);
    log.take();
    AtomicReference<java.io.OutputStream> kept = new AtomicReference<>();
    loop.addTask("a", () -> {
      try (Lease<Spi> lease = a.acquire()) {
        java.io.OutputStream out = lease.resource().out();
        out.write(1); // inside the lease: sent while a is selected
        kept.set(out);
      }
      try (Lease<Spi> lease = b.acquire()) {
        assertThatThrownBy(() -> kept.get().write(0x42)).isInstanceOf(IllegalStateException.class)
            .hasMessage("the stream of Spi.out(): write() on spi-0 through the lease of device"
                + " 'a' by task 'a', after that lease was closed (task 'a' holds the bus for"
                + " device 'b'): use what a lease hands out only inside that lease, in its task"
                + " or its blocking work");
        log.add("a's stream refused while b is selected");
        lease.resource().getOutputStream().write(2); // b's own stream, inside b's lease: sent
      }
    });

    loop.run();

    assertThatThrownBy(() -> kept.get().write(new byte[] {3})) // from a thread of no task
        .isInstanceOf(IllegalStateException.class).hasMessageContaining(" by thread ");
    log.assertTaken("a=LOW", "a=HIGH", "b=LOW", "a's stream refused while b is selected",
        "b=HIGH");
    assertThat(((MockSpi) spi).readEntireMockBuffer()).containsExactly(1, 2); // never 0x42 or 3
  }

  @Test
  void close_onSpiView_refusedBusStaysOpen() {
    Handle<Spi> a = bus.csHandle(MockPi.loggedOutput(pi4j, "a", 5, log));
    boolean openBefore = spi.isOpen(); // the mock's own answer, whatever it is
    loop.addTask(() -> {
      try (Lease<Spi> lease = a.acquire(); Spi s = lease.resource()) {
        s.write((byte) 1);
      }
    });

    assertThatThrownBy(loop::run).cause().isInstanceOf(UnsupportedOperationException.class)
        .hasMessageStartingWith("Spi.close() through a lease of spi-0");
    assertThat(spi.isOpen()).isEqualTo(openBefore);
  }

  // ---- At most one chip select low, even when a pin fails ----

  @Test
  void close_chipSelectHighThrows_nextDeviceRefusedUntilPinRecovers() {
    FlakyOutput flakyA = new FlakyOutput(MockPi.loggedOutput(pi4j, "a", 5, log));
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "b", 6, log);
    Handle<Spi> a = bus.csHandle(flakyA.pin);
    Handle<Spi> b = bus.csHandle(csB);
    log.take();
    loop.addTask("a", () -> {
      flakyA.failHigh = FlakyOutput.Failure.BEFORE_CHANGE;
      try (Lease<Spi> lease = a.acquire()) {
        lease.resource().write((byte) 'a');
      } catch (IllegalStateException e) {
        log.add("a: " + e.getMessage());
      }
    });
    loop.addTask("b", () -> {
      try (Lease<Spi> lease = b.acquire()) {
        lease.resource().write((byte) 'b');
        log.add("b selected");
      } catch (IllegalStateException e) {
        log.add("b: " + e.getMessage() + " / " + e.getCause().getMessage());
      }
      flakyA.failHigh = FlakyOutput.Failure.NONE; // the pin recovers
      try (Lease<Spi> lease = b.acquire()) {
        log.add("b selected, a low: " + flakyA.isLow());
      }
    });

    loop.run();

    log.assertTaken(
        "a=LOW",
        "a: high() of 'a' failed",
        "b: chip select 'a' of spi-0 may still be low (driving it high threw); 'b' is not"
            + " selected, so that two devices never listen at once / high() of 'a' failed",
        "a=HIGH",
        "b=LOW",
        "b selected, a low: false",
        "b=HIGH");
    assertThat(((MockSpi) spi).readEntireMockBuffer()).containsExactly((byte) 'a');
  }

  @Test
  void acquire_chipSelectLowThrowsAfterGoingLow_pinRaisedBeforeNextDevice() {
    FlakyOutput flakyA = new FlakyOutput(MockPi.loggedOutput(pi4j, "a", 5, log));
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "b", 6, log);
    Handle<Spi> a = bus.csHandle(flakyA.pin);
    Handle<Spi> b = bus.csHandle(csB);
    log.take();
    flakyA.failLow = FlakyOutput.Failure.AFTER_CHANGE;
    loop.addTask("a", () -> {
      assertThatThrownBy(a::acquire).hasMessage("low() of 'a' failed late");
      try (Lease<Spi> lease = b.acquire()) {
        log.add("b selected, a low: " + flakyA.isLow());
      }
    });

    loop.run();

    log.assertTaken("a=LOW", "a=HIGH", "b=LOW", "b selected, a low: false", "b=HIGH");
  }

  // ---- A failed run of a schedule gives the bus back ----

  @Test
  void scheduleRunThrowsHoldingLease_chipSelectHighAndOtherDeviceServed() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "poll", 5, log);
    DigitalOutput csB = MockPi.loggedOutput(pi4j, "sd", 6, log);
    Handle<Spi> poll = bus.csHandle(csA);
    Handle<Spi> sd = bus.csHandle(csB);
    log.take();
    Loop forgiving = Loop.builder().virtualTime()
        .failureHandler(dev.tasko.FailureHandler.logAndContinue()).build();
    var schedule = forgiving.schedule("poll", Duration.ofMillis(10), () -> {
      Lease<Spi> lease = poll.acquire(); // no try-with-resources
      lease.resource().write((byte) 1);
      throw new IllegalStateException("sensor answered garbage");
    });
    forgiving.runLater("sd", Duration.ofMillis(5), () -> {
      try (Lease<Spi> lease = sd.acquire()) {
        log.add("sd got the bus at " + Duration.ofNanos(forgiving.nanoTime()).toMillis() + " ms");
      }
    });
    forgiving.runLater(Duration.ofMillis(15), schedule::stop);

    forgiving.run();

    log.assertTaken("poll=LOW", "poll=HIGH", "sd=LOW", "sd got the bus at 5 ms", "sd=HIGH",
        "poll=LOW", "poll=HIGH");
  }

  // ---- One handle per pin ----

  @Test
  void csHandle_samePinWhileItsDeviceHoldsBus_sameHandleAndPinStaysLow() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    Handle<Spi> a = bus.csHandle(csA);
    log.take();
    AtomicReference<Handle<Spi>> again = new AtomicReference<>();
    loop.addTask(() -> {
      try (Lease<Spi> lease = a.acquire()) {
        again.set(bus.csHandle(csA));
        log.add("a still low: " + csA.isLow());
      }
    });

    loop.run();

    assertThat(again.get()).isSameAs(a);
    log.assertTaken("a=LOW", "a still low: true", "a=HIGH");
  }

  // ---- Shutdown after a failed run() ----

  @Test
  void shutdown_afterRunFailedWithHolderParked_chipSelectHighAgain() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    Handle<Spi> a = bus.csHandle(csA);
    log.take();
    loop.addTask("holder", () -> {
      try (Lease<Spi> lease = a.acquire()) {
        Tasko.sleep(Duration.ofSeconds(1));
      }
    });
    loop.runLater("failing", Duration.ofMillis(1), () -> {
      throw new IllegalStateException("boom");
    });
    assertThatThrownBy(loop::run).hasRootCauseMessage("boom");
    assertThat(csA.isLow()).isTrue();

    loop.shutdown();

    log.assertTaken("a=LOW", "a=HIGH");
    assertThatThrownBy(() -> loop.addTask(() -> {})).isInstanceOf(IllegalStateException.class);
  }

  private void transfer(Lease<Spi> lease, String payload, DigitalOutput csA, DigitalOutput csB) {
    log.add("transfer " + payload + " (a=" + csA.state() + ", b=" + csB.state() + ")");
    lease.resource().transfer(payload.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
        new byte[2]);
  }

  @Test
  @Timeout(10)
  void shutdown_ofAnEndedLoopWhileALaterLoopHoldsTheBus_leavesThatChipSelectLow() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    DigitalOutput csX = MockPi.loggedOutput(pi4j, "x", 6, log);
    Handle<Spi> a = bus.csHandle(csA);
    Handle<Spi> x = bus.csHandle(csX);
    Loop first = Loop.builder().name("first").virtualTime().build();
    first.addTask("init", () -> {
      try (Lease<Spi> lease = a.acquire()) {
        lease.resource().write((byte) 'a');
      }
    });
    first.run(); // ended: the bus may now belong to another loop
    log.take();
    loop.addTask("main", () -> {
      try (Lease<Spi> lease = x.acquire()) {
        // e.g. another thread tidies up the init loop while this transaction is under way
        Tasko.blocking(() -> {
          first.shutdown();
          return null;
        });
        log.add("mid-transaction, x low: " + csX.isLow());
        lease.resource().write((byte) 'x');
      }
    });

    loop.run();

    log.assertTaken("x=LOW", "mid-transaction, x low: true", "x=HIGH");
  }

  @Test
  @Timeout(10)
  void shutdown_busMovedBackAndForthBetweenTwoLoops_drivesPinsHighOnce() {
    // A bus moved back to a loop it was with before registered that loop's shutdown hook once more
    // at each move: one more close per move, a pin driven high that many times, a leak.
    FlakyOutput flakyA = new FlakyOutput(MockPi.loggedOutput(pi4j, "a", 5, log));
    Handle<Spi> a = bus.csHandle(flakyA.pin);
    Loop other = Loop.builder().name("other").virtualTime().build();
    for (int round = 0; round < 3; round++) {
      for (Loop l : List.of(loop, other)) {
        l.addTask(() -> {
          try (Lease<Spi> lease = a.acquire()) {
            lease.resource().write((byte) 'a');
          }
        });
        l.run(); // ended: the other loop may have the bus now
      }
    }
    loop.addTask(() -> {
      flakyA.failHigh = FlakyOutput.Failure.BEFORE_CHANGE; // 'a' stays low past its lease
      assertThatThrownBy(() -> a.acquire().close()).hasMessage("high() of 'a' failed");
    });
    loop.run();

    // each close of the loop's hook tries 'a' once, fails, and adds a failure of its own
    assertThatThrownBy(loop::shutdown)
        .hasMessage("chip select 'a' of spi-0 may still be low: driving it high threw")
        .satisfies(e -> assertThat(e.getSuppressed()).isEmpty());
    flakyA.failHigh = FlakyOutput.Failure.NONE;
    other.shutdown();
    assertThat(flakyA.isLow()).isFalse();
  }

  @Test
  void shutdown_chipSelectHighThrowsAnError_thrownAsTheCauseOfAFailureNamingThePin() {
    // The shutdown's clean-up caught only exceptions, where select's catches Errors too: an Error
    // came out bare, without the pin it was for, and would have skipped the pins after it
    FlakyOutput flakyA = new FlakyOutput(MockPi.loggedOutput(pi4j, "a", 5, log));
    Handle<Spi> a = bus.csHandle(flakyA.pin);
    Loop later = Loop.builder().name("later").virtualTime().build();
    later.addTask(() -> a.acquire().close()); // the bus has been used in 'later' too
    later.run();
    loop.addTask(() -> {
      flakyA.failHigh = FlakyOutput.Failure.ERROR_BEFORE_CHANGE; // 'a' stays low past its lease
      assertThatThrownBy(() -> a.acquire().close()).isInstanceOf(LinkageError.class);
    });
    loop.run();

    assertThatThrownBy(loop::shutdown).isInstanceOf(IllegalStateException.class)
        .hasMessage("chip select 'a' of spi-0 may still be low: driving it high threw")
        .cause().isInstanceOf(LinkageError.class).hasMessage("high() of 'a' broke");
    assertThat(flakyA.isLow()).isTrue();
    flakyA.failHigh = FlakyOutput.Failure.NONE;
    later.shutdown(); // still known as maybe low: driven high this time
    assertThat(flakyA.isLow()).isFalse();
  }

  @Test
  @Timeout(10)
  void select_resourceHandleWithNoPin_refusedAndOtherDevicesStillServed() {
    DigitalOutput csA = MockPi.loggedOutput(pi4j, "a", 5, log);
    Handle<Spi> a = bus.csHandle(csA);
    Handle<Spi> careless = bus.resource().handle(null); // ManagedResource allows a null context
    log.take();
    loop.addTask("t", () -> {
      try (Lease<Spi> lease = careless.acquire()) {
        log.add("careless selected");
      } catch (RuntimeException e) {
        log.add("careless refused: " + e.getMessage());
      }
      try (Lease<Spi> lease = a.acquire()) {
        lease.resource().write((byte) 'a');
        log.add("a selected");
      } catch (RuntimeException e) {
        log.add("a refused: " + e);
      }
    });

    loop.run();

    log.assertTaken("careless refused: chip select == null: a device on spi-0 needs its "
        + "chip-select pin (make its handle with csHandle)", "a=LOW", "a selected", "a=HIGH");
    assertThat(((MockSpi) spi).readEntireMockBuffer()).containsExactly((byte) 'a');
  }

  @Test
  @Timeout(10)
  void csHandle_fromAnotherThreadRacingASelectOfThatPin_leavesItLow() throws Exception {
    DigitalOutput real = MockPi.loggedOutput(pi4j, "a", 5, log);
    real.high();
    CountDownLatch checked = new CountDownLatch(1);
    CountDownLatch selected = new CountDownLatch(1);
    AtomicReference<Thread> holder = new AtomicReference<>();
    // The same pin; a thread calling high() is held between csHandle's check and the call, as a
    // thread preempted there would be, until the holder has selected the pin or waits to.
    DigitalOutput pin = (DigitalOutput) Proxy.newProxyInstance(
        DigitalOutput.class.getClassLoader(), new Class<?>[] {DigitalOutput.class},
        (proxy, method, args) -> {
          if (method.getName().equals("high") && Thread.currentThread().getName().equals("x")) {
            checked.countDown();
            while (selected.getCount() > 0 && (holder.get() == null
                || holder.get().getState() != Thread.State.BLOCKED)) {
              Thread.onSpinWait();
            }
          }
          if (method.getName().equals("address") && method.getParameterCount() == 0) {
            return real.address();
          }
          Object r;
          try {
            r = method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          return r == real ? proxy : r;
        });
    Handle<Spi> viaResource = bus.resource().handle(pin);
    log.take();
    Thread x = new Thread(() -> bus.csHandle(pin), "x"); // another part of the program, lazily
    x.start();
    loop.addTask("holder", () -> {
      Tasko.blocking(() -> {
        checked.await();
        return null;
      });
      holder.set(Thread.currentThread());
      try (Lease<Spi> lease = viaResource.acquire()) {
        selected.countDown();
        Tasko.blocking(() -> {
          x.join();
          return null;
        });
        log.add("mid-transaction, a low: " + real.isLow());
        lease.resource().write((byte) 1);
      }
    });

    loop.run();

    log.assertTaken("a=LOW", "mid-transaction, a low: true", "a=HIGH");
  }
}
