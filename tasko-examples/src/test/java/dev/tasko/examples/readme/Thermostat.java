package dev.tasko.examples.readme;

import dev.tasko.Loop;
import dev.tasko.ScheduledTask;
import dev.tasko.Tasko;
import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Reads a thermometer every five seconds, and heats for two seconds whenever it is too cold: the
 * class the README's test ({@link ThermostatTest}) tests, as tasko-it's consumer projects have it.
 */
public final class Thermostat {
  private final DoubleSupplier thermometer;
  private final double target;
  private final ScheduledTask control;
  private boolean heating;
  private int heatingCycles;

  public Thermostat(Loop loop, DoubleSupplier thermometer, double target) {
    this.thermometer = thermometer;
    this.target = target;
    this.control = loop.schedule("thermostat", Duration.ofSeconds(5), this::check);
  }

  private void check() {
    if (!heating && thermometer.getAsDouble() < target) {
      heating = true;
      heatingCycles++;
      Tasko.sleep(Duration.ofSeconds(2)); // the loop runs everything else meanwhile
      heating = false;
    }
  }

  public boolean heating() {
    return heating;
  }

  public int heatingCycles() {
    return heatingCycles;
  }

  public void stop() {
    control.cancel();
  }
}
