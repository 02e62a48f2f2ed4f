package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Random task groups on virtual time, against a model: children that sleep and then return or
 * throw; the first to fail (earliest, then first added) cancels every sibling not yet done and the
 * owner's block if the owner still sleeps there, and close() returns, or throws that failure, once
 * the last child has ended.
 */
class TaskGroupPropertyTest {

  @Property(tries = 500)
  void close_waitsForAll_firstFailureCancelsTheRestAndIsThrown(
      @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 0, max = 20) Integer> sleeps,
      @ForAll @Size(min = 1, max = 6) List<Boolean> fails,
      @ForAll @IntRange(min = 0, max = 25) int ownerSleeps) {
    int n = sleeps.size();
    Loop loop = Loop.builder().virtualTime().build();
    List<Task<Void>> children = new ArrayList<>();
    List<String> outcome = new ArrayList<>();
    loop.addTask("owner", () -> {
      try (TaskGroup g = TaskGroup.open("g")) {
        for (int i = 0; i < n; i++) {
          int id = i;
          children.add(g.add("c" + i, () -> {
            Tasko.sleep(Duration.ofMillis(sleeps.get(id)));
            if (fails.get(id % fails.size())) {
              throw new IllegalStateException("c" + id);
            }
          }));
        }
        Tasko.sleep(Duration.ofMillis(ownerSleeps));
      } catch (IllegalStateException e) {
        outcome.add("threw " + e.getMessage() + ", suppressed " + e.getSuppressed().length);
      }
      outcome.add("out@" + Duration.ofNanos(loop.nanoTime()).toMillis());
      for (Task<Void> c : children) {
        outcome.add(c.name() + " " + c.state());
      }
    });

    loop.run();

    // The model. Ties in time go to the child added first (its timer was set first).
    int first = -1;
    for (int i = 0; i < n; i++) {
      if (fails.get(i % fails.size())
          && (first < 0 || sleeps.get(i) < sleeps.get(first))) {
        first = i;
      }
    }
    List<String> expected = new ArrayList<>();
    long end;
    if (first >= 0) {
      if (ownerSleeps > sleeps.get(first)) { // the block is cut off; close()'s throw suppressed
        expected.add("threw task 'owner': the block of task group 'g' was cancelled: child 'c"
            + first + "' failed, suppressed 1");
      } else { // the owner was in close() already (its timer, set first, wins a tie)
        expected.add("threw c" + first + ", suppressed 0");
      }
      end = sleeps.get(first);
    } else {
      end = ownerSleeps;
      for (int s : sleeps) {
        end = Math.max(end, s);
      }
    }
    expected.add("out@" + end);
    for (int i = 0; i < n; i++) {
      boolean before = first < 0 || i == first || sleeps.get(i) < sleeps.get(first)
          || (sleeps.get(i).equals(sleeps.get(first)) && i < first);
      String state = !before ? "CANCELLED" : i == first ? "FAILED" : "SUCCEEDED";
      expected.add("c" + i + " " + state);
    }
    assertThat(outcome).isEqualTo(expected);
  }
}
