package example.thermostat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.tasko.test.TestLoop;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ThermostatTest {
  @RegisterExtension final TestLoop test = new TestLoop();

  @Test
  void warm_neverHeats() {
    Thermostat thermostat = new Thermostat(test.loop(), () -> 22.0, 21.0);

    test.runFor(Duration.ofHours(1));

    assertEquals(0, thermostat.heatingCycles());
    assertFalse(thermostat.heating());
    thermostat.stop();
    test.runUntilIdle();
  }
}
