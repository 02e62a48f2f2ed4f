package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TimersTest {
  private final Loop loop = Loop.builder().virtualTime().build();

  private Task<Void> task(String name) {
    return loop.newTask(name, (TaskBody) () -> {});
  }

  @Test
  void pollDue_returnsEarliestFirst_tiesInInsertionOrder_onlyWhenDue() {
    Timers timers = new Timers();
    Task<Void> late = task("late");
    Task<Void> early = task("early");
    Task<Void> tie = task("tie");
    timers.add(late, 20);
    timers.add(early, 10);
    timers.add(tie, 20);

    long all = timers.nextSeq(); // a timer phase begins: every timer set so far may be taken
    assertThat(timers.pollDue(9, all)).isNull();
    assertThat(timers.pollDue(100, all)).isSameAs(early);
    assertThat(timers.pollDue(100, all)).isSameAs(late);
    assertThat(timers.pollDue(100, all)).isSameAs(tie);
    assertThat(timers.pollDue(100, all)).isNull();
    assertThat(timers.isEmpty()).isTrue();
  }

  @Test
  void pollDue_setAtTheTimeItIsDueAfterTheMark_heldBackUntilTheNextCall() {
    Timers timers = new Timers();
    Task<Void> before = task("before");
    Task<Void> after = task("after");
    Task<Void> past = task("past");
    timers.add(before, 100);
    long mark = timers.nextSeq(); // the timer phase begins at 100
    timers.add(after, 100); // set during it, with no delay, on a clock that stands still
    timers.add(past, 99); // due before the phase's time: not held back

    assertThat(timers.pollDue(100, mark)).isSameAs(past);
    assertThat(timers.pollDue(100, mark)).isSameAs(before);
    assertThat(timers.pollDue(100, mark)).isNull();
    assertThat(timers.pollDue(100, timers.nextSeq())).isSameAs(after); // the next phase
  }


  /**
   * A length of 2^k - 4 makes the array of entries take a power of two of bytes (a 16-byte array
   * header, 4-byte references) and the array of deadlines 16 bytes less, so that a large one fills
   * whole G1 regions instead of leaving most of its last one unused.
   */
  @Test
  void capacity_growingAndShrinking_isAlwaysAPowerOfTwoLessFour() {
    Timers timers = new Timers();
    List<Task<Void>> added = new ArrayList<>();
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 70_000; i++) {
      Task<Void> t = task("t" + i);
      timers.add(t, i);
      added.add(t);
      seen.add(timers.capacity());
    }
    for (Task<Void> t : added) {
      timers.remove(t);
      seen.add(timers.capacity());
    }
    assertThat(seen).hasSizeGreaterThan(10).allSatisfy(capacity ->
        assertThat(Integer.bitCount(capacity + 4)).as("capacity %d", capacity).isEqualTo(1));
    assertThat(timers.capacity()).as("emptied: back to the minimum, not below").isEqualTo(60);
  }

  @Test
  void remove_anyEntry_keepsHeapOrder_randomisedAgainstSortedList() {
    Random random = new Random(42);
    Timers timers = new Timers();
    List<Task<Void>> reference = new ArrayList<>();
    Map<Task<Void>, Long> deadlines = new HashMap<>();
    for (int round = 0; round < 20_000; round++) {
      int op = random.nextInt(3);
      if (op < 2 || reference.isEmpty()) {
        Task<Void> t = task("t" + round);
        long deadline = random.nextInt(1000);
        timers.add(t, deadline);
        assertThat(timers.deadlineOf(t)).isEqualTo(deadline);
        deadlines.put(t, deadline);
        reference.add(t);
      } else {
        Task<Void> victim = reference.remove(random.nextInt(reference.size()));
        assertThat(timers.remove(victim)).isTrue();
        assertThat(timers.remove(victim)).as("second remove").isFalse();
      }
    }
    reference.sort(Comparator.<Task<Void>>comparingLong(deadlines::get)
        .thenComparingLong(t -> t.timerSeq));
    assertThat(timers.size()).isEqualTo(reference.size());
    for (Task<Void> expected : reference) {
      assertThat(timers.deadlineOf(expected)).isEqualTo(deadlines.get(expected));
      assertThat(timers.earliestDeadline()).isEqualTo(deadlines.get(expected));
      assertThat(timers.pollDue(Long.MAX_VALUE, timers.nextSeq())).isSameAs(expected);
    }
    assertThat(timers.isEmpty()).isTrue();
  }

  @Test
  void latestWithin_findsLastDeadlineInsideWindow_only() {
    Timers timers = new Timers();
    long[] deadlines = {100, 400, 130, 150, 90, 500, 160, 151};
    for (long d : deadlines) {
      timers.add(task("t" + d), d);
    }

    assertThat(timers.latestWithin(0, 64)).isEqualTo(90);
    assertThat(timers.latestWithin(50, 64)).isEqualTo(130); // 90..140
    assertThat(timers.latestWithin(70, 64)).isEqualTo(160); // 90..160
    assertThat(timers.latestWithin(1000, 64)).isEqualTo(500);
    assertThat(timers.latestWithin(1000, 1)).as("looks at no more than the limit").isEqualTo(90);
    assertThat(timers.size()).isEqualTo(deadlines.length);
  }

  /** Adds {@code n} timers at random deadlines below {@code range} to {@code timers}. */
  private List<Long> addRandom(Timers timers, Random random, int n, int range) {
    List<Long> deadlines = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long d = random.nextInt(range);
      deadlines.add(d);
      timers.add(task("t" + i), d);
    }
    return deadlines;
  }

  @Test
  void earliestAfter_randomHeaps_matchesSortedReference() {
    Random random = new Random(7);
    for (int round = 0; round < 200; round++) {
      Timers timers = new Timers();
      List<Long> deadlines = addRandom(timers, random, random.nextInt(40), 100);
      long now = random.nextInt(110) - 5;
      long expected = deadlines.stream().filter(d -> d > now).min(Long::compare).orElse(now);

      assertThat(timers.earliestAfter(now, 64)).as("round %d, now %d, %s", round, now, deadlines)
          .isEqualTo(expected);
    }
  }

  @Test
  void latestWithin_randomHeaps_matchesSortedReference() {
    Random random = new Random(11);
    for (int round = 0; round < 200; round++) {
      Timers timers = new Timers();
      List<Long> deadlines = addRandom(timers, random, 1 + random.nextInt(300), 1000);
      long window = random.nextInt(200);
      long end = deadlines.stream().min(Long::compare).orElseThrow() + window;
      long expected = deadlines.stream().filter(d -> d <= end).max(Long::compare).orElseThrow();

      assertThat(timers.latestWithin(window, 1000)).as("round %d, window %d", round, window)
          .isEqualTo(expected);
    }
  }

  @Test
  void earliestAfter_moreDueThanLimit_answersNow() {
    Timers timers = new Timers();
    for (int i = 0; i < 10; i++) {
      timers.add(task("due" + i), 5);
    }
    timers.add(task("later"), 50);

    assertThat(timers.earliestAfter(10, 4)).isEqualTo(10);
    assertThat(timers.earliestAfter(10, 64)).isEqualTo(50);
  }

  @Test
  void addRemovePoll_stackOverflowAtEveryDepth_leaveTheHeapWhole() throws Exception {
    // A task suspends on whatever stack it has left, and the loop then adds or takes its timer:
    // a stack overflow there must leave the heap as it was or as it should be, not half-changed
    // (the old add() counted the entry before placing it, and a later poll met an empty slot).
    // In a JVM that only interprets, frames have the same size on every run, so trying every
    // depth near the end of the stack makes the overflow strike at each call in turn.
    String out = ChildJvm.run(List.of("-Xint"), OverflowingTimers.class);

    assertThat(out).as(out).contains("broken heaps: 0");
    assertThat(out).as(out).doesNotContain("overflows inside: 0,"); // the control
  }

  /**
   * On a thread with a small stack, adds, removes or polls a timer at every depth near the end of
   * the stack, then checks that the heap holds exactly the entries it should, in order: what the
   * operation did if it returned, what it held before if it threw.
   */
  static final class OverflowingTimers {
    private static final class Entry extends TimerEntry {
      long deadline; // the test's copy: the queue keeps it in its own array
    }

    public static void main(String[] args) throws Exception {
      int[] counts = new int[2];
      StackEdge.onSmallStack(() -> run(counts));
      System.out.println("overflows inside: " + counts[0] + ", broken heaps: " + counts[1]);
    }

    private static void run(int[] counts) {
      int low = StackEdge.deepestReachable();
      for (int depth = low - 150; depth <= low; depth++) {
        // Ops 0-2 on a small heap; 3-4 remove or poll on a heap whose arrays that removal halves.
        for (int op = 0; op < 5; op++) {
          Timers timers = new Timers();
          Random random = new Random(depth);
          Set<TimerEntry> expected = new HashSet<>();
          Entry[] entries = new Entry[op < 3 ? 20 : 200];
          for (int i = 0; i < entries.length; i++) {
            entries[i] = new Entry();
            entries[i].deadline = random.nextInt(100);
            timers.add(entries[i], entries[i].deadline);
            expected.add(entries[i]);
          }
          int kept = op < 3 ? entries.length : timers.capacity() / 4; // one more removal shrinks
          for (int i = entries.length - 1; i >= kept; i--) {
            timers.remove(entries[i]);
            expected.remove(entries[i]);
          }
          Entry extra = new Entry();
          extra.deadline = 50;
          Entry first = entries[0];
          for (int i = 0; i < kept; i++) {
            if (entries[i].deadline < first.deadline) {
              first = entries[i];
            }
          }
          int which = op;
          int outcome = StackEdge.at(depth, () -> {
            switch (which) {
              case 0 -> timers.add(extra, extra.deadline);
              case 1, 3 -> timers.remove(entries[7]);
              default -> timers.pollDue(Long.MAX_VALUE, timers.nextSeq());
            }
          });
          if (outcome == StackEdge.OVERFLOWED_INSIDE) {
            counts[0]++; // and the heap must be as it was: the caller got an error, not a timer
          } else {
            switch (which) {
              case 0 -> expected.add(extra);
              case 1, 3 -> expected.remove(entries[7]);
              default -> expected.remove(first);
            }
          }
          if (!drainsTo(timers, expected)) {
            counts[1]++;
            System.out.println("broken heap after op " + op + " at depth " + depth);
          }
        }
      }
    }

    private static boolean drainsTo(Timers timers, Set<TimerEntry> expected) {
      try {
        Set<TimerEntry> drained = new HashSet<>();
        long last = Long.MIN_VALUE;
        Entry e;
        long all = timers.nextSeq();
        while ((e = (Entry) timers.pollDue(Long.MAX_VALUE, all)) != null) {
          if (e.deadline < last || !drained.add(e)) {
            return false;
          }
          last = e.deadline;
        }
        return drained.equals(expected) && timers.isEmpty();
      } catch (RuntimeException e) {
        return false; // a slot left empty
      }
    }
  }
}
