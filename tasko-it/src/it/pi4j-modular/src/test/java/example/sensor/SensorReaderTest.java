package example.sensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.pi4j.context.Context;
import dev.tasko.pi4j.test.MockBoard;
import dev.tasko.test.TestLoop;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SensorReaderTest {
  @RegisterExtension final TestLoop test = new TestLoop();
  private final Context pi4j = MockBoard.context();

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  @Test
  void threeSeconds_threeReadingsFromTheMockThermometer() {
    SensorReader reader = new SensorReader(test.loop(), pi4j);
    MockBoard.answerOnSelect(pi4j, "spi", "sensor-cs", MockBoard.thermometer());

    test.runFor(Duration.ofMillis(2500));

    assertEquals(List.of(21.50, 21.53, 21.56), reader.readings());
    reader.stop();
    test.runUntilIdle();
  }
}
