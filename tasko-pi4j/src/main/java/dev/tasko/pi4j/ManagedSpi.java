package dev.tasko.pi4j;

import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.spi.Spi;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.ManagedResource;
import java.util.Objects;

/**
 * One Pi4J {@link Spi} bus shared by several devices, each selected by its own chip-select
 * {@link DigitalOutput}: tasko's {@code ManagedSpi}, built on {@link ManagedResource}.
 *
 * <pre>{@code
 * ManagedSpi bus = ManagedSpi.of(spi);
 * Handle<Spi> sensor = bus.csHandle(sensorCs);   // sensorCs is driven high (inactive) here
 * Handle<Spi> sdCard = bus.csHandle(sdCardCs);
 *
 * try (Lease<Spi> lease = sensor.acquire()) {    // waits while the SD card has the bus
 *   lease.resource().transfer(command, reply);   // sensorCs is low in here, other CSs high
 * }                                              // sensorCs high again; the next one gets the bus
 * }</pre>
 *
 * <h2>Chip select</h2>
 * Chip selects are active low. {@link #csHandle(DigitalOutput)} drives its pin high (inactive) at
 * once, so a device never sees a half-selected bus before its first use. A task's
 * {@link Handle#acquire()} drives the pin low once the bus is its own, before {@code acquire()}
 * returns; {@link Lease#close()} drives it high again before the bus passes to the next waiter.
 * Since the bus has one holder at a time, at most one chip select is low at any moment.
 *
 * <h2>Fairness and failures</h2>
 * As for every {@link ManagedResource}: first come, first served across all devices, a free bus is
 * taken without yielding, and a waiting task costs nothing. If driving a pin throws (Pi4J's
 * exceptions are unchecked), {@code acquire()} or {@code close()} rethrows it and the bus still
 * passes on.
 *
 * <h2>Hardware chip selects</h2>
 * Pi4J's SPI also toggles the kernel's own chip-select line for the {@code Spi}'s channel (CE0 or
 * CE1) around every transfer. Wire devices selected through GPIO pins to those pins only, and
 * leave the channel's CE line unconnected (or give it to a device that is never used through this
 * bus).
 *
 * <p>Like its resource, a managed bus belongs to the loop of the first task that uses it.
 */
public final class ManagedSpi {
  private final ManagedResource<Spi, DigitalOutput> resource;

  private ManagedSpi(String name, Spi spi) {
    // Method references, not lambdas: high() and low() return the pin, which the callbacks drop.
    this.resource = ManagedResource.of(name, spi, DigitalOutput::low, DigitalOutput::high);
  }

  /**
   * Shares {@code spi}, named after its Pi4J id ({@code "spi 'SPI-0-0'"}).
   *
   * @throws NullPointerException if {@code spi} is null
   */
  public static ManagedSpi of(Spi spi) {
    Objects.requireNonNull(spi, "spi == null");
    return new ManagedSpi("spi '" + spi.id() + "'", spi);
  }

  /**
   * Shares {@code spi} under {@code name}, which shows in deadlock reports and errors.
   *
   * @throws NullPointerException if an argument is null
   */
  public static ManagedSpi of(String name, Spi spi) {
    Objects.requireNonNull(name, "name == null");
    Objects.requireNonNull(spi, "spi == null");
    return new ManagedSpi(name, spi);
  }

  /**
   * Returns a handle for the device selected by {@code chipSelect}, and drives that pin high
   * (inactive) now. Reports and errors name the handle by its pin: {@code "cs sensor (GPIO 5) on
   * spi 'SPI-0-0'"}. Make each device's handle once and keep it; two handles on one pin would
   * deselect each other. May be called from any thread, but not while a task holds the bus through
   * a handle on the same pin.
   *
   * @throws NullPointerException if {@code chipSelect} is null
   * @throws RuntimeException whatever Pi4J throws while driving the pin
   */
  public Handle<Spi> csHandle(DigitalOutput chipSelect) {
    Objects.requireNonNull(chipSelect, "chipSelect == null");
    chipSelect.high();
    return resource.handle(csName(chipSelect), chipSelect);
  }

  /** A device's name in reports and errors, its chip-select pin: {@code "cs sensor (GPIO 5)"}. */
  private static String csName(DigitalOutput pin) {
    Object gpio = pin.address();
    return "cs " + pin.id() + (gpio == null ? "" : " (GPIO " + gpio + ")");
  }

  /**
   * The resource underneath: for {@link ManagedResource#holder()} and
   * {@link ManagedResource#waiting()}, whose handles'
   * {@linkplain ManagedResource#contextOf context} is the chip-select pin.
   */
  public ManagedResource<Spi, DigitalOutput> resource() {
    return resource;
  }

  /** The bus's name. */
  public String name() {
    return resource.name();
  }

  @Override
  public String toString() {
    return "ManagedSpi[" + resource.name() + "]";
  }
}
