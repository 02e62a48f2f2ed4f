package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.lang.reflect.Proxy;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every public method and constructor of every public type of the exported package, called with
 * null for each reference parameter in turn, the other arguments sensible: it must throw a {@link
 * NullPointerException} saying {@code "<parameter> == null"} at once, and the loop must stay
 * usable (a task added after it runs, and nothing fails later in its place), both when called
 * from outside the loop (the inbox's way in) and from one of its tasks. A parameter documented as
 * accepting null is listed in {@link #NULLABLE}; a new public type needs a receiver in {@link
 * #receiver}, and a new parameter type a value in {@link #valueOf}, or the sweep fails saying so.
 */
class PublicApiNullSweepTest {
  /**
   * Parameters documented to accept null, as {@code Type.method#parameter} (all overloads). Each
   * is still called with null, and must return normally and leave the loop usable.
   */
  private static final Set<String> NULLABLE = Set.of(
      // "context passed to onAcquire and onRelease; may be null"
      "ManagedResource.handle#context",
      // "false if it is null"
      "Task.isRunningBlockingWorkOn#thread");

  /**
   * Methods not swept, with the reason: {@code equals(Object)} takes null by contract, and an
   * enum's {@code valueOf(String)} is the JDK's own.
   */
  private static final Set<String> NOT_SWEPT = Set.of("equals", "valueOf");

  /** Types whose instances are made only in a task. */
  private static final Set<Class<?>> TASK_ONLY = Set.of(Suspension.class, TaskGroup.class);

  @TempDir Path dir;

  @Test
  void everyPublicMethod_nullArgument_refusedNamingTheParameterAndLoopStaysUsable()
      throws Exception {
    List<String> problems = new ArrayList<>();
    int calls = 0;
    for (Class<?> type : publicTypes()) {
      for (Executable e : sweptMembers(type)) {
        Parameter[] params = e.getParameters();
        for (int i = 0; i < params.length; i++) {
          if (params[i].getType().isPrimitive()) {
            continue;
          }
          for (boolean inTask : new boolean[] {false, true}) {
            if (!inTask && TASK_ONLY.contains(type)) {
              continue; // no instance to call it on outside a task
            }
            for (int variant = 0; variant < receiverVariants(type); variant++) {
              calls++;
              String problem = sweep(type, e, i, inTask, variant);
              if (problem != null) {
                problems.add(problem);
              }
            }
          }
        }
      }
    }
    assertThat(calls).as("calls made").isGreaterThan(100);
    assertThat(problems).isEmpty();
  }

  /** The public types of the exported package, nested ones included, by name. */
  private static List<Class<?>> publicTypes() throws IOException, URISyntaxException {
    Path classes = Path.of(Loop.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .resolve("dev/tasko");
    List<Class<?>> types = new ArrayList<>();
    try (Stream<Path> files = Files.list(classes)) {
      for (Path f : files.sorted().toList()) {
        String file = f.getFileName().toString();
        if (!file.endsWith(".class") || file.equals("package-info.class")) {
          continue;
        }
        Class<?> c;
        try {
          c = Class.forName("dev.tasko." + file.substring(0, file.length() - ".class".length()),
              /* initialize= */ false, Loop.class.getClassLoader());
        } catch (ClassNotFoundException e) {
          throw new AssertionError(e);
        }
        if (isPublicType(c)) {
          types.add(c);
        }
      }
    }
    assertThat(types).contains(Loop.class, Loop.Builder.class, Channel.class, Tasko.class);
    return types;
  }

  private static boolean isPublicType(Class<?> c) {
    for (Class<?> t = c; t != null; t = t.getEnclosingClass()) {
      if (!Modifier.isPublic(t.getModifiers()) || t.isAnonymousClass()) {
        return false;
      }
    }
    return true;
  }

  /** The public constructors and methods {@code type} declares that take a reference. */
  private static List<Executable> sweptMembers(Class<?> type) {
    List<Executable> members = new ArrayList<>();
    for (Constructor<?> c : type.getDeclaredConstructors()) {
      if (Modifier.isPublic(c.getModifiers()) && !c.isSynthetic()) {
        members.add(c);
      }
    }
    for (Method m : type.getDeclaredMethods()) {
      if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()
          && !NOT_SWEPT.contains(m.getName())) {
        members.add(m);
      }
    }
    members.removeIf(e -> Arrays.stream(e.getParameterTypes()).allMatch(Class::isPrimitive));
    members.sort(Comparator.comparing(Executable::toGenericString));
    return members;
  }

  /**
   * Calls {@code e} with null at {@code nullAt} on a fresh loop on virtual time, from outside it
   * or from one of its tasks; then runs a task on that loop.
   *
   * @return what is wrong, or null
   */
  private String sweep(Class<?> type, Executable e, int nullAt, boolean inTask, int variant)
      throws Exception {
    String param = e.getParameters()[nullAt].getName();
    String where = type.getSimpleName() + "." + (e instanceof Method ? e.getName() : "<init>")
        + "#" + param;
    String label = where.substring(0, where.indexOf('#')) + Arrays.stream(e.getParameterTypes())
        .map(Class::getSimpleName).collect(Collectors.joining(", ", "(", ")")) + " with "
        + param + " = null" + (variant > 0 ? " (receiver " + variant + ")" : "")
        + ", called from "
        + (inTask ? "a task" : "outside the loop");
    List<Throwable> laterFailures = new ArrayList<>();
    Loop loop = Loop.builder().virtualTime().name("sweep")
        .failureHandler((t, f) -> laterFailures.add(f)).build();
    List<Object> made = new ArrayList<>();
    Throwable[] thrown = new Throwable[1];
    Runnable call = () -> {
      try {
        Object receiver = Modifier.isStatic(e.getModifiers()) || e instanceof Constructor
            ? null : receiver(type, loop, variant);
        made.add(receiver);
        Object[] args = new Object[e.getParameterCount()];
        for (int i = 0; i < args.length; i++) {
          args[i] = i == nullAt ? null : valueOf(e.getParameterTypes()[i], loop, receiver);
          made.add(args[i]);
        }
        // What it returns is left to run (a task, a schedule), so that a failure it would meet
        // later shows; the stopper below cancels it in the end.
        if (e instanceof Method m) {
          m.invoke(receiver, args);
        } else {
          ((Constructor<?>) e).newInstance(args);
        }
      } catch (InvocationTargetException x) {
        thrown[0] = x.getCause();
      } catch (ReflectiveOperationException x) {
        throw new AssertionError(label, x);
      } finally {
        made.forEach(PublicApiNullSweepTest::tidy);
      }
    };
    if (inTask) {
      loop.addTask("caller", call::run);
    } else {
      call.run();
    }
    Task<String> probe = loop.addTask("probe", () -> "ran");
    try {
      runFor(loop, Duration.ofSeconds(1));
    } catch (RuntimeException | Error x) {
      return label + ": the loop failed afterwards: " + x;
    }
    if (probe.state() != Task.State.SUCCEEDED) {
      return label + ": a task added after it did not run (" + probe.state() + ")";
    }
    if (!laterFailures.isEmpty()) {
      return label + ": a task failed later: " + laterFailures;
    }
    if (NULLABLE.contains(where)) {
      return thrown[0] == null ? null : label + ": documented nullable, but threw " + thrown[0];
    }
    String expected = param + " == null";
    if (!(thrown[0] instanceof NullPointerException) || !expected.equals(thrown[0].getMessage())) {
      return label + ": expected NullPointerException(\"" + expected + "\"), got " + thrown[0];
    }
    return null;
  }

  /** Runs {@code loop} on for {@code d} of virtual time, leaving nothing running after. */
  private static void runFor(Loop loop, Duration d) {
    loop.addTask("stopper", () -> {
      Tasko.sleep(d);
      for (Task<?> t : loop.tasks()) {
        if (t != Tasko.currentTask()) {
          t.cancel();
        }
      }
    });
    loop.run();
  }

  /** How many different instances of {@code type} to call each method on. */
  private static int receiverVariants(Class<?> type) {
    return type == FailureHandler.class ? 2 : 1;
  }

  /** An instance of {@code type} to call a method on; on {@code loop}'s task if it needs one. */
  private static Object receiver(Class<?> type, Loop loop, int variant) {
    if (type == Loop.class) {
      return loop;
    } else if (type == Loop.Builder.class) {
      return Loop.builder();
    } else if (type == Channel.class) {
      return Channel.create(4);
    } else if (type == Event.class) {
      return Event.create();
    } else if (type == ManagedResource.class) {
      return ManagedResource.of("resource", "r", c -> {}, c -> {});
    } else if (type == ManualTicker.class) {
      return new ManualTicker();
    } else if (type == ScheduledTask.class) {
      return loop.schedule(Duration.ofSeconds(10), () -> {});
    } else if (type == Suspension.class) {
      return Tasko.suspend();
    } else if (type == Task.class) {
      return loop.addTask(() -> {});
    } else if (type == TaskGroup.class) {
      return TaskGroup.open();
    } else if (type == Timeline.class) {
      return Timeline.ofLast(8);
    } else if (type == FailureHandler.class) {
      return variant == 0 ? FailureHandler.logAndContinue() : FailureHandler.stopLoop();
    }
    throw new AssertionError("no receiver for " + type + ": add one to the sweep");
  }

  /** A sensible non-null argument of {@code type}. */
  @SuppressWarnings("unchecked")
  private Object valueOf(Class<?> type, Loop loop, Object receiver) {
    if (type == int.class) {
      return 1;
    } else if (type == long.class) {
      return 1L;
    } else if (type == double.class) {
      return 1.0;
    } else if (type == boolean.class) {
      return false;
    } else if (type == String.class) {
      return "name";
    } else if (type == Duration.class) {
      return Duration.ofMillis(1);
    } else if (type == Rate.class) {
      return Rate.hz(10);
    } else if (type == TaskBody.class) {
      return (TaskBody) () -> {};
    } else if (type == Callable.class) {
      return (Callable<String>) () -> "value";
    } else if (type == Consumer.class) {
      return (Consumer<Object>) c -> {};
    } else if (type == BiFunction.class) {
      return (BiFunction<Object, Object, Object>) (c, lease) -> "view";
    } else if (type == Executor.class) {
      return (Executor) Runnable::run;
    } else if (type == Object.class) {
      return "value"; // a type variable: an element, a resource, a context
    } else if (type == AutoCloseable.class) {
      return (AutoCloseable) () -> {};
    } else if (type == Loop.class) {
      return loop;
    } else if (type == Timeline.class) {
      return Timeline.ofLast(8);
    } else if (type == Ticker.class) {
      return new ManualTicker();
    } else if (type == IdleStrategy.class) {
      return IdleStrategy.precise();
    } else if (type == FailureHandler.class) {
      return FailureHandler.logAndContinue();
    } else if (type == Handle.class) {
      return receiver instanceof ManagedResource<?, ?> r
          ? ((ManagedResource<?, Object>) r).handle("context")
          : ManagedResource.of("other").handle("context");
    } else if (type == Task.class) {
      return loop.addTask(() -> {});
    } else if (type == Task.State.class) {
      return Task.State.READY;
    } else if (type == Throwable.class) {
      return new RuntimeException("failure");
    } else if (type == Thread.class) {
      return Thread.currentThread();
    } else if (type == Path.class) {
      return dir.resolve("timeline.json");
    } else if (type == Writer.class) {
      return new StringWriter();
    } else if (type == Instant.class) {
      return Instant.EPOCH;
    } else if (type == Optional.class) {
      return Optional.empty();
    } else if (type == List.class) {
      return List.of();
    } else if (type == Loop.Stats.class) {
      return new Loop.Stats(0, 0, Duration.ZERO);
    } else if (type == ScheduledTask.Stats.class) {
      return new ScheduledTask.Stats(0, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO);
    } else if (type.isInterface()) {
      // Any other single-method interface: one that does nothing.
      return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
          (proxy, method, args) -> method.getReturnType() == boolean.class ? false : null);
    }
    throw new AssertionError("no value for " + type + ": add one to the sweep");
  }

  /** Ends a receiver or argument that would outlive the call: a schedule, a group, ... */
  private static void tidy(Object o) {
    if (o instanceof ScheduledTask s) {
      s.cancel();
    } else if (o instanceof TaskGroup g) {
      g.cancel();
      g.close();
    } else if (o instanceof Suspension s) {
      s.resume();
    } else if (o instanceof Task<?> t) {
      t.cancel();
    }
  }
}
