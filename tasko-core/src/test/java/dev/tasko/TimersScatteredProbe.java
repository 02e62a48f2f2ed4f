package dev.tasko;

import java.util.SplittableRandom;

/**
 * Not a test: a program, run by hand, that times the timer heap as a million one-shot sleepers use
 * it. Each entry has 600 bytes beside it, about what a sleeping task keeps, so that the entries
 * lie apart in memory as tasks do; the program adds a million random deadlines, then takes them
 * all in order, four rounds, and prints the nanoseconds per add and per take.
 *
 * <pre>
 * mvn -q -B -pl tasko-core test-compile
 * CP=tasko-core/target/classes:tasko-core/target/test-classes
 * java -Xmx4g -cp $CP dev.tasko.TimersScatteredProbe
 * </pre>
 */
public final class TimersScatteredProbe {
  private static final int N = 1_000_000;

  private TimersScatteredProbe() {}

  private static final class Entry extends TimerEntry {
    long deadline; // the probe's copy, to check the order: the queue keeps it in its own array
    @SuppressWarnings("unused") // only there to keep the entries apart
    private final byte[] beside = new byte[600];
  }

  /** Runs it. */
  public static void main(String[] args) {
    for (int round = 0; round < 4; round++) {
      SplittableRandom random = new SplittableRandom(42 + round);
      Timers timers = new Timers();
      Entry[] entries = new Entry[N];
      for (int i = 0; i < N; i++) {
        entries[i] = new Entry();
      }
      long start = System.nanoTime();
      for (int i = 0; i < N; i++) {
        entries[i].deadline = random.nextLong(1_000_000_000L);
        timers.add(entries[i], entries[i].deadline);
      }
      long added = System.nanoTime();
      long last = Long.MIN_VALUE;
      long all = timers.nextSeq(); // as the loop's timer phase: every timer set may be taken
      for (Entry e; (e = (Entry) timers.pollDue(Long.MAX_VALUE, all)) != null; ) {
        if (e.deadline < last) {
          throw new AssertionError("out of order: " + e.deadline + " after " + last);
        }
        last = e.deadline;
      }
      long taken = System.nanoTime();
      System.out.printf("round %d: add %.0f ns, take the earliest %.0f ns%n", round,
          (added - start) / (double) N, (taken - added) / (double) N);
    }
  }
}
