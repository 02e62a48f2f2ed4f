package example.thermostat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tasko.test.TaskoExtension;
import dev.tasko.test.TestLoop;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TaskoExtension.class)
class ThermostatTest {

  @Test
  void cold_heatsTwoSecondsAtEveryCheck(TestLoop test) {
    Thermostat thermostat = new Thermostat(test.loop(), () -> 18.0, 21.0);

    test.runUntilIdle();
    assertTrue(thermostat.heating());
    test.runFor(Duration.ofSeconds(2));
    assertFalse(thermostat.heating());
    test.runFor(Duration.ofMinutes(1)); // an hour would take no longer: the time is virtual

    assertEquals(13, thermostat.heatingCycles()); // at 0, 5, 10, ... 60 s
    thermostat.stop();
    test.runUntilIdle();
    assertFalse(thermostat.heating());
  }
}
