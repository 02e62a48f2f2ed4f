package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A JRE without the {@code jdk.jfr} module (a jlink image made without it): the loop runs every
 * path that would record an event, and no class of {@code jdk.jfr} is loaded. And a JDK with the
 * module where no recording is ever started: no event class is loaded. Each runs in a JVM of its
 * own.
 */
class FlightWithoutJfrTest {

  @Test
  void loop_withoutJdkJfrModule_runsAndLoadsNoJfrClass() throws Exception {
    String out = run("--limit-modules", "java.base");
    assertThat(out).contains("jfr present: false", "ran: hold limit, skip, failure, deadlock",
        "[class,load] dev.tasko.Flight "); // -verbose:class lists what was loaded
    assertThat(out.lines().filter(l -> l.contains("jdk.jfr") || l.contains("FlightEvents")))
        .isEmpty();
  }

  @Test
  void loop_withJdkJfrButNoRecording_loadsNoEventClass() throws Exception {
    String out = run(); // every module of the JDK, jdk.jfr included; no recording started

    assertThat(out).contains("jfr present: true", "ran: hold limit, skip, failure, deadlock");
    assertThat(out.lines().filter(l -> l.contains("[class,load] jdk.jfr.Event ")
        || l.matches(".*FlightEvents\\$\\w+Event .*"))).isEmpty();
  }

  private static String run(String... jvmOptions) throws Exception {
    List<String> options = new ArrayList<>(List.of(jvmOptions));
    options.add("-verbose:class");
    return ChildJvm.run(options, Main.class);
  }

  /** The program of the JVM without jdk.jfr. */
  static final class Main {
    public static void main(String[] args) throws IOException {
      System.out.println("jfr present: " + Flight.PRESENT);
      Loop loop = Loop.builder().virtualTime().noStallWarning()
          .failureHandler((task, failure) -> {}).build();
      ManagedResource<String, Object> bus =
          ManagedResource.of("spi").withHoldLimit(Duration.ofMillis(10));
      Handle<String> a = bus.handle("a", null);
      Handle<String> b = bus.handle("b", null);
      loop.addTask(() -> {
        try (Lease<String> l = a.acquire()) {
          Tasko.sleep(Duration.ofMillis(50));
        }
      });
      loop.addTask(() -> b.acquire().close());
      ScheduledTask s =
          loop.schedule(Duration.ofMillis(10), () -> Tasko.sleep(Duration.ofMillis(35)));
      loop.runLater(Duration.ofMillis(100), s::cancel);
      loop.addTask(() -> {
        throw new IllegalStateException("boom");
      });
      loop.run();
      Loop stuck = Loop.builder().virtualTime().build();
      Task<?>[] pair = new Task<?>[2];
      pair[0] = stuck.addTask(() -> pair[1].join());
      pair[1] = stuck.addTask(() -> pair[0].join());
      try {
        stuck.run();
      } catch (DeadlockException expected) {
        System.out.println("ran: hold limit, skip, failure, deadlock");
      }
    }
  }
}
