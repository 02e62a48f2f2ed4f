package dev.tasko.pi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pi4j.context.Context;
import com.pi4j.io.exception.IOAlreadyExistsException;
import com.pi4j.io.i2c.I2C;
import com.pi4j.io.i2c.I2CRegister;
import com.pi4j.plugin.mock.provider.i2c.MockI2C;
import dev.tasko.DeadlockException;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.Task;
import dev.tasko.TaskFailedException;
import dev.tasko.Tasko;
import dev.tasko.testsupport.EventLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

// some leases are held across a sleep only to keep the bus: unused on purpose
@SuppressWarnings("try")
class ManagedI2cTest {
  private static final int COMMAND = 0x24;
  private static final int RESULT = 0x00;

  private final EventLog log = new EventLog();
  private final Context pi4j = MockPi.context();
  private final Loop loop = Loop.builder().name("test").virtualTime().build();
  private final ManagedI2c bus = ManagedI2c.of(pi4j, 1);

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  @Test
  void acquire_multiStepTransactionsOfTwoDevices_neverInterleave() {
    Handle<I2C> sensor = bus.handle(0x44);
    Handle<I2C> display = bus.handle(0x3c);
    MockI2C sensorChip = (MockI2C) bus.resource().contextOf(sensor);
    // two readings of two bytes
    sensorChip.writeRegister(RESULT, new byte[] {0x12, 0x34, 0x56, 0x78});
    loop.addTask("sensor", () -> {
      for (int i = 0; i < 2; i++) {
        try (Lease<I2C> lease = sensor.acquire()) {
          I2C chip = lease.resource();
          chip.writeRegister(COMMAND, (byte) 0x06);
          log.add(at() + " sensor 0x" + Integer.toHexString(chip.device()) + " measure");
          Tasko.sleep(Duration.ofMillis(15)); // the device measures; the bus stays ours
          byte[] reading = new byte[2];
          chip.readRegister(RESULT, reading);
          log.add(at() + " sensor read " + HexFormat.of().formatHex(reading));
        }
      }
    });
    loop.addTask("display", () -> {
      for (int i = 0; i < 2; i++) {
        try (Lease<I2C> lease = display.acquire()) {
          log.add(at() + " display 0x" + Integer.toHexString(lease.resource().device()) + " frame "
              + i);
          lease.resource().write(new byte[] {0x40, (byte) i});
        }
        Tasko.sleep(Duration.ofMillis(5));
      }
    });

    loop.run();

    log.assertTaken(
        "0 ms sensor 0x44 measure",
        "15 ms sensor read 1234",
        "15 ms display 0x3c frame 0", // queued since 0 ms; served first, FIFO
        "15 ms sensor 0x44 measure", // queued behind the display at 15 ms, served right after it
        "30 ms sensor read 5678",
        "30 ms display 0x3c frame 1"); // asked at 20 ms: waited for the whole transaction
    // both frames arrived
    assertThat(((MockI2C) bus.resource().contextOf(display)).read(new byte[4], 0, 4)).isEqualTo(4);
  }

  @Test
  void resource_usedByTaskNotHoldingIt_throwsNamingBothTasks() {
    Handle<I2C> sensor = bus.handle(0x44);
    AtomicReference<I2C> leaked = new AtomicReference<>();
    loop.addTask("holder", () -> {
      try (Lease<I2C> lease = sensor.acquire()) {
        leaked.set(lease.resource());
        Tasko.sleep(Duration.ofMillis(10));
      }
    });
    Task<Void> intruder = loop.runLater("intruder", Duration.ofMillis(5), () ->
        leaked.get().write((byte) 1));

    assertThatThrownBy(loop::run).isInstanceOf(TaskFailedException.class).cause()
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("I2C.write() on i2c-1 through the lease of device 'i2c-1-0x44' by task"
            + " 'intruder', which does not hold that lease (task 'holder' does): use what a lease"
            + " hands out only inside that lease, in its task or its blocking work");
    assertThat(intruder.state()).isEqualTo(Task.State.FAILED);
  }

