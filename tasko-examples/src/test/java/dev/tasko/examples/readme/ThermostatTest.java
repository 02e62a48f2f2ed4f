package dev.tasko.examples.readme;

// The README's test, "Testing your program", verbatim (ReadmeTest checks it).

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tasko.test.TaskoExtension;
import dev.tasko.test.TestLoop;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TaskoExtension.class)  // or a field: @RegisterExtension TestLoop test = new TestLoop();
class ThermostatTest {
  @Test
  void cold_heatsAtEveryCheck(TestLoop test) {
    Thermostat thermostat = new Thermostat(test.loop(), () -> 18.0, 21.0);
    test.runFor(Duration.ofMinutes(1));  // a minute of schedules, in milliseconds
    assertEquals(13, thermostat.heatingCycles());
    thermostat.stop();                   // test.cancelAll() ends a program that runs forever
    test.runUntilIdle();
  }
}
