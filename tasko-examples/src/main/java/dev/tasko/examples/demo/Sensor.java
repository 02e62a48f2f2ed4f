package dev.tasko.examples.demo;

import com.pi4j.io.spi.Spi;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.Tasko;
import java.time.Duration;

/**
 * A temperature sensor on the shared SPI bus that takes a second to measure: start a conversion,
 * let the bus go while it converts, then read the result. Only the demo's tasks use it, one at a
 * time, so its fields need no locks.
 */
final class Sensor {
  private static final byte[] START_CONVERSION = {0x01};
  private static final byte[] READ_RESULT = {0x02, 0x00};
  static final Duration CONVERSION_TIME = Duration.ofSeconds(1);

  private final Loop loop;
  private final Handle<Spi> handle;
  private boolean busy;
  private int reads;
  private double lastCelsius = Double.NaN;
  private int busWaits;
  private long maxBusWaitNanos;

  Sensor(Loop loop, Handle<Spi> handle) {
    this.loop = loop;
    this.handle = handle;
  }

  /** Measures: takes {@link #CONVERSION_TIME}, during which other tasks run and use the bus. */
  double read() {
    busy = true;
    try {
      try (Lease<Spi> bus = acquire()) {
        bus.resource().write(START_CONVERSION);
      }
      Tasko.sleep(CONVERSION_TIME); // the bus is free meanwhile: the SD card may write
      byte[] reply = new byte[2];
      try (Lease<Spi> bus = acquire()) {
        bus.resource().transfer(READ_RESULT, reply);
      }
      reads++;
      lastCelsius = (short) (((reply[0] & 0xff) << 8) | (reply[1] & 0xff)) / 100.0;
      return lastCelsius;
    } finally {
      busy = false;
    }
  }

  /** Acquires the bus, counting the times it was taken and how long the sensor waited. */
  private Lease<Spi> acquire() {
    if (handle.resource().holder().isEmpty()) {
      return handle.acquire(); // free: taken at once, without yielding
    }
    long asked = loop.nanoTime();
    Lease<Spi> lease = handle.acquire();
    busWaits++;
    maxBusWaitNanos = Math.max(maxBusWaitNanos, loop.nanoTime() - asked);
    return lease;
  }

  /** Whether a read is in flight: the beach ball spins. */
  boolean busy() {
    return busy;
  }

  int reads() {
    return reads;
  }

  double lastCelsius() {
    return lastCelsius;
  }

  /** How many times the sensor found the bus taken and waited for it. */
  int busWaits() {
    return busWaits;
  }

  Duration maxBusWait() {
    return Duration.ofNanos(maxBusWaitNanos);
  }
}
