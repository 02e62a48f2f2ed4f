package dev.tasko.pi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pi4j.context.Context;
import com.pi4j.io.i2c.I2C;
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
        .hasMessage("I2C.write() on i2c-1 by task 'intruder', which does not hold it (task"
            + " 'holder' holds it"
            + " for device 'i2c-1-0x44'): use the I2C of a lease only inside that lease");
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
        .hasMessageContaining("by task 'sensor', which does not hold it (the bus is free)");
  }

  @Test
  void resource_usedFromThreadOutsideLoop_throws() {
    Handle<I2C> sensor = bus.handle(0x44);
    AtomicReference<I2C> kept = viewKeptAfterLease(sensor);

    assertThatThrownBy(() -> kept.get().device()).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("I2C.device() on i2c-1 by thread ");
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
  void handle_addressOutside7Bits_throwsWithAddress() {
    assertThatThrownBy(() -> bus.handle(0x80)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address outside 0x00..0x7f: 0x80");
    assertThatThrownBy(() -> bus.handle(-1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address outside 0x00..0x7f: 0xffffffff");
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

    assertThat(kept.get().toString()).isEqualTo("bus view of ManagedI2c[i2c-1, bus 1]");
    assertThat(kept.get()).isEqualTo(kept.get()).hasSameHashCodeAs(kept.get());
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
