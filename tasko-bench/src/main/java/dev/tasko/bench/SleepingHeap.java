package dev.tasko.bench;

import dev.tasko.Loop;
import dev.tasko.TaskBody;
import dev.tasko.Tasko;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;

/**
 * What a sleeping task costs in heap, class by class: puts N tasko tasks, or N plain virtual
 * threads, to sleep on the system clock, and compares the JVM's class histogram (the one {@code
 * jcmd <pid> GC.class_histogram} prints, after a full GC) with one taken before they were made.
 *
 * <pre>
 * java -cp benchmarks.jar dev.tasko.bench.SleepingHeap tasko 200000 [--warm-up 100000]
 * java -cp benchmarks.jar dev.tasko.bench.SleepingHeap vthreads 200000 [--warm-up 100000]
 * </pre>
 *
 * <p>Prints, for each class with at least N/2 more instances, its bytes per sleeping task, then
 * the whole heap's growth per task. The frozen stacks ({@code jdk.internal.vm.StackChunk}) depend
 * on the code each task was compiled in when it parked: a task that parks in the interpreter or
 * in code compiled with profiling keeps a larger stack. {@code --warm-up M} first runs three
 * rounds of M tasks that sleep 1 ms, so that the measured tasks park in compiled code. Run it a
 * few times: which code the JIT has ready when is not the same from run to run.
 */
public final class SleepingHeap {
  private static final Pattern ROW =
      Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
  private static final Pattern TOTAL = Pattern.compile("^Total\\s+(\\d+)\\s+(\\d+)");
  /** One for all: a sleeper keeps the argument of its sleep, which is not what is measured. */
  private static final Duration AN_HOUR = Duration.ofHours(1);
  private static final Duration ONE_MILLI = Duration.ofMillis(1);

  private SleepingHeap() {}

  /** Runs it; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    if (args.length != 2 && !(args.length == 4 && args[2].equals("--warm-up"))) {
      System.err.println("usage: SleepingHeap tasko|vthreads N [--warm-up M]");
      System.exit(2);
    }
    String impl = args[0];
    int n = Integer.parseInt(args[1]);
    int warm = args.length == 4 ? Integer.parseInt(args[3]) : 0;
    if (!impl.equals("tasko") && !impl.equals("vthreads")) {
      throw new IllegalArgumentException("impl is neither tasko nor vthreads: " + impl);
    }
    if (n <= 0 || warm < 0) {
      throw new IllegalArgumentException("N <= 0 or M < 0: " + n + ", " + warm);
    }
    run(impl, n, warm, System.out);
    System.exit(0); // the sleepers would keep the JVM for an hour
  }

  /** Measures {@code n} sleepers of {@code impl} after {@code warm} warm-up sleepers. */
  static Map<String, Double> run(String impl, int n, int warm, PrintStream out) throws Exception {
    boolean tasko = impl.equals("tasko");
    for (int round = 0; round < 3 && warm > 0; round++) {
      // The very code measured below (the same lambdas), sleeping 1 ms, so that the measured
      // sleepers park in code the JIT has already compiled for them.
      AtomicInteger count = new AtomicInteger();
      if (tasko) {
        Loop w = Loop.builder().name("warm-up").noStallWarning().build();
        for (int i = 0; i < warm; i++) {
          w.addTask(taskoSleeper(count, ONE_MILLI));
        }
        w.run();
      } else {
        List<Thread> threads = new ArrayList<>(warm);
        for (int i = 0; i < warm; i++) {
          threads.add(Thread.ofVirtual().start(threadSleeper(count, ONE_MILLI)));
        }
        for (Thread t : threads) {
          t.join();
        }
      }
    }
    if (warm > 0) {
      Thread.sleep(1000); // compilations the warm-up queued finish
    }
    Histogram before = Histogram.take();
    AtomicInteger asleep = new AtomicInteger();
    Loop loop = null;
    Thread driver = null;
    if (tasko) {
      loop = Loop.builder().name("sleepers").noStallWarning().build();
      for (int i = 0; i < n; i++) {
        loop.addTask(taskoSleeper(asleep, AN_HOUR));
      }
      driver = Thread.ofPlatform().daemon().name("sleepers").start(loop::run);
    } else {
      for (int i = 0; i < n; i++) {
        Thread.ofVirtual().start(threadSleeper(asleep, AN_HOUR));
      }
    }
    while (asleep.get() < n) {
      Thread.sleep(50); // a plain main, polling: not a test
    }
    Thread.sleep(1000); // the last one counted itself before it parked
    Histogram after = Histogram.take();
    if (loop != null) {
      loop.stop(); // and end the tasks; the virtual threads are daemons, asleep until the JVM ends
      driver.join();
      loop.shutdown();
    }

    Map<String, Double> perTask = new HashMap<>();
    out.printf("%s: %,d sleepers%s; bytes per sleeper, from the class histogram%n", impl, n,
        warm > 0 ? " after a warm-up of 3 x " + String.format("%,d", warm) : "");
    after.bytes.forEach((cls, bytes) -> {
      long count = after.count.get(cls) - before.count.getOrDefault(cls, 0L);
      if (count >= n / 2) {
        double b = (bytes - before.bytes.getOrDefault(cls, 0L)) / (double) n;
        perTask.put(cls, b);
      }
    });
    perTask.entrySet().stream()
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .forEach(e -> out.printf("  %8.1f  %s%n", e.getValue(), e.getKey()));
    double total = (after.total - before.total) / (double) n;
    perTask.put("total", total);
    out.printf("  %8.1f  whole heap (growth over the histogram before)%n", total);
    return perTask;
  }

  /** A tasko sleeper: counts itself, then sleeps. One lambda for the warm-up and the measure. */
  private static TaskBody taskoSleeper(AtomicInteger asleep, Duration sleep) {
    return () -> {
      asleep.incrementAndGet();
      Tasko.sleep(sleep);
    };
  }

  /** The same for a plain virtual thread. */
  private static Runnable threadSleeper(AtomicInteger asleep, Duration sleep) {
    return () -> {
      asleep.incrementAndGet();
      try {
        Thread.sleep(sleep);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  }

  /** One class histogram of the live heap (it collects garbage first). */
  private record Histogram(Map<String, Long> count, Map<String, Long> bytes, long total) {
    static Histogram take() throws Exception {
      String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
          new Object[] {new String[0]}, new String[] {String[].class.getName()});
      Map<String, Long> count = new HashMap<>();
      Map<String, Long> bytes = new HashMap<>();
      long total = 0;
      for (String line : text.split("\n")) {
        Matcher m = ROW.matcher(line);
        if (m.find()) {
          // A lambda's class name ends in its address, which differs between runs: keep the rest
          String cls = m.group(3).replaceAll("/0x[0-9a-f]+", "");
          count.merge(cls, Long.parseLong(m.group(1)), Long::sum);
          bytes.merge(cls, Long.parseLong(m.group(2)), Long::sum);
        }
        Matcher t = TOTAL.matcher(line);
        if (t.find()) {
          total = Long.parseLong(t.group(2));
        }
      }
      return new Histogram(count, bytes, total);
    }
  }
}
