package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LoopTasksTest {
  private final Loop loop = Loop.builder().name("test").virtualTime().build();

  @Test
  void tasks_betweenSteps_listsUnfinishedOldestFirst() {
    Task<Void> sleeper = loop.addTask("sleeper", () -> Tasko.sleep(Duration.ofSeconds(1)));
    loop.addTask("quick", () -> {});
    ScheduledTask tick = loop.schedule("tick", Duration.ofSeconds(1), () -> {});
    loop.step();

    assertThat(loop.tasks()).extracting(Task::name).containsExactly("sleeper", "tick");
    assertThat(loop.tasks()).first().isSameAs(sleeper);

    tick.cancel();
    loop.run();
    assertThat(loop.tasks()).isEmpty();
  }

  @Test
  void cancel_ofATaskAnotherThreadAddedStillInTheInbox_endsItAndLeavesTheOthersListed() {
    List<String> seen = new ArrayList<>();
    loop.addTask("canceller", () -> {
      AtomicReference<Task<Void>> added = new AtomicReference<>();
      Thread other = new Thread(() -> added.set(loop.addTask("added", () -> {
        seen.add("ran");
      })));
      other.start();
      joinUninterruptibly(other); // the add is in the inbox until the next pass
      seen.add("counted " + loop.taskCount());
      added.get().cancel();
      seen.add("added " + added.get().state());
      seen.add("live " + loop.tasks().stream().map(Task::name).toList());
    });
    loop.addTask("bystander", () -> Tasko.sleep(Duration.ofSeconds(1)));

    loop.run(); // ends: the cancelled task is never taken in as live

    assertThat(seen).containsExactly("counted 3", "added CANCELLED",
        "live [canceller, bystander]");
    assertThat(loop.taskCount()).as("the cancelled task left the count when taken out").isZero();
  }

  @Test
  void tasks_addedAndScheduledFromOutsideBeforeRun_takenInInTheOrderSent() {
    // New tasks wait in the inbox as themselves, schedules inside a command: one queue, one order.
    loop.addTask("a", () -> Tasko.sleep(Duration.ofSeconds(1)));
    loop.schedule("s", Duration.ofSeconds(1), () -> {});
    loop.addTask("b", () -> Tasko.sleep(Duration.ofSeconds(1)));
    loop.runLater("c", Duration.ZERO, () -> Tasko.sleep(Duration.ofSeconds(1)));
    loop.addTask("d", () -> Tasko.sleep(Duration.ofSeconds(1)));
    assertThat(loop.taskCount()).isEqualTo(5);

    loop.step();

    assertThat(loop.tasks()).extracting(Task::name).containsExactly("a", "s", "b", "c", "d");
    assertThat(loop.taskCount()).isEqualTo(5);
  }

  @Test
  void cancel_fromOutsideBeforeRun_taskNeverRunsAndLeavesTheCount() {
    List<String> seen = new ArrayList<>();
    Task<Void> dropped = loop.addTask("dropped", () -> {
      seen.add("dropped ran");
    });
    loop.addTask("kept", () -> {
      seen.add("kept ran");
    });
    assertThat(loop.taskCount()).isEqualTo(2);

    dropped.cancel();
    loop.run();

    assertThat(seen).containsExactly("kept ran");
    assertThat(dropped.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(loop.taskCount()).isZero();
  }

  private static void joinUninterruptibly(Thread t) {
    boolean interrupted = false;
    while (t.isAlive()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void tasks_fromATaskOfTheLoop_includesTheCaller() {
    List<String> seen = new ArrayList<>();
    loop.addTask("a", () -> loop.tasks().forEach(t -> seen.add(t.name())));
    loop.addTask("b", () -> {});

    loop.run();

    assertThat(seen).containsExactly("a", "b");
  }

  @Test
  void tasks_whileAnotherThreadDrivesTheLoop_throwsNamingTheLoop() throws Exception {
    Loop realTime = Loop.builder().name("driven").build();
    AtomicReference<Suspension> waiting = new AtomicReference<>();
    CountDownLatch suspended = new CountDownLatch(1);
    realTime.addTask("waiter", () -> {
      Suspension s = Tasko.suspend("a test's go-ahead");
      waiting.set(s);
      suspended.countDown();
      s.await();
    });
    Thread driver = new Thread(realTime::run, "driver");
    driver.start();
    suspended.await();

    assertThatThrownBy(realTime::tasks)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("tasks(): loop 'driven' is being driven by");

    waiting.get().resume();
    driver.join();
    assertThat(realTime.tasks()).isEmpty();
  }

  @Test
  void addTask_fromAnotherThreadStackOverflowAtEveryDepth_countsOnlyWhatWasQueued()
      throws Exception {
    // A task added from another thread is counted in taskCount() before it reaches the inbox. A
    // stack overflow on the way there (before the inbox takes it) used to leave it counted for
    // good; one in the wake-up after it must leave it counted. In a JVM that only interprets,
    // frames have the same size on every run, so trying every depth near the end of the stack
    // makes the overflow strike at each call in turn.
    String out = ChildJvm.run(List.of("-Xint"), OverflowingAdds.class);

    assertThat(out).as(out).contains("miscounted: 0").contains("finished");
    // The controls: the overflow struck inside addTask at some depths, and at others the add
    // completed, so the depths tried span the path into the inbox.
    assertThat(out).as(out).doesNotContain("overflows inside: 0,").doesNotContain("completed: 0,");
  }

  /**
   * On a thread with a small stack, adds a task to a loop that is not running, at every depth
   * near the end of the stack; then checks that {@code taskCount()} counted it exactly when the
   * loop then runs it, and that the count is back to 0 once the loop has run.
   */
  static final class OverflowingAdds {
    public static void main(String[] args) throws Exception {
      int[] counts = new int[3];
      boolean[] finished = new boolean[1];
      StackEdge.onSmallStack(() -> {
        run(counts);
        finished[0] = true; // not reached if anything but a stack overflow ended the run
      });
      System.out.println("overflows inside: " + counts[0] + ", completed: " + counts[2]
          + ", miscounted: " + counts[1] + (finished[0] ? ", finished" : ", did not finish"));
    }

    private static void run(int[] counts) {
      // Once at a shallow depth first, so that classes, lambdas and method handles on the path
      // are set up before the depths near the stack's end are tried.
      Loop warm = Loop.builder().virtualTime().noStallWarning().build();
      warm.addTask(() -> {});
      warm.run();
      int low = StackEdge.deepestReachable();
      for (int depth = low - 200; depth <= low; depth++) {
        Loop loop = Loop.builder().virtualTime().noStallWarning().build();
        int[] ran = new int[1];
        int outcome = StackEdge.at(depth, () -> loop.addTask(() -> ran[0]++));
        if (outcome == StackEdge.OVERFLOWED_INSIDE) {
          counts[0]++;
        } else if (outcome == StackEdge.DONE) {
          counts[2]++;
        }
        int counted = loop.taskCount();
        loop.run();
        if (counted != ran[0] || loop.taskCount() != 0) {
          counts[1]++;
          System.out.println("depth " + depth + ": counted " + counted + ", ran " + ran[0]
              + ", left " + loop.taskCount());
        }
      }
    }
  }
}
