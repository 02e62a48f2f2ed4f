package dev.tasko.pi4j;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.plugin.mock.platform.MockPlatform;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInputProvider;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalOutputProvider;
import com.pi4j.plugin.mock.provider.i2c.MockI2CProvider;
import com.pi4j.plugin.mock.provider.spi.MockSpiProvider;
import dev.tasko.testsupport.EventLog;

/**
 * Pi4J's mock platform, for tests: no hardware, and listeners run on the thread that changes a pin.
 */
final class MockPi {
  private MockPi() {}

  /** A context with only the mock providers (auto-detection stays off). Shut it down after use. */
  static Context context() {
    return Pi4J.newContextBuilder()
        .add(new MockPlatform())
        .add(MockDigitalInputProvider.newInstance(), MockDigitalOutputProvider.newInstance(),
            MockSpiProvider.newInstance(), MockI2CProvider.newInstance())
        .build();
  }

  /** An output whose every level change is logged as {@code "<id>=HIGH"}. Starts UNKNOWN. */
  static DigitalOutput loggedOutput(Context pi4j, String id, int bcm, EventLog log) {
    DigitalOutput out = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id(id).address(bcm)
        .shutdown(DigitalState.HIGH));
    out.addListener(e -> log.add(id + "=" + e.state()));
    return out;
  }

  /** A mock input, starting LOW; {@link MockDigitalInput#mockState} plays the outside world. */
  static MockDigitalInput input(Context pi4j, String id, int bcm) {
    return (MockDigitalInput) pi4j.create(DigitalInput.newConfigBuilder(pi4j).id(id).address(bcm));
  }
}
