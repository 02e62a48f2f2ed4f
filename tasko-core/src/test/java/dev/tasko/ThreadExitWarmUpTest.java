package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/** The first loop of a JVM ends one virtual thread before it returns (in a JVM of its own). */
class ThreadExitWarmUpTest {

  @Test
  void ensure_onFirstLoop_loadsTheThreadEndCodeBeforeAnyTaskStarts() throws Exception {
    String out = ChildJvm.run(List.of("-verbose:class"), BuildOnly.class);

    List<String> lines = out.lines().toList();
    int built = lines.indexOf("loop built");
    assertThat(built).as(out).isNotNegative();
    // The JDK loads this class only when a virtual thread ends: here, the warm-up's thread,
    // before build() returns. Compiled with the class loaded, the end of a thread has no trap.
    assertThat(lines.subList(0, built))
        .as(out)
        .anyMatch(l -> l.contains("[class,load] jdk.internal.event.VirtualThreadEndEvent "));
  }

  @Test
  void ensure_firstLoopBuiltInClassInitializerOnVirtualThread_doesNotParkPinned() throws Exception {
    // A virtual thread running a class initializer is pinned to its carrier; with one carrier,
    // waiting there for the warm-up's thread (which needs that carrier) could only end when the
    // wait gave up. The recording lists every park of a pinned virtual thread.
    String out = ChildJvm.run(List.of("-Djdk.virtualThreadScheduler.parallelism=1"),
        BuildInClassInitializer.class);

    assertThat(out).as(out).contains("loop built in a class initializer", "pinned parks: 0");
  }

  /** Builds a loop and says so. */
  static final class BuildOnly {
    public static void main(String[] args) {
      Loop.builder().virtualTime().build();
      System.out.println("loop built");
    }
  }

  /**
   * Builds the JVM's first loop in a class initializer run by a virtual thread, under a recording
   * of pinned parks, and prints how many there were.
   */
  static final class BuildInClassInitializer {
    public static void main(String[] args) throws Exception {
      Path file = Files.createTempFile("pinned", ".jfr");
      try (Recording recording = new Recording()) {
        recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO);
        recording.start();
        Thread.ofVirtual().start(() -> System.out.println(Holder.LOOP != null
            ? "loop built in a class initializer" : "no loop")).join();
        recording.stop();
        recording.dump(file);
        long pinned = RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().equals("jdk.VirtualThreadPinned"))
            .count();
        System.out.println("pinned parks: " + pinned);
      } finally {
        Files.deleteIfExists(file);
      }
    }

    /** Its initializer builds the loop. */
    static final class Holder {
      static final Loop LOOP = Loop.builder().virtualTime().build();
    }
  }
}
