package dev.tasko.examples.demo;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;

/**
 * The examples {@code ./demo --example NAME} starts: each one's {@code main}, run in this JVM with
 * the arguments after its name, so that its exit status, its output and Ctrl-C are its own, as if
 * {@code java} had started it.
 */
final class Examples {
  /** The names {@code --example} takes: classes of {@code dev.tasko.examples} with a main. */
  static final List<String> NAMES =
      List.of("ToyApp", "RunLater", "SharedSpi", "AwaitButton", "greenhouse.Greenhouse");

  private Examples() {}

  /**
   * The {@code main} of the example named {@code name}.
   *
   * @throws IllegalArgumentException if there is no such example
   */
  static Method mainOf(String name) {
    if (!NAMES.contains(name)) {
      throw new IllegalArgumentException("no example '" + name + "'; examples: "
          + String.join(", ", NAMES));
    }
    try {
      Method main = Class.forName("dev.tasko.examples." + name).getMethod("main", String[].class);
      if (!Modifier.isStatic(main.getModifiers())) {
        throw new IllegalStateException(name + ".main is not static");
      }
      return main;
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      throw new IllegalStateException("example '" + name + "' has no main: " + e, e);
    }
  }

  /**
   * The {@code main} that {@code --example}'s arguments name: {@code args[0]} is
   * {@code --example}, {@code args[1]} the name.
   *
   * @throws IllegalArgumentException if the name is missing or names no example
   */
  static Method mainOf(String[] args) {
    if (args.length < 2) {
      throw new IllegalArgumentException("--example needs an example's name: "
          + String.join(", ", NAMES));
    }
    return mainOf(args[1]);
  }

  /**
   * Runs {@code main} with the arguments after {@code --example} and its name. Returns when it
   * returns; throws what it throws.
   */
  static void run(Method main, String[] args) throws Exception {
    try {
      main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof Exception x) {
        throw x;
      }
      if (e.getCause() instanceof Error x) {
        throw x;
      }
      throw e;
    }
  }
}
