package dev.tasko.bench;

import dev.tasko.Channel;
import dev.tasko.Loop;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Channel} hand-off between two tasks: a producer {@code put}s {@link #ELEMENTS} boxed
 * integers, a consumer {@code take}s them and sums them. With {@code capacity} 1 every element
 * costs a switch each way; with 64 the producer fills the channel before the consumer drains it.
 * One operation is one element put and taken; reported in nanoseconds.
 *
 * <p>Peer ({@code arrayBlockingQueueVirtualThreads}): the JDK's {@link ArrayBlockingQueue} of the
 * same capacity between two plain virtual threads doing {@code put}/{@code take} — on a 2-core
 * machine they also run in parallel, which tasko's tasks never do.
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
public class ChannelBenchmark {
  static final int ELEMENTS = 32_000;

  @Param({"1", "64"})
  public int capacity;

  @Benchmark
  @OperationsPerInvocation(ELEMENTS)
  public long taskoChannel() {
    Loop loop = Loop.create();
    Channel<Integer> channel = Channel.create(capacity);
    long[] sum = new long[1];
    loop.addTask(() -> {
      for (int i = 0; i < ELEMENTS; i++) {
        channel.put(i);
      }
    });
    loop.addTask(() -> {
      for (int i = 0; i < ELEMENTS; i++) {
        sum[0] += channel.take();
      }
    });
    loop.run();
    return sum[0];
  }

  @Benchmark
  @OperationsPerInvocation(ELEMENTS)
  public long arrayBlockingQueueVirtualThreads() throws InterruptedException {
    ArrayBlockingQueue<Integer> queue = new ArrayBlockingQueue<>(capacity);
    long[] sum = new long[1];
    Thread producer = Thread.ofVirtual().start(() -> {
      try {
        for (int i = 0; i < ELEMENTS; i++) {
          queue.put(i);
        }
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    Thread consumer = Thread.ofVirtual().start(() -> {
      try {
        for (int i = 0; i < ELEMENTS; i++) {
          sum[0] += queue.take();
        }
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    producer.join();
    consumer.join();
    return sum[0];
  }

  /** What both methods return: 0 + 1 + … + (ELEMENTS − 1). */
  static long expectedSum() {
    return (long) ELEMENTS * (ELEMENTS - 1) / 2;
  }
}
