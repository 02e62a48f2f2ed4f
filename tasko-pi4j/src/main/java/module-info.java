/**
 * Pi4J hardware for tasko: {@link dev.tasko.pi4j.ManagedSpi} shares one SPI bus among devices with
 * their own chip-select pins, {@link dev.tasko.pi4j.ManagedI2c} shares one I2C bus among devices for
 * multi-step transactions, and {@link dev.tasko.pi4j.EdgeWatcher} lets a task wait for a GPIO input
 * to change.
 *
 * <h2>What a lease hands out</h2>
 * A {@code Lease} of a shared bus never hands out the Pi4J object itself. Its {@code resource()}
 * is an object of that lease's own:
 * <ul>
 *   <li>of {@code ManagedSpi}: an {@code Spi} that transfers on the bus while the lease's chip
 *       select is low (and no other is);
 *   <li>of {@code ManagedI2c}: an {@code I2C} bound to the device whose handle was acquired, and
 *       the {@code I2CRegister}s reached through it ({@code register(r)}, {@code getRegister(r)});
 *       a fluent setter ({@code name}, {@code description}) returns the same guarded object.
 * </ul>
 * Each of these refuses, with {@link java.lang.IllegalStateException} and without touching the
 * bus, any call made after its lease is closed (also by the same task, also while it holds the bus
 * for another device), from a task other than the one that acquired it, or from a thread outside
 * the loop other than the {@code Tasko.blocking} work the acquiring task runs meanwhile (which it
 * serves: a clock-stretching read off the loop, say). Each refuses {@code close()},
 * {@code open()}, {@code initialize(..)} and {@code shutdown(..)} with
 * {@link java.lang.UnsupportedOperationException}: the Pi4J context owns the device, and closing it
 * would break every later lease. {@code toString}, {@code equals} and
 * {@code hashCode} answer anywhere. {@code ManagedI2c.handle(I2C)} and {@code ManagedSpi.of(Spi)}
 * refuse such an object (it is no device, nor a bus).
 *
 * <h2>Ending</h2>
 * {@code Loop.shutdown()} of the loop using these objects cancels its tasks (their leases close, so
 * every chip select goes high, and a pin that failed to go high is driven high once more), and
 * closes the {@code EdgeWatcher}s tied to it; a watcher is also closed when its Pi4J context shuts
 * down.
 *
 * <p>Both required modules are transitive: this module's API hands out tasko {@code Handle}s of
 * Pi4J {@code Spi} and {@code I2C} objects.
 */
module dev.tasko.pi4j {
  requires transitive dev.tasko;
  requires transitive com.pi4j;

  exports dev.tasko.pi4j;
}
