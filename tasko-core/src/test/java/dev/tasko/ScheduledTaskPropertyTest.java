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
 * A schedule on a loop that is held up at random (its clock jumps between passes, as when a long
 * task or a pause of the machine holds the loop's thread): whatever the jumps, every target of its
 * grid that has passed was either run or counted as skipped, exactly once. The count may be one
 * ahead: after a long stall the next run is the first target at least an interval after the
 * catch-up run, and a target less than an interval after it is counted as skipped at once. And
 * it never runs more than three times at one instant (a stall of less than three intervals is
 * caught up run by run; a longer one gets one catch-up run).
 */
class ScheduledTaskPropertyTest {

  @Property(tries = 500)
  void schedule_heldUpAtRandom_runsPlusSkippedAreTheTargetsPassed(
      @ForAll @IntRange(min = 1, max = 50) int intervalMs,
      @ForAll @Size(min = 1, max = 20) List<@IntRange(min = 0, max = 400) Integer> jumpsMs) {
    ManualTicker clock = new ManualTicker();
    Loop loop = Loop.builder().ticker(clock).noStallWarning().build();
    List<Long> at = new ArrayList<>();
    ScheduledTask s = loop.schedule("s", Duration.ofMillis(intervalMs), () -> at.add(clock.read()));
    long interval = Duration.ofMillis(intervalMs).toNanos();
    runUntilIdle(loop, at);

    for (int jump : jumpsMs) {
      clock.advance(Duration.ofMillis(jump));
      runUntilIdle(loop, at);

      long passed = clock.read() / interval + 1; // the targets 0, interval, ... up to now
      ScheduledTask.Stats stats = s.stats();
      assertThat(stats.runs() + stats.skippedRuns()).as("runs %s, skipped %d, now %d", at,
          stats.skippedRuns(), clock.read()).isBetween(passed, passed + 1);
    }
    for (int i = 0; i < at.size(); i++) {
      int same = 0;
      for (int j = i; j < at.size() && at.get(j).equals(at.get(i)); j++) {
        same++;
      }
      assertThat(same).as("runs at %d: %s", at.get(i), at).isLessThanOrEqualTo(3);
    }
  }

  /** Steps until a pass adds no run: each catch-up run waits one yield, so one pass each. */
  private static void runUntilIdle(Loop loop, List<Long> at) {
    int before;
    do {
      before = at.size();
      loop.step();
      loop.step();
    } while (at.size() != before);
  }
}
