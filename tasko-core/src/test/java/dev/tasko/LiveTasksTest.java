package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class LiveTasksTest {
  private final Loop loop = Loop.builder().virtualTime().build();

  private Task<Void> task(String name) {
    return loop.newTask(name, (TaskBody) () -> {});
  }

  private static List<Task<?>> listed(LiveTasks live) {
    List<Task<?>> tasks = new ArrayList<>();
    for (Task<?> t = live.oldest(); t != null; t = t.nextLive) {
      tasks.add(t);
    }
    return tasks;
  }

  @Test
  void remove_aTaskNeverAdded_changesNothing() {
    LiveTasks live = new LiveTasks();
    Task<Void> first = task("first");
    Task<Void> second = task("second");
    live.add(first);
    live.add(second);

    live.remove(task("never added"));

    assertThat(listed(live)).containsExactly(first, second);
    assertThat(live.size()).isEqualTo(2);
  }

  /** One step: add a task, remove the live one {@code value} picks, or one never added. */
  record Step(int kind, int value) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    return Arbitraries.integers().between(0, 5).flatMap(kind -> Arbitraries.integers()
        .between(0, 1_000_000).map(value -> new Step(kind, value))).list().ofMaxSize(500);
  }

  /**
   * Random adds and removes, some of tasks never added, checked after every step against an
   * insertion-ordered set: the tasks, oldest first, and their count.
   */
  @Property(tries = 200)
  void steps_matchAnInsertionOrderedModel(@ForAll("steps") List<Step> steps) {
    LiveTasks live = new LiveTasks();
    LinkedHashSet<Task<?>> model = new LinkedHashSet<>();
    for (Step step : steps) {
      if (step.kind() <= 2 || model.isEmpty()) {
        Task<Void> t = task("t");
        live.add(t);
        model.add(t);
      } else if (step.kind() <= 4) {
        Task<?> t = new ArrayList<>(model).get(step.value() % model.size());
        live.remove(t);
        model.remove(t);
      } else {
        live.remove(task("never added"));
      }
      assertThat(listed(live)).containsExactlyElementsOf(model);
      assertThat(live.size()).isEqualTo(model.size());
    }
  }
}
