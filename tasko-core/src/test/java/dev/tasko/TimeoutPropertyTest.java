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
 * Random nests of {@link Tasko#withTimeout} around sleeps and yields, on virtual time, against a
 * model: a sleep that would end at or after the earliest open deadline is cut short there, and the
 * outermost scope with that deadline (and only it) throws {@link TimeoutException}; a scope whose
 * body returns in time leaves no timer behind, so the loop ends at the model's last instant.
 */
class TimeoutPropertyTest {

  /** A step of a program: a sleep ({@code ms}; 0 is a yield) or a scope around more steps. */
  private record Step(int ms, int timeoutMs, List<Step> body) {
    boolean isScope() {
      return body != null;
    }
  }

  /**
   * Reads drawn tokens as a program: t % 4 == 0 opens a scope of (t / 4) % 50 ms, t % 4 == 1
   * closes the innermost open one, anything else sleeps (t / 4) % 30 ms. At most three levels.
   */
  private static List<Step> parse(List<Integer> tokens) {
    List<List<Step>> open = new ArrayList<>();
    List<Integer> timeouts = new ArrayList<>();
    open.add(new ArrayList<>());
    for (int t : tokens) {
      if (t % 4 == 0 && open.size() < 4) {
        open.add(new ArrayList<>());
        timeouts.add((t / 4) % 50);
      } else if (t % 4 == 1 && open.size() > 1) {
        close(open, timeouts);
      } else {
        open.get(open.size() - 1).add(new Step((t / 4) % 30, 0, null));
      }
    }
    while (open.size() > 1) {
      close(open, timeouts);
    }
    return open.get(0);
  }

  private static void close(List<List<Step>> open, List<Integer> timeouts) {
    List<Step> body = open.remove(open.size() - 1);
    int timeout = timeouts.remove(timeouts.size() - 1);
    open.get(open.size() - 1).add(new Step(0, timeout, body));
  }

  // ---- the real thing ----

  private static void run(List<Step> steps, Loop loop, List<String> log, String path) {
    for (int i = 0; i < steps.size(); i++) {
      Step s = steps.get(i);
      String id = path + i;
      if (!s.isScope()) {
        Tasko.sleep(Duration.ofMillis(s.ms()));
        continue;
      }
      try {
        Tasko.withTimeout(Duration.ofMillis(s.timeoutMs()),
            () -> run(s.body(), loop, log, id + "."));
        log.add(id + " returned@" + ms(loop.nanoTime()));
      } catch (TimeoutException e) {
        log.add(id + " timed out@" + ms(loop.nanoTime()));
      }
    }
  }

  private static long ms(long nanos) {
    return Duration.ofNanos(nanos).toMillis();
  }

  // ---- the model ----

  /** Thrown through the model's scopes: the outermost scope whose deadline passed, by depth. */
  private static final class Cut extends RuntimeException {
    final int depth;

    Cut(int depth) {
      super(null, null, false, false);
      this.depth = depth;
    }
  }

  private long now;

  private void model(List<Step> steps, List<Long> deadlines, List<String> log, String path) {
    for (int i = 0; i < steps.size(); i++) {
      Step s = steps.get(i);
      String id = path + i;
      if (!s.isScope()) {
        long wake = now + s.ms();
        long earliest = Long.MAX_VALUE;
        int outermost = -1;
        for (int d = 0; d < deadlines.size(); d++) {
          if (deadlines.get(d) < earliest) {
            earliest = deadlines.get(d);
            outermost = d;
          }
        }
        if (outermost >= 0 && wake >= earliest) {
          now = earliest; // a deadline fires first, even on a tie (its timer was set earlier)
          throw new Cut(outermost);
        }
        now = wake;
        continue;
      }
      deadlines.add(now + s.timeoutMs());
      int depth = deadlines.size() - 1;
      try {
        model(s.body(), deadlines, log, id + ".");
        log.add(id + " returned@" + now);
      } catch (Cut c) {
        if (c.depth != depth) {
          throw c;
        }
        log.add(id + " timed out@" + now);
      } finally {
        deadlines.remove(depth);
      }
    }
  }

  @Property(tries = 500)
  void withTimeout_randomNests_matchTheModel_andLeaveNoTimerBehind(
      @ForAll @Size(max = 16) List<@IntRange(min = 0, max = 400) Integer> tokens) {
    List<Step> program = parse(tokens);
    Loop loop = Loop.builder().virtualTime().build();
    List<String> log = new ArrayList<>();
    loop.addTask("program", () -> run(program, loop, log, ""));

    loop.run();

    List<String> expected = new ArrayList<>();
    now = 0;
    model(program, new ArrayList<>(), expected, "");
    assertThat(log).as("program %s", program).isEqualTo(expected);
    assertThat(ms(loop.nanoTime())).as("the loop ended when the program did").isEqualTo(now);
  }
}
