package dev.tasko.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tasko.Task;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The test kit's part of tasko-core's null sweep: each public method and constructor of {@link
 * TestLoop}, called with null for each reference parameter, throws a {@link NullPointerException}
 * saying {@code "<parameter> == null"}, and the test loop still runs a task after.
 */
class TestLoopNullSweepTest {
  /**
   * Not swept: JUnit's callback, which JUnit alone calls, never with null, and {@code equals}.
   * {@link TaskoExtension} is all JUnit callbacks.
   */
  private static final Set<String> NOT_SWEPT = Set.of("afterEach", "equals");

  @Test
  void everyPublicMethod_nullArgument_refusedNamingTheParameterAndLoopStaysUsable()
      throws Exception {
    List<Executable> members = new ArrayList<>(List.of(TestLoop.class.getConstructors()));
    for (Method m : TestLoop.class.getDeclaredMethods()) {
      if (Modifier.isPublic(m.getModifiers()) && !NOT_SWEPT.contains(m.getName())) {
        members.add(m);
      }
    }
    List<String> problems = new ArrayList<>();
    int calls = 0;
    for (Executable e : members) {
      Class<?>[] types = e.getParameterTypes();
      for (int nullAt = 0; nullAt < types.length; nullAt++) {
        calls++;
        TestLoop test = new TestLoop();
        Object[] args = new Object[types.length];
        for (int i = 0; i < args.length; i++) {
          args[i] = i == nullAt ? null : valueOf(types[i]);
        }
        Throwable thrown = null;
        try {
          if (e instanceof Method m) {
            m.invoke(test, args);
          } else {
            ((Constructor<?>) e).newInstance(args);
          }
        } catch (InvocationTargetException x) {
          thrown = x.getCause();
        }
        String param = e.getParameters()[nullAt].getName();
        String label = e.getName() + " with " + param + " = null";
        if (!(thrown instanceof NullPointerException)
            || !(param + " == null").equals(thrown.getMessage())) {
          problems.add(label + ": expected NullPointerException(\"" + param + " == null\"), got "
              + thrown);
        }
        Task<String> probe = test.loop().addTask(() -> "ran");
        test.runFor(Duration.ofMillis(1));
        if (probe.state() != Task.State.SUCCEEDED) {
          problems.add(label + ": a task added after it did not run (" + probe.state() + ")");
        }
        test.verify();
      }
    }
    assertThat(calls).as("calls made").isGreaterThanOrEqualTo(3);
    assertThat(problems).isEmpty();
  }

  private static Object valueOf(Class<?> type) {
    if (type == String.class) {
      return "name";
    } else if (type == Duration.class) {
      return Duration.ofMillis(1);
    }
    throw new AssertionError("no value for " + type + ": add one to the sweep");
  }
}
