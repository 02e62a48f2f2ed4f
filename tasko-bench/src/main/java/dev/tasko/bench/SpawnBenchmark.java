package dev.tasko.bench;

import dev.tasko.Loop;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of spawning a task and running it to its end: {@value #TASKS} no-op tasks added with
 * {@link Loop#addTask} from a task of the loop, then run; nanoseconds per task (the task object,
 * its virtual thread, its one turn, its exit).
 *
 * <p>Peer ({@code virtualThreadPeer}): starting and joining the same number of plain virtual
 * threads running a no-op — the floor under tasko, which starts one virtual thread per task.
 *
 * <p>Run: {@code mvn -q -B -pl tasko-bench -am package -DskipTests && java -jar
 * tasko-bench/target/benchmarks.jar SpawnBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SpawnBenchmark {
  static final int TASKS = 10_000;

  @Benchmark
  @OperationsPerInvocation(TASKS)
  public int taskoSpawn() {
    // No stall watchdog, as when BENCHMARKS.md was measured: it costs a clock read per switch.
    Loop loop = Loop.builder().noStallWarning().build();
    int[] ran = new int[1];
    loop.addTask(() -> {
      for (int i = 0; i < TASKS; i++) {
        loop.addTask(() -> ran[0]++);
      }
    });
    loop.run();
    return ran[0];
  }

  @Benchmark
  @OperationsPerInvocation(TASKS)
  public int virtualThreadPeer() throws InterruptedException {
    Thread[] threads = new Thread[TASKS];
    int[] ran = new int[1];
    for (int i = 0; i < TASKS; i++) {
      threads[i] = Thread.ofVirtual().start(() -> { });
    }
    for (Thread t : threads) {
      t.join();
    }
    ran[0] = TASKS;
    return ran[0];
  }
}
