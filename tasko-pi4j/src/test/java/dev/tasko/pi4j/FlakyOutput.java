package dev.tasko.pi4j;

import com.pi4j.io.gpio.digital.DigitalOutput;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;

/**
 * A Pi4J output whose {@code high()} or {@code low()} can be made to throw, as a pin on a failing
 * GPIO expander would: either before the level changes (the pin keeps its level) or after.
 */
final class FlakyOutput {
  /**
   * How the next driven level fails; NONE drives it normally. ERROR_BEFORE_CHANGE throws an
   * {@link Error} (a {@link LinkageError}, as a native GPIO library that fails to load would)
   * instead of an exception.
   */
  enum Failure { NONE, BEFORE_CHANGE, AFTER_CHANGE, ERROR_BEFORE_CHANGE }

  final DigitalOutput pin;
  private final DigitalOutput real;
  volatile Failure failHigh = Failure.NONE;
  volatile Failure failLow = Failure.NONE;

  FlakyOutput(DigitalOutput real) {
    this.real = real;
    this.pin = (DigitalOutput) Proxy.newProxyInstance(DigitalOutput.class.getClassLoader(),
        new Class<?>[] {DigitalOutput.class}, (proxy, method, args) -> {
          Failure f = switch (method.getName()) {
            case "high" -> failHigh;
            case "low" -> failLow;
            default -> Failure.NONE;
          };
          if (f == Failure.ERROR_BEFORE_CHANGE) {
            throw new LinkageError(method.getName() + "() of '" + real.id() + "' broke");
          }
          if (f == Failure.BEFORE_CHANGE) {
            throw new IllegalStateException(method.getName() + "() of '" + real.id() + "' failed");
          }
          Object result;
          if (method.getName().equals("address") && method.getParameterCount() == 0) {
            return real.address(); // declared in a package Pi4J does not export: no reflection
          }
          try {
            result = method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (f == Failure.AFTER_CHANGE) {
            throw new IllegalStateException(method.getName() + "() of '" + real.id() + "'"
                + " failed late");
          }
          return result == real ? proxy : result;
        });
  }

  /** The pin's real level, as a device would see it. */
  boolean isLow() {
    return real.isLow();
  }
}
