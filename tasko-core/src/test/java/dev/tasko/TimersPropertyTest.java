package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Random sequences of adds, removes and takes on the timer heap, checked after every step against
 * a sorted set ordered by (deadline, insertion): the earliest timer, the order timers come out in
 * (ties first come, first served), which entries are queued, and the answers of the two walks
 * over the heap's top ({@code latestWithin}, {@code earliestAfter}). Deadlines are drawn from a
 * small range in some runs, so that ties are everywhere, and the sequences are long enough to
 * grow and shrink the heap's arrays.
 */
class TimersPropertyTest {
  private static final class Entry extends TimerEntry {
    long deadline; // the model's copy: the queue keeps it in its own array
  }

  /** One step: what to do (add, remove, take) and the number it needs (a deadline, a pick). */
  record Step(int kind, int value) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    return Arbitraries.integers().between(0, 9).flatMap(kind -> Arbitraries.integers()
        .between(0, 1_000_000).map(value -> new Step(kind, value))).list().ofMaxSize(2_000);
  }

  @Property(tries = 200)
  void steps_matchASortedModel(@ForAll("steps") List<Step> steps,
      @ForAll @IntRange(min = 1, max = 1_000) int deadlineRange) {
    Timers timers = new Timers();
    TreeSet<Entry> model = new TreeSet<>(Comparator.<Entry>comparingLong(e -> e.deadline)
        .thenComparingLong(e -> e.timerSeq));
    List<Entry> queued = new ArrayList<>();
    for (Step step : steps) {
      if (step.kind() < 5 || queued.isEmpty()) {
        Entry e = new Entry();
        e.deadline = step.value() % deadlineRange;
        timers.add(e, e.deadline);
        model.add(e);
        queued.add(e);
      } else if (step.kind() < 7) {
        Entry e = queued.remove(step.value() % queued.size());
        assertThat(timers.remove(e)).isTrue();
        assertThat(timers.remove(e)).isFalse();
        model.remove(e);
      } else {
        long now = step.value() % (deadlineRange + 1) - 1;
        Entry expected = model.isEmpty() || model.first().deadline > now ? null : model.first();
        assertThat(timers.pollDue(now, timers.nextSeq())).isSameAs(expected);
        if (expected != null) {
          model.remove(expected);
          queued.remove(expected);
        }
      }
      assertThat(timers.size()).isEqualTo(model.size());
      for (Entry e : queued) {
        assertThat(e.heapIndex).isNotNegative();
      }
      if (!model.isEmpty()) {
        long first = model.first().deadline;
        assertThat(timers.earliestDeadline()).isEqualTo(first);
        long window = step.value() % (deadlineRange + 1);
        long latest = model.stream().mapToLong(e -> e.deadline).filter(d -> d <= first + window)
            .max().orElseThrow();
        assertThat(timers.latestWithin(window, Integer.MAX_VALUE)).isEqualTo(latest);
        long now = step.value() % (deadlineRange + 1) - 1;
        long after = model.stream().mapToLong(e -> e.deadline).filter(d -> d > now).min()
            .orElse(now);
        assertThat(timers.earliestAfter(now, Integer.MAX_VALUE)).isEqualTo(after);
      }
    }
    long all = timers.nextSeq(); // as the loop's timer phase reads it: every timer may be taken
    while (!model.isEmpty()) {
      assertThat(timers.pollDue(Long.MAX_VALUE, all)).isSameAs(model.pollFirst());
    }
    assertThat(timers.isEmpty()).isTrue();
  }
}