  @Test
  void resource_usedAfterLeaseClosed_throwsBusIsFree() {
    Handle<I2C> sensor = bus.handle(0x44);
    AtomicReference<I2C> kept = new AtomicReference<>();
    loop.addTask("sensor", () -> {
      try (Lease<I2C> lease = sensor.acquire()) {
        kept.set(lease.resource());
      }
      kept.get().write((byte) 1);
    });

    assertThatThrownBy(loop::run).cause()
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("I2C.write() on i2c-1 through the lease of device 'i2c-1-0x44' by task"
            + " 'sensor', after that lease was closed (the bus is free): use what a lease hands"
            + " out only inside that lease, in its task or its blocking work");
  }

  @Test
  void resource_usedFromThreadOutsideLoop_throws() {
    Handle<I2C> sensor = bus.handle(0x44);
    AtomicReference<I2C> kept = viewKeptAfterLease(sensor);

    assertThatThrownBy(() -> kept.get().device()).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("I2C.device() on i2c-1 through the lease of device 'i2c-1-0x44' by"
            + " thread ");
  }

  @Test
  void holderAndWaiting_whileSensorMeasures_nameTheHandles() {
    Handle<I2C> sensor = bus.handle(0x44);
    Handle<I2C> display = bus.handle(0x3c);
    AtomicReference<List<Object>> seen = new AtomicReference<>();
    loop.addTask(() -> {
      try (Lease<I2C> lease = sensor.acquire()) {
        Tasko.sleep(Duration.ofMillis(10));
      }
    });
    loop.addTask(() -> {
      try (Lease<I2C> lease = display.acquire()) {
        lease.resource().write((byte) 0);
      }
    });
    loop.runLater(Duration.ofMillis(5),
        () -> seen.set(List.of(bus.resource().holder(), bus.resource().waiting())));

    loop.run();

    assertThat(seen.get()).containsExactly(Optional.of(sensor), List.of(display));
  }

  @Test
  void handle_existingDeviceOnThisBus_isUsable() {
    I2C chip = pi4j.create(I2C.newConfigBuilder(pi4j).id("rtc").bus(1).device(0x68));
    Handle<I2C> rtc = bus.handle(chip);
    loop.addTask(() -> {
      try (Lease<I2C> lease = rtc.acquire()) {
        log.add("rtc at 0x" + Integer.toHexString(lease.resource().device()) + " on bus "
            + lease.resource().bus());
      }
    });

    loop.run();

    log.assertTaken("rtc at 0x68 on bus 1");
    assertThat(bus.resource().contextOf(rtc)).isSameAs(chip);
  }

  @Test
  void handle_byAddress_namedByAddressInReports() {
    Handle<I2C> sensor = bus.handle(0x44);
    Handle<I2C> display = bus.handle(0x3c);
    List<Task<?>> fan = new ArrayList<>();
    loop.addTask("reader", () -> {
      try (Lease<I2C> lease = sensor.acquire()) {
        Tasko.yieldNow(); // the fan task queues for the bus meanwhile
        fan.get(0).join(); // ...and waits for it forever: a deadlock
      }
    });
    fan.add(loop.addTask("fan", () -> display.acquire().close()));

    assertThat(sensor).hasToString("0x44 on i2c-1");
    assertThat(bus.handle(pi4j.create(I2C.newConfigBuilder(pi4j).id("rtc").bus(1).device(0x68))))
        .hasToString("0x68 on i2c-1");
    assertThatThrownBy(loop::run).isInstanceOf(DeadlockException.class)
        .hasMessageContaining("task 'fan' waits for resource 'i2c-1' through 0x3c "
            + "(held by task 'reader' through 0x44)");
  }

