package dev.tasko.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
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
   * A sum over threads that only grows: each thread's counters as last read, by thread id, plus
   * what the threads no longer listed had reached when last read. A sum over the live threads
   * alone drops a thread's whole count when it exits, so that the difference of two readings
   * could be less than what the process did between them, or negative. Linux may give an ended
   * thread's id to a new thread: a count found lower than last read is a new thread's. A thread
   * still listed whose reading failed keeps its last count, and is not taken for ended: counted
   * as ended, it would count twice once read again.
   */
  static final class GrowingSum {
    private final Map<Long, long[]> last = new HashMap<>();
    private final long[] departed;

    GrowingSum(int counters) {
      departed = new long[counters];
    }

    /**
     * Takes in one reading of every live thread ({@code read}) and the ids of the threads listed
     * but not read ({@code unread}), and returns the sums.
     */
    synchronized long[] sum(Map<Long, long[]> read, Set<Long> unread) {
      Map<Long, long[]> now = new HashMap<>(read);
      for (Long id : unread) {
        long[] was = last.get(id);
        if (was != null) {
          now.putIfAbsent(id, was);
        }
      }
      for (Map.Entry<Long, long[]> e : last.entrySet()) {
        long[] was = e.getValue();
        long[] is = now.get(e.getKey());
        if (is == null || isLower(is, was)) { // ended, or its id now names a new thread
          for (int i = 0; i < departed.length; i++) {
            departed[i] += was[i];
          }
        }
      }
      last.clear();
      last.putAll(now);
      long[] total = departed.clone();
      for (long[] counts : now.values()) {
        for (int i = 0; i < total.length; i++) {
          total[i] += counts[i];
        }
      }
      return total;
    }

    private static boolean isLower(long[] is, long[] was) {
      for (int i = 0; i < is.length; i++) {
        if (is[i] < was[i]) {
          return true;
        }
      }
      return false;
    }
  }

  private static final GrowingSum THREAD_CPU = new GrowingSum(1);
  private static final GrowingSum SWITCHES = new GrowingSum(2);
  private static final GrowingSum CARRIER_CPU = new GrowingSum(1);

  /**
   * CPU time of the whole process in nanoseconds, summed from every native thread's
   * {@code /proc/self/task/<tid>/schedstat} (JVM-internal threads — GC, JIT, VM — included).
   * Precise to the nanosecond, where {@link #processCpuNanos()} moves in 10 ms clock ticks on
   * Linux, too coarse for the idle workload. A thread that has exited counts with its time as last
   * read here (see {@link GrowingSum}), so a difference of two readings is never negative; what it
   * ran after that reading is lost. Falls back to {@link #processCpuNanos()} where {@code /proc} is
   * missing.
   */
  static long processCpuPreciseNanos() {
    Map<Long, long[]> now = new HashMap<>();
    Set<Long> unread = new HashSet<>();
    boolean read = eachThread(unread, t -> {
      String s = Files.readString(t.resolve("schedstat"));
      now.put(Long.parseLong(t.getFileName().toString()),
          new long[] {Long.parseLong(s.substring(0, s.indexOf(' ')))});
    });
    return read ? THREAD_CPU.sum(now, unread)[0] : processCpuNanos();
  }

  /**
   * Context switches of the whole process so far: the voluntary ones (a thread blocked or parked:
   * each is a sleep that some wake-up must end) and the involuntary ones (preempted), summed over
   * every thread's {@code /proc/self/task/<tid>/status}. A thread that has exited counts with its
   * switches as last read here (see {@link GrowingSum}). Returns {@code {-1, -1}} where
   * {@code /proc} is missing.
   */
  static long[] contextSwitches() {
    Map<Long, long[]> now = new HashMap<>();
    Set<Long> unread = new HashSet<>();
    boolean read = eachThread(unread, t -> {
      long[] counts = {0, 0}; // voluntary, involuntary
      for (String line : Files.readAllLines(t.resolve("status"))) {
        if (line.startsWith("voluntary_ctxt_switches:")) {
          counts[0] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
          counts[1] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      now.put(Long.parseLong(t.getFileName().toString()), counts);
    });
    return read ? SWITCHES.sum(now, unread) : new long[] {-1, -1};
  }

  /**
   * The host's steal time so far, in nanoseconds: how long this machine's virtual processors were
   * ready to run but the hypervisor ran something else (the {@code steal} column of
   * {@code /proc/stat}'s first line). It moves in clock ticks, taken as 10 ms (Linux's USER_HZ of
   * 100). Returns -1 where {@code /proc/stat} is missing or has no such column.
   */
  static long hostStealNanos() {
    try (BufferedReader in = Files.newBufferedReader(Path.of("/proc/stat"))) {
      String line = in.readLine(); // "cpu  user nice system idle iowait irq softirq steal ..."
      String[] f = line == null ? new String[0] : line.trim().split("\\s+");
      return f.length > 8 && f[0].equals("cpu") ? Long.parseLong(f[8]) * 10_000_000L : -1;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** A native thread's name and times so far, from {@code /proc}: run, and waited to run. */
  record ThreadTimes(String name, long runNanos, long waitNanos) {}

  /**
   * Thread names by thread id, read once each: half the files a reading would open. A thread id
   * missing from a reading is dropped, since Linux gives a dead thread's id to a new thread later.
   */
  static final Map<Integer, String> THREAD_NAMES = new ConcurrentHashMap<>();

  /**
   * Every native thread of this process (JVM-internal ones included) by thread id: its name (as
   * Linux keeps it, cut at 15 characters, and as it was when first read), the time it has run and
   * the time it has spent ready to run but waiting for a processor
   * ({@code /proc/self/task/<tid>/schedstat}). Empty where {@code /proc} is missing; a thread that
   * exits while it is read is left out.
   */
  static Map<Integer, ThreadTimes> threadTimes() {
    Map<Integer, ThreadTimes> out = new HashMap<>();
    boolean read = eachThread(new HashSet<>(), t -> {
      String[] f = Files.readString(t.resolve("schedstat")).trim().split(" ");
      int tid = Integer.parseInt(t.getFileName().toString());
      String name = THREAD_NAMES.get(tid);
      if (name == null) {
        name = Files.readString(t.resolve("comm")).trim();
        THREAD_NAMES.put(tid, name);
      }
      out.put(tid, new ThreadTimes(name, Long.parseLong(f[0]), Long.parseLong(f[1])));
    });
    if (!read) {
      return Map.of();
    }
    THREAD_NAMES.keySet().retainAll(out.keySet()); // ended, or exited while read
    return out;
  }

  /** Reads what it needs from one thread's directory, {@code /proc/self/task/<tid>}. */
  @FunctionalInterface
  private interface ThreadReading {
    void read(Path thread) throws IOException;
  }

  /**
   * Calls {@code read} with the directory of each of this process's native threads, and adds to
   * {@code unread} the id of each thread whose reading failed: most often, it exited while it was
   * read (its files vanish). Returns false where {@code /proc} cannot be listed.
   */
  private static boolean eachThread(Set<Long> unread, ThreadReading read) {
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path t : dir) {
        try {
          read.read(t);
        } catch (IOException | RuntimeException e) {
          try {
            unread.add(Long.parseLong(t.getFileName().toString()));
          } catch (NumberFormatException notAThread) {
            // not a thread's directory: nothing to keep
          }
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
   * which is where tasko's tasks run; the JVM cannot report a virtual thread's own CPU time. A
   * carrier that has ended (the pool lets an idle one go) counts with its time as last read here.
   */
  static long carrierCpuNanos() {
    Map<Long, long[]> now = new HashMap<>();
    for (var info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith("ForkJoinPool-")) {
        long c = THREADS.getThreadCpuTime(info.getThreadId());
        if (c > 0) {
          now.put(info.getThreadId(), new long[] {c});
        }
      }
    }
    return CARRIER_CPU.sum(now, Set.of())[0];
  }

  /** Heap in use after full collections, in bytes. */
  static long heapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return MEMORY.getHeapMemoryUsage().getUsed();
  }
}
