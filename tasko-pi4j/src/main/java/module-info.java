/**
 * Pi4J hardware for tasko: {@link dev.tasko.pi4j.ManagedSpi} shares one SPI bus among devices with
 * their own chip-select pins, {@link dev.tasko.pi4j.ManagedI2c} shares one I2C bus among devices for
 * multi-step transactions, and {@link dev.tasko.pi4j.EdgeWatcher} lets a task wait for a GPIO input
 * to change.
 *
 * <p>Both required modules are transitive: this module's API hands out tasko {@code Handle}s of
 * Pi4J {@code Spi} and {@code I2C} objects.
 */
module dev.tasko.pi4j {
  requires transitive dev.tasko;
  requires transitive com.pi4j;

  exports dev.tasko.pi4j;
}
