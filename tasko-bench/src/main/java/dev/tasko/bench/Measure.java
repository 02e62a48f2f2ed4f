package dev.tasko.bench;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Readings of the JVM and the host: process CPU, thread CPU, heap after GC, steal time. */
final class Measure {
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

  private Measure() {}

  /** CPU time of the whole process (every thread, GC and JIT included), in nanoseconds. */
  static long processCpuNanos() {
    return OS.getProcessCpuTime();
  }

  /** CPU time of the calling thread, in nanoseconds. */
  static long currentThreadCpuNanos() {
    return THREADS.getCurrentThreadCpuTime();
  }

  /**
   * CPU time of the whole process in nanoseconds, summed from every native thread's
   * {@code /proc/self/task/<tid>/schedstat} (JVM-internal threads — GC, JIT, VM — included).
   * Precise to the nanosecond, where {@link #processCpuNanos()} moves in 10 ms clock ticks on
   * Linux, too coarse for the idle workload; but a thread that exits between two readings loses its
   * share. Falls back to {@link #processCpuNanos()} where {@code /proc} is missing.
   */
  static long processCpuPreciseNanos() {
    long[] sum = {0};
    boolean read = eachThread(t -> {
      String s = Files.readString(t.resolve("schedstat"));
      sum[0] += Long.parseLong(s.substring(0, s.indexOf(' ')));
    });
    return read ? sum[0] : processCpuNanos();
  }

  /**
   * Context switches of the whole process so far: the voluntary ones (a thread blocked or parked:
   * each is a sleep that some wake-up must end) and the involuntary ones (preempted), summed over
   * every live thread's {@code /proc/self/task/<tid>/status}. A thread that exits between two
   * readings loses its share. Returns {@code {-1, -1}} where {@code /proc} is missing.
   */
  static long[] contextSwitches() {
    long[] counts = {0, 0}; // voluntary, involuntary
    boolean read = eachThread(t -> {
      for (String line : Files.readAllLines(t.resolve("status"))) {
        if (line.startsWith("voluntary_ctxt_switches:")) {
          counts[0] += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
          counts[1] += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
        }
      }
    });
    return read ? counts : new long[] {-1, -1};
  }

  /**
   * The host's steal time so far, in nanoseconds: how long this machine's virtual processors were
   * ready to run but the hypervisor ran something else (the {@code steal} column of
   * {@code /proc/stat}'s first line). It moves in clock ticks, taken as 10 ms (Linux's USER_HZ of
   * 100). Returns -1 where {@code /proc/stat} is missing or has no such column. To read it again
   * and again, keep a {@link HostSteal} open.
   */
  static long hostStealNanos() {
    try (HostSteal steal = new HostSteal()) {
      return steal.nanos();
    }
  }

  /**
   * {@code /proc/stat} kept open, for {@link #hostStealNanos()} read many times: a reading is one
   * read from the start of the file (which the kernel writes afresh) into the same array. A
   * sampler that opened the file through {@code java.nio} for each of its eight readings a second,
   * too seldom for the JIT to compile that path, used about 0.3 s of CPU in every 10 s on a 2-core
   * VM; reading this way, about 0.13 s (most of it the cost of waking a cold thread there). One
   * thread at a time.
   */
  static final class HostSteal implements AutoCloseable {
    /**
     * Null where {@code /proc/stat} cannot be opened. Not a FileChannel: an interrupt during a
     * channel's read closes it, and the sampler is stopped by an interrupt.
     */
    private final RandomAccessFile stat;
    /** The first line is under 100 bytes; the rest of the file is not needed. */
    private final byte[] buffer = new byte[256];

    HostSteal() {
      RandomAccessFile opened = null;
      try {
        opened = new RandomAccessFile("/proc/stat", "r");
      } catch (IOException | RuntimeException e) {
        // no /proc: nanos() answers -1
      }
      stat = opened;
    }

    /** The steal so far, in nanoseconds, or -1 where it cannot be read. */
    long nanos() {
      if (stat == null) {
        return -1;
      }
      try {
        stat.seek(0);
        return stealOf(buffer, Math.max(0, stat.read(buffer)));
      } catch (IOException | RuntimeException e) {
        return -1;
      }
    }

