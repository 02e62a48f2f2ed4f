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
 * A callback schedule keeps time exactly as a schedule does: random programs of schedules whose
 * runs take random time (the body moves the virtual clock), overrun, fall behind, change rate,
 * stop and start again, fail (an exception, an {@link Error}, a failure that makes the handler
 * stop {@code run()}), cancel themselves or each other, beside a task that sleeps and yields, run
 * once with {@link Loop#schedule} and once with {@link Loop#scheduleCallback}. Both give the same
 * events in the same order (the failure handler's included), the same counts, skips and lateness,
 * and the same end for every schedule's task.
 */
class ScheduledTaskCallbackPropertyTest {

  /** What one schedule does: its interval, and per run a cost and an action, read in turn. */
  private record Plan(int intervalMs, List<Integer> costsMs, List<Integer> actions) {}

  @Property(tries = 300)
  void scheduleCallback_randomPrograms_keepTimeExactlyAsSchedule(
      @ForAll @Size(min = 1, max = 5) List<@IntRange(min = 1, max = 40) Integer> intervals,
      @ForAll @Size(min = 1, max = 12) List<@IntRange(min = 0, max = 100) Integer> costs,
      @ForAll @Size(min = 1, max = 12) List<@IntRange(min = 0, max = 19) Integer> actions,
      @ForAll @IntRange(min = 0, max = 30) int otherSleepMs) {
    List<Plan> plans = new ArrayList<>();
    for (int i = 0; i < intervals.size(); i++) {
      plans.add(new Plan(intervals.get(i), rotate(costs, i), rotate(actions, i)));
    }

    Outcome threaded = run(plans, otherSleepMs, /* callback= */ false);
    Outcome inline = run(plans, otherSleepMs, /* callback= */ true);

    assertThat(inline.events).isEqualTo(threaded.events);
    assertThat(inline.stats).isEqualTo(threaded.stats);
  }

  private static final long END = 2_000_000_000L;

  private record Outcome(List<String> events, List<String> stats) {}

  private static Outcome run(List<Plan> plans, int otherSleepMs, boolean callback) {
    ManualTicker clock = new ManualTicker();
    List<String> events = new ArrayList<>();
    Loop loop = Loop.builder().ticker(clock).virtualTime().noStallWarning()
        .failureHandler((task, failure) -> {
          events.add("failed " + task.name() + ": " + failure + " @" + clock.read());
          if (failure.getMessage() != null && failure.getMessage().startsWith("stop")) {
            throw new IllegalStateException("handler stops run() @" + clock.read());
          }
        }).build();
    List<Task<?>> tasks = new ArrayList<>();
    List<ScheduledTask> schedules = new ArrayList<>();
    for (int i = 0; i < plans.size(); i++) {
      Plan p = plans.get(i);
      String name = "s" + i;
      int[] run = {0};
      ScheduledTask[] self = new ScheduledTask[1];
      TaskBody body = () -> {
        if (!tasks.contains(Tasko.currentTask())) {
          tasks.add(Tasko.currentTask());
        }
        int n = run[0]++;
        events.add(name + " run " + n + " @" + clock.read());
        int action = p.actions.get(n % p.actions.size());
        // Actions 0-11 do nothing; the others change the schedule, or fail the run.
        switch (action) {
          case 12 -> schedules.get((schedules.indexOf(self[0]) + 1) % schedules.size()).cancel();
          case 13 -> {
            if (n % 5 == 4) { // now and then only, or few schedules would live long
              throw new AssertionError("run " + n + " breaks");
            }
          }
          case 14 -> self[0].changeRate(Duration.ofMillis(1 + (n % 3) * p.intervalMs));
          case 15 -> {
            self[0].stop();
            loop.runLater(Duration.ofMillis(p.intervalMs * 3L), () -> {
              if (clock.read() < END) {
                self[0].start();
              }
            });
          }
          case 16 -> throw new IllegalStateException("run " + n + " fails");
          case 17 -> {
            if (n < 50) { // each restart makes a run at once: bounded, or time would stand still
              self[0].stop();
              self[0].start(); // restarts its grid once this run is over
            }
          }
          case 18 -> {
            if (n % 4 == 3) {
              self[0].cancel();
            }
          }
          case 19 -> throw new IllegalStateException("stop after run " + n);
          default -> { }
        }
        clock.advance(Duration.ofMillis(p.costsMs.get(n % p.costsMs.size())));
      };
      Duration interval = Duration.ofMillis(p.intervalMs);
      self[0] = callback ? loop.scheduleCallback(name, interval, body)
          : loop.schedule(name, interval, body);
      schedules.add(self[0]);
    }
    loop.addTask("other", () -> {
      for (int i = 0; i < 20; i++) {
        events.add("other " + i + " @" + clock.read());
        if (i % 3 == 0) {
          Tasko.yieldNow();
        } else {
          Tasko.sleep(Duration.ofMillis(otherSleepMs));
        }
      }
    });
    loop.runLater(Duration.ofNanos(END), () -> schedules.forEach(ScheduledTask::stop));

    for (int i = 0; i < 1_000; i++) {
      try {
        loop.run();
        break;
      } catch (IllegalStateException e) {
        events.add("run() threw: " + e.getMessage()); // the handler's; run again
      }
    }

    List<String> stats = new ArrayList<>();
    for (Task<?> t : tasks) {
      stats.add(t.name() + " " + t.state());
    }
    for (ScheduledTask s : schedules) {
      stats.add(s.name() + " " + s.stats() + " max=" + s.stats().latenessMax().toNanos()
          + " scheduled=" + s.isScheduled());
    }
    stats.add("ended @" + clock.read() + ", tasks left " + loop.taskCount());
    return new Outcome(events, stats);
  }

  private static <T> List<T> rotate(List<T> list, int by) {
    List<T> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      out.add(list.get((i + by) % list.size()));
    }
    return out;
  }
}
