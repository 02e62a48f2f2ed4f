package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
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

    assertThat(timers.pollDue(9)).isNull();
    assertThat(timers.pollDue(100)).isSameAs(early);
    assertThat(timers.pollDue(100)).isSameAs(late);
    assertThat(timers.pollDue(100)).isSameAs(tie);
    assertThat(timers.pollDue(100)).isNull();
    assertThat(timers.isEmpty()).isTrue();
  }

  @Test
  void remove_anyEntry_keepsHeapOrder_randomisedAgainstSortedList() {
    Random random = new Random(42);
    Timers timers = new Timers();
    List<Task<Void>> reference = new ArrayList<>();
    for (int round = 0; round < 20_000; round++) {
      int op = random.nextInt(3);
      if (op < 2 || reference.isEmpty()) {
        Task<Void> t = task("t" + round);
        timers.add(t, random.nextInt(1000));
        reference.add(t);
      } else {
        Task<Void> victim = reference.remove(random.nextInt(reference.size()));
        assertThat(timers.remove(victim)).isTrue();
        assertThat(timers.remove(victim)).as("second remove").isFalse();
      }
    }
    reference.sort(Comparator.<Task<Void>>comparingLong(t -> t.deadline)
        .thenComparingLong(t -> t.timerSeq));
    assertThat(timers.size()).isEqualTo(reference.size());
    for (Task<Void> expected : reference) {
      assertThat(timers.earliestDeadline()).isEqualTo(expected.deadline);
      assertThat(timers.pollDue(Long.MAX_VALUE)).isSameAs(expected);
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

  @Test
  void earliestAfter_randomHeaps_matchesSortedReference() {
    Random random = new Random(7);
    for (int round = 0; round < 200; round++) {
      Timers timers = new Timers();
      List<Long> deadlines = new ArrayList<>();
      int n = random.nextInt(40);
      for (int i = 0; i < n; i++) {
        long d = random.nextInt(100);
        deadlines.add(d);
        timers.add(task("t" + i), d);
      }
      long now = random.nextInt(110) - 5;
      long expected = deadlines.stream().filter(d -> d > now).min(Long::compare).orElse(now);

      assertThat(timers.earliestAfter(now, 64)).as("round %d, now %d, %s", round, now, deadlines)
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
}