    /**
     * The steal column of {@code "cpu  user nice system idle iowait irq softirq steal ..."}, the
     * first {@code length} bytes of the file, in nanoseconds; -1 if it has no such column.
     */
    static long stealOf(byte[] text, int length) {
      if (length < 4 || text[0] != 'c' || text[1] != 'p' || text[2] != 'u' || text[3] != ' ') {
        return -1;
      }
      int field = 0; // "cpu" is field 0, steal field 8
      int i = 3;
      while (i < length && text[i] != '\n') {
        if (text[i] == ' ') {
          i++;
          continue;
        }
        long value = 0;
        while (i < length && text[i] >= '0' && text[i] <= '9') {
          value = value * 10 + (text[i++] - '0');
        }
        if (++field == 8) {
          return i < length && (text[i] == ' ' || text[i] == '\n') ? value * 10_000_000L : -1;
        }
        if (i < length && text[i] != ' ' && text[i] != '\n') {
          return -1; // not a number
        }
      }
      return -1;
    }

    @Override
    public void close() {
      if (stat != null) {
        try {
          stat.close();
        } catch (IOException e) {
          // read-only: nothing lost
        }
      }
    }
  }

  /** A native thread's name and times so far, from {@code /proc}: run, and waited to run. */
  record ThreadTimes(String name, long runNanos, long waitNanos) {}

  /** Thread names by thread id, read once each: half the files a reading would open. */
  private static final Map<Integer, String> THREAD_NAMES = new ConcurrentHashMap<>();

  /**
   * Every native thread of this process (JVM-internal ones included) by thread id: its name (as
   * Linux keeps it, cut at 15 characters, and as it was when first read), the time it has run and
   * the time it has spent ready to run but waiting for a processor
   * ({@code /proc/self/task/<tid>/schedstat}). Empty where {@code /proc} is missing; a thread that
   * exits while it is read is left out.
   */
  static Map<Integer, ThreadTimes> threadTimes() {
    Map<Integer, ThreadTimes> out = new HashMap<>();
    boolean read = eachThread(t -> {
      String[] f = Files.readString(t.resolve("schedstat")).trim().split(" ");
      int tid = Integer.parseInt(t.getFileName().toString());
      String name = THREAD_NAMES.get(tid);
      if (name == null) {
        name = Files.readString(t.resolve("comm")).trim();
        THREAD_NAMES.put(tid, name);
      }
      out.put(tid, new ThreadTimes(name, Long.parseLong(f[0]), Long.parseLong(f[1])));
    });
    return read ? out : Map.of();
  }

  /** Reads what it needs from one thread's directory, {@code /proc/self/task/<tid>}. */
  @FunctionalInterface
  private interface ThreadReading {
    void read(Path thread) throws IOException;
  }

  /**
   * Calls {@code read} with the directory of each of this process's native threads, leaving out a
   * thread that exits while it is read (its files vanish). Returns false where {@code /proc} cannot
   * be listed.
   */
  private static boolean eachThread(ThreadReading read) {
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path t : dir) {
        try {
          read.read(t);
        } catch (IOException | RuntimeException e) {
          // the thread exited while we listed it
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** CPU time of one platform thread, in nanoseconds (-1 if unknown). */
  static long threadCpuNanos(Thread t) {
    return THREADS.getThreadCpuTime(t.threadId());
  }

  /**
   * Summed CPU time of the virtual-thread carriers (the default scheduler's ForkJoinPool workers),
   * which is where tasko's tasks run; the JVM cannot report a virtual thread's own CPU time.
   */
  static long carrierCpuNanos() {
    long sum = 0;
    for (var info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith("ForkJoinPool-")) {
        long c = THREADS.getThreadCpuTime(info.getThreadId());
        if (c > 0) {
          sum += c;
        }
      }
    }
    return sum;
  }

  /** Heap in use after full collections, in bytes. */
  static long heapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return MEMORY.getHeapMemoryUsage().getUsed();
  }
}
