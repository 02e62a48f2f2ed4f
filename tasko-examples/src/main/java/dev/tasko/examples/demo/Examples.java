package dev.tasko.examples.demo;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The examples {@code ./demo --example NAME} starts: each one's {@code main}, run in this JVM with
 * the arguments after its name, so that its exit status, its output and Ctrl-C are its own, as if
 * {@code java} had started it.
 */
final class Examples {
  /** The names {@code --example} takes: classes of {@code dev.tasko.examples} with a main. */
  static final List<String> NAMES =
      List.of("ToyApp", "RunLater", "SharedSpi", "AwaitButton", "greenhouse.Greenhouse");
  /**
   * The arguments of the examples that take any, as their usage writes them; the others take
   * none. An argument an example does not read is refused rather than dropped: a
   * {@code --duration 5s} after {@code ToyApp} would otherwise leave it running until Ctrl-C.
   */
  private static final Map<String, List<String>> ARGUMENTS =
      Map.of("greenhouse.Greenhouse", List.of("[seconds to run]", "[log file]"));

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
   * @throws IllegalArgumentException if the name is missing or names no example, or if more
   *     arguments follow it than the example takes
   */
  static Method mainOf(String[] args) {
    if (args.length < 2) {
      throw new IllegalArgumentException("--example needs an example's name: "
          + String.join(", ", NAMES));
    }
    String name = args[1];
    Method main = mainOf(name);
    List<String> takes = ARGUMENTS.getOrDefault(name, List.of());
    if (args.length - 2 > takes.size()) {
      String given = String.join(" ", Arrays.copyOfRange(args, 2, args.length));
      throw new IllegalArgumentException(name + (takes.isEmpty() ? " takes no arguments"
          : " takes at most " + takes.size() + " arguments (" + String.join(" ", takes) + ")")
          + ", got: '" + given + "'");
    }
    return main;
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
