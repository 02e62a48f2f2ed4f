package example.sensor;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Reads a temperature sensor on a shared SPI bus every second. */
public final class SensorReader {
  private final List<Double> readings = new ArrayList<>();
  private final ScheduledTask schedule;

  public SensorReader(Loop loop, Context pi4j) {
    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));
    DigitalOutput cs = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("sensor-cs")
        .address(5).shutdown(DigitalState.HIGH));
    Handle<Spi> sensor = ManagedSpi.of(spi).csHandle(cs);
    schedule = loop.schedule("sensor", Duration.ofSeconds(1), () -> {
      try (Lease<Spi> lease = sensor.acquire()) {
        byte[] reply = new byte[2];
        lease.resource().read(reply);
        readings.add(((reply[0] & 0xff) << 8 | (reply[1] & 0xff)) / 100.0);
      }
    });
  }

  public List<Double> readings() {
    return readings;
  }

  public void stop() {
    schedule.cancel();
  }
}
