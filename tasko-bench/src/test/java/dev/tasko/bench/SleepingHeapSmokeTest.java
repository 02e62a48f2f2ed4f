package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs the heap probe with a few thousand sleepers and checks that it finds what every sleeper
 * keeps: its frozen stack and its thread, and for tasko its {@code Task}. Never asserts how many
 * bytes (that depends on the JIT and the machine).
 */
class SleepingHeapSmokeTest {

  @Test
  void run_tasko_findsEachTasksStackThreadAndTask() throws Exception {
    Map<String, Double> perTask = run("tasko");

    assertThat(perTask).containsKeys("jdk.internal.vm.StackChunk", "java.lang.VirtualThread",
        "dev.tasko.Task");
    assertThat(perTask.get("dev.tasko.Task")).isPositive();
    assertThat(perTask.get("total")).isGreaterThan(perTask.get("jdk.internal.vm.StackChunk"));
  }

  @Test
  void run_vthreads_findsEachThreadsStackAndThreadButNoTask() throws Exception {
    Map<String, Double> perTask = run("vthreads");

    assertThat(perTask).containsKeys("jdk.internal.vm.StackChunk", "java.lang.VirtualThread")
        .doesNotContainKey("dev.tasko.Task");
  }

  private static Map<String, Double> run(String impl) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Map<String, Double> perTask = SleepingHeap.run(impl, 5_000, 0,
        new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String printed = bytes.toString(StandardCharsets.UTF_8);
    System.out.print(printed);
    assertThat(printed).contains(impl + ": 5,000 sleepers").contains("whole heap");
    return perTask;
  }
}
