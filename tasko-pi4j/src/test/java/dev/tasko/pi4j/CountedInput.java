package dev.tasko.pi4j;

import com.pi4j.io.gpio.digital.DigitalInput;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/** A Pi4J input that knows which listeners are registered on it right now. */
final class CountedInput {
  final DigitalInput input;
  private final Set<Object> listeners =
      Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));

  CountedInput(DigitalInput real) {
    this.input = (DigitalInput) Proxy.newProxyInstance(DigitalInput.class.getClassLoader(),
        new Class<?>[] {DigitalInput.class}, (proxy, method, args) -> {
          if (method.getName().equals("addListener")) {
            Collections.addAll(listeners, (Object[]) args[0]);
          } else if (method.getName().equals("removeListener")) {
            for (Object l : (Object[]) args[0]) {
              listeners.remove(l);
            }
          }
          Object result;
          try {
            result = method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          return result == real ? proxy : result;
        });
  }

  int listeners() {
    return listeners.size();
  }

  /** The listeners registered on it right now. */
  List<Object> registered() {
    synchronized (listeners) {
      return List.copyOf(listeners);
    }
  }
}
