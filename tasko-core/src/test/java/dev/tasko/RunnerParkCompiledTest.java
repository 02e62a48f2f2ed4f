package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/**
 * Tasks that went to sleep in compiled code wake without being deoptimized. The program runs in a
 * JVM of its own where compilation is synchronous ({@code -Xbatch}), so what the compiler had seen
 * when it compiled is the same on every run; a Flight Recorder recording of the JVM's
 * {@code jdk.Deoptimization} events counts the traps.
 */
class RunnerParkCompiledTest {

  @Test
  void park_compiledBeforeAnyTaskResumed_resumesWithoutDeoptimizing() throws Exception {
    // 20,000 tasks go to sleep in the first pass (virtual time: no timer fires before it ends).
    // park() is compiled after its first 1,000 calls, when no task has yet resumed from it, and
    // each sleeping task's stack keeps that compiled frame. The old code had a trap after the
    // park, on the branch no task had taken yet: every task fell into it on waking.
    String out = ChildJvm.run(compileFirst(1), Sleepers.class);

    assertThat(out).contains("20000 tasks ended");
    assertThat(count(out, "the test's own code")).as(out).isGreaterThan(10_000); // the control
    assertThat(count(out, "the library")).as(out).isLessThan(100); // the old code: one per task
  }

  @Test
  void park_loopingTasksCompiledBeforeAnyResumed_handOffWithoutDeoptimizing() throws Exception {
    // As above, but each task sleeps three times: after its first wake it goes back through the
    // hand-off (next(), handTo()) from the frame compiled in the first pass. Where that frame had
    // the hand-off inlined, with a profile that had never seen a wake, every task was
    // deoptimized there (18,596 traps in Runner.next() in the old code).
    String out = ChildJvm.run(compileFirst(3), Sleepers.class);

    assertThat(out).contains("60000 wakes");
    assertThat(count(out, "the test's own code")).as(out).isGreaterThan(10_000);
    assertThat(count(out, "the library")).as(out).isLessThan(100);
  }

  /**
   * Options for {@link Sleepers} with {@code sleeps} sleeps per task, in a JVM that compiles a
   * method at its 1,000th call, before that call goes on.
   */
  private static List<String> compileFirst(int sleeps) {
    return List.of("-Xbatch", "-XX:-TieredCompilation", "-XX:CompileThreshold=1000",
        "-Dsleeps=" + sleeps);
  }

  /** What {@link #countTraps} printed for {@code where}. */
  private static long count(String out, String where) {
    String prefix = "deoptimized in " + where + ": ";
    return out.lines()
        .filter(l -> l.startsWith(prefix))
        .mapToLong(l -> Long.parseLong(l.substring(prefix.length())))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no count for " + where + " in:\n" + out));
  }

  /**
   * Runs {@code program} under a recording of the JVM's deoptimizations, then prints how many were
   * in the library's code and how many in this test's own. Each task's body below ends a loop
   * that only a woken task leaves, so its own code traps once per task: that count shows that
   * the compiler did compile before the tasks woke, and that the recording counts the traps.
   */
  static void countTraps(Runnable program) throws IOException {
    Path file = Files.createTempFile("deoptimizations", ".jfr");
    try (Recording recording = new Recording()) {
      recording.enable("jdk.Deoptimization");
      recording.start();
      program.run();
      recording.stop();
      recording.dump(file);
      long library = 0;
      long own = 0;
      for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
        if (!e.getEventType().getName().equals("jdk.Deoptimization")) {
          continue; // the recording also holds events about itself
        }
        RecordedMethod m = e.getValue("method");
        String type = m == null ? "" : m.getType().getName();
        if (type.startsWith(RunnerParkCompiledTest.class.getName())) {
          own++;
        } else if (type.startsWith("dev.tasko.")) {
          library++;
          System.out.println("library trap: " + type + "." + m.getName());
        }
      }
      System.out.println("deoptimized in the library: " + library);
      System.out.println("deoptimized in the test's own code: " + own);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /**
   * 20,000 tasks that each sleep {@code -Dsleeps} times, in a loop left only after a wake; prints
   * how many tasks ended and how many wakes there were.
   */
  static final class Sleepers {
    public static void main(String[] args) throws IOException {
      countTraps(Sleepers::run);
    }

    private static void run() {
      int sleeps = Integer.getInteger("sleeps");
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      int[] ended = new int[1];
      int[] wakes = new int[1];
      for (int i = 0; i < 20_000; i++) {
        long offset = i % 1000;
        loop.addTask(() -> {
          for (int k = 1; k <= sleeps; k++) {
            Tasko.sleep(Duration.ofNanos(1_000 * k + offset));
            wakes[0]++;
          }
          ended[0]++;
        });
      }
      loop.run();
      System.out.println(ended[0] + " tasks ended, " + wakes[0] + " wakes");
    }
  }
}
