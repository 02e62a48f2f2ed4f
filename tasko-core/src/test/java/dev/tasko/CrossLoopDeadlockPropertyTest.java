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
 * Random programs of tasks spread over two or three loops, each run on a thread of its own, against
 * a model: each task returns at once, sleeps a little and returns, or joins another task, itself or
 * from blocking work. A task that joins a task that ends ends too; the others are stuck, each on
 * or behind a circle of joins. Each loop with a stuck task must report a deadlock listing exactly
 * its stuck tasks, and no other loop may; cancelling every task must then end every stuck task
 * but those that wait, through blocking work, for a task that does not end.
 */
class CrossLoopDeadlockPropertyTest {
  @Property(tries = 200)
  void run_randomJoinsAcrossLoops_exactlyTheLoopsWithStuckTasksReportThem(
      @ForAll @IntRange(min = 2, max = 3) int loopCount,
      @ForAll @Size(min = 2, max = 6) List<@IntRange(min = -2, max = 5) Integer> plans,
      @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 0, max = 2) Integer> placement,
      @ForAll @Size(min = 1, max = 6) List<Boolean> fromBlockingWork) throws Exception {
    int n = plans.size();
    Loop[] loops = new Loop[loopCount];
    for (int l = 0; l < loopCount; l++) {
      loops[l] = Loop.builder().name("loop" + l).noStallWarning().build(); // real time
    }
    // -2: return; -1: sleep, then return; k >= 0: join task k mod n (itself: return instead).
    int[] joins = new int[n];
    int[] loopOf = new int[n];
    Task<?>[] tasks = new Task<?>[n];
    for (int i = 0; i < n; i++) {
      int plan = plans.get(i);
      joins[i] = plan < 0 || plan % n == i ? plan < 0 ? plan : -2 : plan % n;
      loopOf[i] = placement.get(i % placement.size()) % loopCount;
    }
    for (int i = 0; i < n; i++) {
      int target = joins[i];
      boolean blocking = fromBlockingWork.get(i % fromBlockingWork.size());
      tasks[i] = loops[loopOf[i]].addTask("t" + i, () -> {
        if (target == -1) {
          Tasko.sleep(Duration.ofMillis(1));
        } else if (target >= 0 && blocking) {
          Tasko.blocking(() -> tasks[target].join());
        } else if (target >= 0) {
          tasks[target].join();
        }
      });
    }

    // The model: a task ends if it does not join, or joins a task that ends.
    boolean[] ends = new boolean[n];
    for (boolean changed = true; changed; ) {
      changed = false;
      for (int i = 0; i < n; i++) {
        if (!ends[i] && (joins[i] < 0 || ends[joins[i]])) {
          ends[i] = true;
          changed = true;
        }
      }
    }

    List<Throwable> thrown = CrossLoopDeadlockTest.runEach(loops);

    for (int l = 0; l < loopCount; l++) {
      List<Task<?>> stuckHere = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (loopOf[i] == l && !ends[i]) {
          stuckHere.add(tasks[i]);
        }
      }
      Throwable e = thrown.get(l);
      if (stuckHere.isEmpty()) {
        assertThat(e).as("loop%d", l).isNull();
        continue;
      }
      assertThat(e).as("loop%d", l).isInstanceOf(DeadlockException.class);
      List<Task<?>> listed = ((DeadlockException) e).stuckTasks();
      int own = l;
      assertThat(listed.stream().filter(t -> t.loop() == loops[own]).toList())
          .as("loop%d's tasks in %s", l, e.getMessage()).isEqualTo(stuckHere);
      assertThat(listed).allSatisfy(t -> assertThat(ends[indexOf(tasks, t)]).isFalse());
    }

    // Left as they were: cancelling every task ends each stuck one, but for one whose blocking
    // work joins a task that does not end (that join is not interruptible, and the task waits
    // for its work even once cancelled).
    boolean[] endsOnCancel = new boolean[n];
    for (boolean changed = true; changed; ) {
      changed = false;
      for (int i = 0; i < n; i++) {
        boolean blocking = fromBlockingWork.get(i % fromBlockingWork.size());
        if (!endsOnCancel[i] && (ends[i] || !blocking || endsOnCancel[joins[i]])) {
          endsOnCancel[i] = true;
          changed = true;
        }
      }
    }
    for (Task<?> t : tasks) {
      t.cancel();
    }
    List<Throwable> again = CrossLoopDeadlockTest.runEach(loops);
    for (int l = 0; l < loopCount; l++) {
      boolean stuck = false;
      for (int i = 0; i < n; i++) {
        stuck |= loopOf[i] == l && !endsOnCancel[i];
      }
      if (stuck) {
        assertThat(again.get(l)).as("loop%d", l).isInstanceOf(DeadlockException.class);
      } else {
        assertThat(again.get(l)).as("loop%d", l).isNull();
      }
    }
    for (int i = 0; i < n; i++) {
      assertThat(tasks[i].state()).as("t%d", i).isEqualTo(ends[i] ? Task.State.SUCCEEDED
          : endsOnCancel[i] ? Task.State.CANCELLED : Task.State.WAITING);
    }
  }

  private static int indexOf(Task<?>[] tasks, Task<?> t) {
    for (int i = 0; i < tasks.length; i++) {
      if (tasks[i] == t) {
        return i;
      }
    }
    throw new AssertionError("not a task of the program: " + t);
  }
}