  @Test
  void handle_deviceOnAnotherBus_throwsWithBothBusNumbers() {
    I2C elsewhere = pi4j.create(I2C.newConfigBuilder(pi4j).id("far").bus(3).device(0x10));

    assertThatThrownBy(() -> bus.handle(elsewhere)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("device 'far' is on bus 3, not on this bus 1");
  }

  @Test
  void handle_deviceOfAnotherContext_throwsNamingDeviceAndBus() {
    // Shared here, it would exclude this context's devices but not those of its own context's bus
    Context other = MockPi.context();
    try {
      I2C foreign = other.create(I2C.newConfigBuilder(other).id("far").bus(1).device(0x10));

      assertThatThrownBy(() -> bus.handle(foreign)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("device 'far' belongs to another Pi4J context than i2c-1: share its bus"
              + " with ManagedI2c.of(itsContext, 1), so that it excludes the other devices of"
              + " that context");
      assertThat(bus.resource().holder()).isEmpty();
    } finally {
      other.shutdown();
    }
  }

  @Test
  void handle_deviceAfterItsContextShutDown_throwsNamingTheDevice() {
    I2C chip = pi4j.create(I2C.newConfigBuilder(pi4j).id("rtc").bus(1).device(0x68));
    pi4j.shutdown();

    assertThatThrownBy(() -> bus.handle(chip)).isInstanceOf(IllegalStateException.class)
        .hasMessage("the Pi4J context of i2c-1 is shut down: it has shut device 'rtc' down");
  }

  @Test
  void handle_addressAfterContextShutDown_throwsAndMakesNoDevice() {
    // Pi4J itself still creates a device in a shut-down context, which nothing would shut down
    pi4j.shutdown();

    assertThatThrownBy(() -> bus.handle(0x44)).isInstanceOf(IllegalStateException.class)
        .hasMessage("the Pi4J context of i2c-1 is shut down: no device is made at 0x44, since the"
            + " context would never shut it down");
    assertThat(pi4j.registry().exists("i2c-1-0x44")).isFalse();
  }

  @Test
  void handle_addressOutside7Bits_throwsWithAddress() {
    assertThatThrownBy(() -> bus.handle(0x80)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address outside 0x00..0x7f: 128 (0x80)");
    assertThatThrownBy(() -> bus.handle(-1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address outside 0x00..0x7f: -1");
  }

  @Test
  void handle_sameAddressTwice_throwsNamingTheAddress() {
    // Pi4J's own refusal named only its id: "IO instance [i2c-1-0x48] already exists ..."
    Handle<I2C> first = bus.handle(0x48);

    assertThatThrownBy(() -> bus.handle(0x48)).isInstanceOf(IllegalStateException.class)
        .hasMessage("address has a device already: 0x48 (Pi4J id 'i2c-1-0x48' on i2c-1): make"
            + " each device's handle once and share it, or pass the existing I2C to handle(I2C)")
        .hasCauseInstanceOf(IOAlreadyExistsException.class);
    assertThat(bus.handle(bus.resource().contextOf(first))).hasToString("0x48 on i2c-1");
  }

  @Test
  void of_negativeBus_throwsWithBus() {
    assertThatThrownBy(() -> ManagedI2c.of(pi4j, -2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bus < 0: -2");
  }

  @Test
  void resource_objectMethods_answerWithoutHoldingTheBus() {
    Handle<I2C> sensor = bus.handle(0x44);
    AtomicReference<I2C> kept = viewKeptAfterLease(sensor);

    assertThat(kept.get().toString())
        .isEqualTo("I2C of device 'i2c-1-0x44' on i2c-1, lease closed");
    assertThat(kept.get()).isEqualTo(kept.get()).hasSameHashCodeAs(kept.get());
  }

  // ---- A lease hands out a view of its own device, guarded; what it reaches is guarded too ----

  @Test
  void resource_keptSensorViewUsedWhileHoldingDisplay_throwsAndDisplayGetsNothing() {
    Handle<I2C> sensor = bus.handle(0x44);
    Handle<I2C> display = bus.handle(0x3c);
    loop.addTask("app", () -> {
      I2C s;
      try (Lease<I2C> l = sensor.acquire()) {
        s = l.resource();
      }
      try (Lease<I2C> l = display.acquire()) {
        assertThatThrownBy(() -> s.write(0x55)).isInstanceOf(IllegalStateException.class)
            .hasMessage("I2C.write() on i2c-1 through the lease of device 'i2c-1-0x44' by task"
                + " 'app', after that lease was closed (task 'app' holds the bus for device"
                + " 'i2c-1-0x3c'): use what a lease hands out only inside that lease, in its task"
                + " or its blocking work");
        log.add("refused");
      }
    });

    loop.run();

    log.assertTaken("refused");
    // nothing was written to 0x3c
    assertThat(((MockI2C) bus.resource().contextOf(display)).read()).isNegative();
    assertThat(((MockI2C) bus.resource().contextOf(sensor)).read()).isNegative();
  }

  @Test
  void register_streamKeptPastItsLease_throwsAndTheOtherDeviceGetsNothing() {
    Handle<I2C> sensor = bus.handle(0x44);
    Handle<I2C> display = bus.handle(0x3c);
    loop.addTask("app", () -> {
      java.io.OutputStream out;
      java.io.InputStream in;
      try (Lease<I2C> l = sensor.acquire()) {
        out = l.resource().register(0x10).out();
        in = l.resource().in();
      }
      try (Lease<I2C> l = display.acquire()) {
        assertThatThrownBy(() -> out.write(0x55)).isInstanceOf(IllegalStateException.class)
            .hasMessageStartingWith("the stream of I2CRegister.out(): write() on i2c-1 through the"
                + " lease of device 'i2c-1-0x44' by task 'app', after that lease was closed");
        assertThatThrownBy(in::read).isInstanceOf(IllegalStateException.class)
            .hasMessageStartingWith("the stream of I2C.in(): read() on i2c-1");
        log.add("refused");
      }
    });

    loop.run();

    log.assertTaken("refused");
    assertThat(((MockI2C) bus.resource().contextOf(display)).read()).isNegative();
    assertThat(((MockI2C) bus.resource().contextOf(sensor)).read()).isNegative();
  }

  @Test
  void resource_eachLease_ownViewOfItsOwnDevice() {
    Handle<I2C> sensor = bus.handle(0x44);
    Handle<I2C> display = bus.handle(0x3c);
    loop.addTask(() -> {
      try (Lease<I2C> a = sensor.acquire()) {
        log.add("0x" + Integer.toHexString(a.resource().device()) + " same: "
            + (a.resource() == a.resource()));
      }
      try (Lease<I2C> b = display.acquire()) {
        log.add("0x" + Integer.toHexString(b.resource().device()));
      }
    });

    loop.run();

    log.assertTaken("0x44 same: true", "0x3c");
  }

  @Test
  void register_reachedThroughView_refusedOutsideItsLeaseEvenFromForeignThread() {
    Handle<I2C> sensor = bus.handle(0x44);
    Handle<I2C> display = bus.handle(0x3c);
    AtomicReference<I2CRegister> kept = new AtomicReference<>();
    loop.addTask("holder", () -> {
      try (Lease<I2C> l = sensor.acquire()) {
        I2CRegister r = l.resource().register(0x10);
        r.write((byte) 7); // inside the lease: fine
        kept.set(r);
        Tasko.sleep(Duration.ofMillis(10));
      }
    });
    loop.runLater("intruder", Duration.ofMillis(5), () -> {
      assertThatThrownBy(() -> kept.get().write((byte) 1)).isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("I2CRegister.write() on i2c-1 through the lease of device"
              + " 'i2c-1-0x44' by task 'intruder', which does not hold that lease (task 'holder'"
              + " does)");
      log.add("intruder refused");
    });
    loop.runLater("other device", Duration.ofMillis(6), () -> {
      try (Lease<I2C> l = display.acquire()) { // waits for the holder, then the register is stale
        assertThatThrownBy(() -> kept.get().write((byte) 2))
            .isInstanceOf(IllegalStateException.class);
        log.add("stale register refused during the display's lease");
      }
    });

    loop.run();

    log.assertTaken("intruder refused", "stale register refused during the display's lease");
    assertThatThrownBy(() -> kept.get().write((byte) 3)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(" by thread ");
    MockI2C sensorChip = (MockI2C) bus.resource().contextOf(sensor);
    assertThat(sensorChip.readRegister(0x10)).isEqualTo(7); // the lease's own write, nothing else
    assertThatThrownBy(() -> sensorChip.readRegister(0x10)).hasMessage("No available data to read");
    assertThatThrownBy(() -> ((MockI2C) bus.resource().contextOf(display)).readRegister(0x10))
        .hasMessage("No available data to read");
  }

  @Test
  void blocking_holdersWorkInsideItsLease_usesTheDeviceWhileOthersRun() {
    Handle<I2C> sensor = bus.handle(0x44);
    MockI2C sensorChip = (MockI2C) bus.resource().contextOf(sensor);
    sensorChip.writeRegister(RESULT, new byte[] {0x12, 0x34});
    loop.addTask("sensor", () -> {
      try (Lease<I2C> lease = sensor.acquire()) {
        I2C chip = lease.resource();
        chip.writeRegister(COMMAND, (byte) 0x06);
        byte[] reading = Tasko.blocking(() -> { // a clock-stretching read, off the loop
          byte[] r = new byte[2];
          chip.readRegister(RESULT, r);
          return r;
        });
        log.add("sensor read " + HexFormat.of().formatHex(reading));
      }
    });
    loop.addTask("other", () -> log.add("other ran"));

    loop.run();

    log.assertTaken("other ran", "sensor read 1234");
  }

  @Test
  void blocking_workOfAnotherTask_refused() {
    Handle<I2C> sensor = bus.handle(0x44);
    AtomicReference<I2C> kept = new AtomicReference<>();
    loop.addTask("holder", () -> {
      try (Lease<I2C> lease = sensor.acquire()) {
        kept.set(lease.resource());
        Tasko.sleep(Duration.ofMillis(10));
      }
    });
    loop.runLater("intruder", Duration.ofMillis(5), () -> {
      String refused = Tasko.blocking(() -> refusal(() -> kept.get().write((byte) 1)));
      log.add(refused);
    });

    loop.run();

    assertThat(log.take()).singleElement().asString()
        .startsWith("refused: I2C.write() on i2c-1 through the lease of device 'i2c-1-0x44' by"
            + " thread VirtualThread[#")
        .contains("tasko-blocking-work")
        .contains(", which does not hold that lease (task 'holder' does)");
  }

  @Test
  void blocking_plainThreadStartedByTheHolder_refused() {
    Handle<I2C> sensor = bus.handle(0x44);
    loop.addTask("holder", () -> {
      try (Lease<I2C> lease = sensor.acquire()) {
        I2C chip = lease.resource();
        String refused = Tasko.blocking(() -> {
          String[] seen = new String[1];
          // A thread of the work's own: not the work, so not served.
          Thread t = Thread.ofPlatform().start(() -> seen[0] = refusal(chip::device));
          t.join();
          return seen[0];
        });
        log.add(refused);
      }
    });

    loop.run();

    assertThat(log.take()).singleElement().asString()
        .startsWith("refused: I2C.device() on i2c-1 through the lease of device 'i2c-1-0x44' by"
            + " thread Thread[#")
        .contains(", which does not hold that lease (task 'holder' does)");
  }

  @Test
  void blocking_holdersWorkAfterTheLeaseClosed_refused() {
    Handle<I2C> sensor = bus.handle(0x44);
    loop.addTask("holder", () -> {
      I2C kept;
      try (Lease<I2C> lease = sensor.acquire()) {
        kept = lease.resource();
      }
      log.add(Tasko.blocking(() -> refusal(() -> kept.write((byte) 1))));
    });

    loop.run();

    assertThat(log.take()).singleElement().asString()
        .startsWith("refused: I2C.write() on i2c-1 through the lease of device 'i2c-1-0x44' by"
            + " thread VirtualThread[#")
        .contains(", after that lease was closed (the bus is free)");
  }

  /** What {@code use} threw, as "refused: message", or "allowed". */
  private static String refusal(Runnable use) {
    try {
      use.run();
      return "allowed";
    } catch (IllegalStateException e) {
      return "refused: " + e.getMessage();
    }
  }

  @Test
  void fluentSetter_throughView_returnsTheGuardedView() {
    Handle<I2C> sensor = bus.handle(0x44);
    AtomicReference<I2C> renamed = new AtomicReference<>();
    loop.addTask(() -> {
      try (Lease<I2C> l = sensor.acquire()) {
        renamed.set(l.resource().name("thermometer"));
        log.add("same view: " + (renamed.get() == l.resource()));
      }
    });

    loop.run();

    log.assertTaken("same view: true");
    assertThatThrownBy(() -> renamed.get().write((byte) 1))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void close_onViewInTryWithResources_refusedAndSharedDeviceStaysOpen() {
    Handle<I2C> sensor = bus.handle(0x44);
    loop.addTask(() -> {
      try (Lease<I2C> l = sensor.acquire(); I2C dev = l.resource()) {
        dev.write((byte) 1);
      }
    });

    assertThatThrownBy(loop::run).cause().isInstanceOf(UnsupportedOperationException.class)
        .hasMessage("I2C.close() through a lease of i2c-1: device 'i2c-1-0x44' belongs to its Pi4J"
            + " context, which opens and closes it; close the lease instead");
    assertThat(bus.resource().contextOf(sensor).isOpen()).isTrue();
    assertThat(sensor.isActive()).isFalse(); // the lease was still closed
  }

  @Test
  void handle_givenALeaseView_throwsInsteadOfRecursing() {
    Handle<I2C> sensor = bus.handle(0x44);
    AtomicReference<I2C> kept = viewKeptAfterLease(sensor);

    assertThatThrownBy(() -> bus.handle(kept.get())).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("I2C of device 'i2c-1-0x44' on i2c-1, lease closed is what a lease hands out,"
            + " not a device: pass the Pi4J I2C itself, or use the handle that lease came from");
  }

  @Test
  void execute_taskCancelledWhileTheActionSleeps_endsCancelledNotFailed() {
    // From a hostile review: Pi4J's execute() wraps whatever its action throws, so the cancel
    // reached the task as a Pi4JException, and run() threw for a task that was only cancelled.
    Handle<I2C> sensor = bus.handle(0x44);
    Task<Integer> reader = loop.addTask("reader", () -> {
      try (Lease<I2C> lease = sensor.acquire()) {
        I2C chip = lease.resource();
        return chip.execute(() -> { // Pi4J's bus lock around a whole transaction
          chip.write((byte) COMMAND);
          Tasko.sleep(Duration.ofMillis(15));
          return chip.read();
        });
      }
    });
    loop.runLater("stopper", Duration.ofMillis(5), reader::cancel);

    loop.run();

    assertThat(reader.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(sensor.isActive()).isFalse();
  }

  @Test
  void execute_actionThrowsUnchecked_reachesTheTaskUnwrapped() {
    Handle<I2C> sensor = bus.handle(0x44);
    loop.addTask("reader", () -> {
      try (Lease<I2C> lease = sensor.acquire()) {
        I2C chip = lease.resource();
        try {
          Tasko.withTimeout(Duration.ofMillis(5), () -> chip.execute(() -> {
            Tasko.sleep(Duration.ofMillis(15));
            return 0;
          }));
        } catch (RuntimeException e) {
          log.add(at() + " " + e.getClass().getSimpleName());
        }
        try {
          chip.execute(() -> chip.readByte()); // nothing to read: Pi4J's own exception
        } catch (RuntimeException e) {
          log.add(e.getClass().getSimpleName());
        }
      }
    });

    loop.run();

    log.assertTaken("5 ms TimeoutException", "IOReadException");
  }

  // ---- One bus per context and bus number; a bus outlives its first loop ----

  @Test
  void of_sameContextAndBusTwice_sameBusSoDevicesExcludeEachOther() {
    ManagedI2c again = ManagedI2c.of(pi4j, 1);
    Handle<I2C> sensor = bus.handle(0x44);
    Handle<I2C> display = again.handle(0x3c);
    loop.addTask("sensor", () -> {
      try (Lease<I2C> l = sensor.acquire()) {
        log.add(at() + " sensor starts");
        Tasko.sleep(Duration.ofMillis(10));
        log.add(at() + " sensor ends");
      }
    });
    loop.addTask("display", () -> {
      try (Lease<I2C> l = display.acquire()) {
        log.add(at() + " display");
      }
    });

    loop.run();

    assertThat(again).isSameAs(bus);
    log.assertTaken("0 ms sensor starts", "10 ms sensor ends", "10 ms display");
  }

  @Test
  void of_sameBusUnderAnotherName_throwsNamingBoth() {
    assertThatThrownBy(() -> ManagedI2c.of("sensors", pi4j, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("I2C bus 1 of this Pi4J context is shared already as 'i2c-1', not 'sensors':"
            + " use that ManagedI2c, so that its devices exclude each other");
  }

  @Test
  void of_nameWithLineBreak_refusedAndBusLeftUnshared() {
    Context other = MockPi.context();
    try {
      assertThatThrownBy(() -> ManagedI2c.of("sensors\r", other, 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("name has a control character at index 7: \"sensors\\r\"");

      assertThat(ManagedI2c.of("sensors", other, 1).name()).isEqualTo("sensors");
    } finally {
      other.shutdown();
    }
  }

  @Test
  void of_emptyOrBlankNameForABusSharedAlready_refusedAsABadName() {
    // A bad name is refused as such, before it is compared with the name the bus is shared under
    assertThatThrownBy(() -> ManagedI2c.of("", pi4j, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name is empty: \"\"");
    assertThatThrownBy(() -> ManagedI2c.of("  ", pi4j, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name is blank: \"  \"");
    assertThatThrownBy(() -> ManagedI2c.of("i2c-1\n", pi4j, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name has a control character at index 5: \"i2c-1\\n\"");
    assertThat(ManagedI2c.of("i2c-1", pi4j, 1)).isSameAs(bus);
  }

  @Test
  void of_badNameForABusSharedAlready_sameMessageAsTheRestOfTheLibrary() {
    for (String bad : List.of("", " \u2003", "a\tb", "\u0085x", "x\u007f")) {
      assertThatThrownBy(() -> ManagedI2c.of(bad, pi4j, 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(messageOf(() -> dev.tasko.Event.create(bad)));
    }
  }

  /** The message of what {@code call} throws: the library's own refusal, to compare with. */
  private static String messageOf(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      return e.getMessage();
    }
    throw new AssertionError("not refused");
  }

  @Test
  void of_unnamedAfterNamed_returnsTheNamedBus() {
    Context other = MockPi.context();
    try {
      ManagedI2c named = ManagedI2c.of("sensors", other, 1);

      assertThat(ManagedI2c.of(other, 1)).isSameAs(named);
      assertThat(ManagedI2c.of(other, 3)).isNotSameAs(named); // another bus number
      assertThat(ManagedI2c.of(pi4j, 1)).isNotSameAs(named).isSameAs(bus); // another context
    } finally {
      other.shutdown();
    }
  }

  @Test
  void acquire_fromSecondLoopAfterFirstEnded_works() {
    Handle<I2C> sensor = bus.handle(0x44);
    viewKeptAfterLease(sensor); // the first loop used the bus and ended
    Loop second = Loop.builder().virtualTime().build();
    second.addTask(() -> {
      try (Lease<I2C> l = sensor.acquire()) {
        l.resource().write((byte) 9);
        log.add("second loop wrote");
      }
    });

    second.run();

    log.assertTaken("second loop wrote");
  }

  private String at() {
    return Duration.ofNanos(loop.nanoTime()).toMillis() + " ms";
  }

  /**
   * Acquires through {@code handle} in a task, keeps the lease's I2C view, and closes the lease.
   */
  private AtomicReference<I2C> viewKeptAfterLease(Handle<I2C> handle) {
    AtomicReference<I2C> kept = new AtomicReference<>();
    loop.addTask(() -> {
      try (Lease<I2C> lease = handle.acquire()) {
        kept.set(lease.resource());
      }
    });
    loop.run();
    return kept;
  }
}
