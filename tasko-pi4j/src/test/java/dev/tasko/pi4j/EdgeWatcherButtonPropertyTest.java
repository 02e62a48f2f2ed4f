package dev.tasko.pi4j;

import static com.pi4j.io.gpio.digital.DigitalState.HIGH;
import static com.pi4j.io.gpio.digital.DigitalState.LOW;
import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import dev.tasko.Loop;
import dev.tasko.Tasko;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Debouncing and direction against a model, under random bursts of changes on virtual time: the
 * edges queued are exactly those of the rule "a level counts once kept for the interval", in the
 * direction watched, timed at the change that reached the level; and however small the queue and
 * slow the reader, every change is counted once: taken, pending, dropped, a bounce or skipped.
 */
class EdgeWatcherButtonPropertyTest {

  /** Changes alternate from LOW (the mock fires only on a real change), {@code gaps} ms apart. */
  @Property(tries = 200)
  void edges_matchTheModel_andEveryChangeIsCounted(
      @ForAll @Size(max = 30) List<@IntRange(min = 0, max = 40) Integer> gaps,
      @ForAll @IntRange(min = 0, max = 25) int debounceMillis,
      @ForAll EdgeWatcher.Direction direction,
      @ForAll @IntRange(min = 1, max = 40) int capacity,
      @ForAll @IntRange(min = 0, max = 30) int readerPauseMillis) {
    Context pi4j = MockPi.context();
    try {
      Loop loop = Loop.builder().virtualTime().build();
      MockDigitalInput button = MockPi.input(pi4j, "button", 24);
      EdgeWatcher w = EdgeWatcher.builder(button).loop(loop).capacity(capacity)
          .direction(direction).debounce(Duration.ofMillis(debounceMillis)).build();
      List<long[]> changes = new ArrayList<>(); // {millis, 1 for HIGH}
      long t = 1;
      for (int i = 0; i < gaps.size(); i++) {
        t += gaps.get(i);
        DigitalState level = i % 2 == 0 ? HIGH : LOW;
        changes.add(new long[] {t, level == HIGH ? 1 : 0});
        loop.runLater(Duration.ofMillis(t), () -> button.mockState(level));
      }
      List<String> taken = new ArrayList<>();
      loop.runLater(Duration.ofMillis(t + 100), w::close); // quiet long before
      loop.addTask("reader", () -> {
        for (EdgeWatcher.Edge e : w.edges()) {
          taken.add(e.state() + "@" + Duration.ofNanos(e.nanoTime()).toMillis());
          Tasko.sleep(Duration.ofMillis(readerPauseMillis));
        }
      });

      loop.run();

      assertThat(w.received()).isEqualTo(changes.size());
      assertThat(taken.size() + w.pending() + w.dropped() + w.bounces() + w.skipped())
          .as("taken + pending + dropped + bounces + skipped")
          .isEqualTo(w.received());
      if (capacity >= changes.size()) { // nothing refused: the exact edges of the rule
        assertThat(taken).isEqualTo(model(changes, debounceMillis, direction));
        assertThat(w.dropped()).isZero();
      }
      if (debounceMillis == 0) {
        assertThat(w.bounces()).isZero();
      }
      if (direction == EdgeWatcher.Direction.BOTH) {
        assertThat(w.skipped()).isZero();
        for (int i = 1; i < taken.size(); i++) { // never the same level twice in a row
          assertThat(taken.get(i).charAt(0)).isNotEqualTo(taken.get(i - 1).charAt(0));
        }
      } else {
        String watched = direction == EdgeWatcher.Direction.RISING ? "HIGH@" : "LOW@";
        assertThat(taken).allMatch(e -> e.startsWith(watched));
      }
    } finally {
      pi4j.shutdown();
    }
  }

  /**
   * The rule, written plainly: a change ends its burst if the next change comes at least the
   * interval later (or never); a burst counts if it ends at a level other than the last counted.
   */
  private static List<String> model(List<long[]> changes, int debounceMillis,
      EdgeWatcher.Direction direction) {
    List<String> edges = new ArrayList<>();
    long level = 0; // LOW
    for (int i = 0; i < changes.size(); i++) {
      boolean endsBurst = i == changes.size() - 1
          || changes.get(i + 1)[0] - changes.get(i)[0] >= debounceMillis;
      if (!endsBurst || changes.get(i)[1] == level) {
        continue;
      }
      level = changes.get(i)[1];
      boolean wanted = direction == EdgeWatcher.Direction.BOTH
          || (direction == EdgeWatcher.Direction.RISING) == (level == 1);
      if (wanted) {
        edges.add((level == 1 ? "HIGH" : "LOW") + "@" + changes.get(i)[0]);
      }
    }
    return edges;
  }
}
