package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
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

  /** Builds a loop and says so. */
  static final class BuildOnly {
    public static void main(String[] args) {
      Loop.builder().virtualTime().build();
      System.out.println("loop built");
    }
  }
}
