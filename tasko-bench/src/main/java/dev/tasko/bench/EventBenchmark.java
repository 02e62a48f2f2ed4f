package dev.tasko.bench;

import dev.tasko.Event;
import dev.tasko.Loop;
import java.util.concurrent.CountDownLatch;
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
 * {@link Event} set/await ping-pong between two tasks: each round, one task sets "ping" and awaits
 * "pong", the other awaits "ping", clears it and sets "pong" (and the first clears "pong"). One
 * operation is one round: two set-to-wake-up hand-offs; reported in nanoseconds.
 *
 * <p>Peer ({@code countDownLatchVirtualThreads}): the same ping-pong between two plain virtual
 * threads with the JDK's {@link CountDownLatch}, a fresh pair of latches per round (a latch cannot
 * be reset) — on a 2-core machine the threads also run in parallel, which tasko's tasks never do.
 *
 * <p>Run: {@code mvn -q -B -pl tasko-bench -am package -DskipTests && java -jar
 * tasko-bench/target/benchmarks.jar "ChannelBenchmark|EventBenchmark"}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class EventBenchmark {
  static final int ROUNDS = 16_000;

  @Benchmark
  @OperationsPerInvocation(ROUNDS)
  public long taskoEvent() {
    Loop loop = Loop.create();
    Event ping = Event.create("ping");
    Event pong = Event.create("pong");
    long[] rounds = new long[1];
    loop.addTask(() -> {
      for (int i = 0; i < ROUNDS; i++) {
        ping.set();
        pong.await();
        pong.clear();
        rounds[0]++;
      }
    });
    loop.addTask(() -> {
      for (int i = 0; i < ROUNDS; i++) {
        ping.await();
        ping.clear();
        pong.set();
      }
    });
    loop.run();
    return rounds[0];
  }

  @Benchmark
  @OperationsPerInvocation(ROUNDS)
  public long countDownLatchVirtualThreads() throws InterruptedException {
    CountDownLatch[] pings = new CountDownLatch[ROUNDS];
    CountDownLatch[] pongs = new CountDownLatch[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
      pings[i] = new CountDownLatch(1);
      pongs[i] = new CountDownLatch(1);
    }
    long[] rounds = new long[1];
    Thread a = Thread.ofVirtual().start(() -> {
      try {
        for (int i = 0; i < ROUNDS; i++) {
          pings[i].countDown();
          pongs[i].await();
          rounds[0]++;
        }
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    Thread b = Thread.ofVirtual().start(() -> {
      try {
        for (int i = 0; i < ROUNDS; i++) {
          pings[i].await();
          pongs[i].countDown();
        }
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    a.join();
    b.join();
    return rounds[0];
  }
}
