package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tasko.testsupport.EventLog;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TaskoTest {

  @Test
  void suspendingCalls_outsideTask_throwIllegalStateNamingTheCall() {
    assertThatThrownBy(() -> Tasko.sleep(Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("sleep() must be called from a task of a running loop; current"
            + " thread:");
    assertThatThrownBy(Tasko::yieldNow).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("yieldNow() must be called from a task of a running loop");
  }

  @Test
  void waitsOfTheCoordinationTools_outsideTask_sayWhatToDoInstead() {
    // From a newcomer's review: sleep() said what to do, these only what was wrong.
    String advice = ". Run the code in a task (loop.addTask), or later on the loop (loop.runLater)";
    assertThatThrownBy(() -> Event.create("ready").await())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("await() must be called from a task of a running loop")
        .hasMessageEndingWith(advice);
    assertThatThrownBy(() -> Semaphore.create("slots", 1).acquire())
        .hasMessageStartingWith("acquire() must be called").hasMessageEndingWith(advice);
    assertThatThrownBy(() -> ManagedResource.of("bus").handle("a", null).acquire())
        .hasMessageStartingWith("acquire() must be called").hasMessageEndingWith(advice);
    assertThatThrownBy(() -> TaskGroup.open("reads"))
        .hasMessageStartingWith("open() must be called").hasMessageEndingWith(advice);
  }

  @Test
  void moduleLevelFunctions_fromATaskOfAnotherLoop_refusedNamingBoth() {
    // From a newcomer's review: the task went to the default loop, which nobody ran, unseen.
    Loop loop = Loop.builder().name("greenhouse").virtualTime().build();
    java.util.List<String> refusals = new java.util.ArrayList<>();
    loop.addTask("main", () -> {
      for (Runnable call : java.util.List.<Runnable>of(() -> Tasko.addTask(() -> {}),
          () -> Tasko.runLater(Duration.ZERO, () -> {}),
          () -> Tasko.schedule(Duration.ofSeconds(1), () -> {}),
          () -> Tasko.scheduleCallback(Rate.hz(1), () -> {}))) {
        try {
          call.run();
        } catch (IllegalStateException e) {
          refusals.add(e.getMessage());
        }
      }
    });

    loop.run();

    assertThat(refusals).hasSize(4).first().isEqualTo("Tasko.addTask() adds to the default loop"
        + " 'tasko', but was called from task 'main' of loop 'greenhouse': call addTask() on that"
        + " loop (Tasko.currentTask().loop().addTask(...))");
    assertThat(refusals.get(3)).startsWith("Tasko.scheduleCallback() adds to the default loop");
    assertThat(Tasko.defaultLoop().taskCount()).isZero();
  }

  @Test
  void moduleLevelFunctions_fromTheBlockingWorkOfATaskOfAnotherLoop_refused() {
    // From a review: the check looked only at tasks, not at their blocking work.
    Loop loop = Loop.builder().name("greenhouse").virtualTime().build();
    java.util.List<String> refusals = new java.util.ArrayList<>();
    loop.addTask("main", () -> Tasko.blocking(() -> {
      try {
        Tasko.addTask(() -> {});
      } catch (IllegalStateException e) {
        refusals.add(e.getMessage());
      }
      return null;
    }));

    loop.run();

    assertThat(refusals).containsExactly("Tasko.addTask() adds to the default loop 'tasko', but"
        + " was called from the blocking work of task 'main' of loop 'greenhouse': call addTask()"
        + " on that loop (the task's loop.addTask(...))");
    assertThat(Tasko.defaultLoop().taskCount()).isZero();
  }

  @Test
  void moduleLevelFunctions_badArgumentFromAnotherLoop_refusedForTheArgumentFirst() {
    // A null or invalid argument is refused the same way wherever the call comes from, as by
    // Loop's own methods: the loop's refusal came first, hiding what was wrong with the call.
    Loop loop = Loop.builder().name("greenhouse").virtualTime().build();
    Duration s = Duration.ofSeconds(1);
    TaskBody body = () -> {};
    List<Runnable> calls = List.of(() -> Tasko.addTask((TaskBody) null),
        () -> Tasko.addTask((java.util.concurrent.Callable<?>) null),
        () -> Tasko.runLater(null, body), () -> Tasko.runLater(s, null),
        () -> Tasko.runLater(Duration.ofMillis(-1), body),
        () -> Tasko.schedule((Duration) null, body), () -> Tasko.schedule(s, null),
        () -> Tasko.schedule(Duration.ZERO, body),
        () -> Tasko.schedule((Rate) null, body), () -> Tasko.schedule(Rate.hz(1), null),
        () -> Tasko.scheduleLater((Duration) null, body), () -> Tasko.scheduleLater(s, null),
        () -> Tasko.scheduleLater((Rate) null, body),
        () -> Tasko.scheduleLater(Rate.hz(1), null),
        () -> Tasko.scheduleCallback((Duration) null, body),
        () -> Tasko.scheduleCallback(s, null), () -> Tasko.scheduleCallback((Rate) null, body),
        () -> Tasko.scheduleCallback(Rate.hz(1), null));
    List<String> expected = List.of("NullPointerException: body == null",
        "NullPointerException: body == null", "NullPointerException: delay == null",
        "NullPointerException: body == null", "IllegalArgumentException: delay < 0: PT-0.001S",
        "NullPointerException: interval == null", "NullPointerException: body == null",
        "IllegalArgumentException: interval <= 0: PT0S", "NullPointerException: rate == null",
        "NullPointerException: body == null", "NullPointerException: interval == null",
        "NullPointerException: body == null", "NullPointerException: rate == null",
        "NullPointerException: body == null", "NullPointerException: interval == null",
        "NullPointerException: callback == null", "NullPointerException: rate == null",
        "NullPointerException: callback == null");
    List<String> fromTask = new java.util.ArrayList<>();
    List<String> fromWork = new java.util.ArrayList<>();
    loop.addTask("main", () -> {
      calls.forEach(call -> fromTask.add(refusal(call)));
      Tasko.blocking(() -> {
        calls.forEach(call -> fromWork.add(refusal(call)));
        return null;
      });
    });

    loop.run();

    assertThat(fromTask).containsExactlyElementsOf(expected);
    assertThat(fromWork).containsExactlyElementsOf(expected);
    assertThat(Tasko.defaultLoop().taskCount()).isZero();
  }

  /** What {@code call} threw, as {@code "SimpleName: message"}. */
  private static String refusal(Runnable call) {
    try {
      call.run();
      return "nothing thrown";
    } catch (RuntimeException e) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
  }

  @Test
  void moduleLevelFunctions_fromATaskOfTheDefaultLoop_addToIt() {
    EventLog log = new EventLog();
    Tasko.addTask(() -> Tasko.addTask(() -> log.add("added by a task")));

    Tasko.run();

    log.assertTaken("added by a task");
  }

  @Test
  void sleep_badDuration_rejectedBeforeAnythingElse() {
    assertThatThrownBy(() -> Tasko.sleep(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration < 0: PT-0.001S");
    assertThatThrownBy(() -> Tasko.sleep(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("duration == null");
  }

  @Test
  void sleep_zero_isAYield() {
    Loop loop = Loop.create();
    EventLog log = new EventLog();
    loop.addTask(() -> {
      log.add("a");
      Tasko.sleep(Duration.ZERO);
      log.add("a again");
    });
    loop.addTask(() -> log.add("b"));

    loop.step();
    log.assertTaken("a", "b");
    loop.step();
    log.assertTaken("a again");
  }

  @Test
  void defaultLoop_moduleLevelFunctions_runOnIt() {
    EventLog log = new EventLog();
    Tasko.addTask(() -> log.add("task"));
    Tasko.runLater(Duration.ofMillis(1), () -> log.add("later"));
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = Tasko.schedule(Duration.ofMillis(1), () -> {
      log.add("scheduled");
      s[0].stop();
    });
    ScheduledTask[] c = new ScheduledTask[1];
    c[0] = Tasko.scheduleCallback(Duration.ofMillis(1), () -> {
      log.add("called back");
      c[0].stop();
    });

    Tasko.run();

    assertThat(log.take()).containsExactlyInAnyOrder("task", "scheduled", "later",
        "called back");
    assertThat(Tasko.defaultLoop()).isSameAs(Tasko.defaultLoop());
    assertThat(Tasko.defaultLoop().name()).isEqualTo("tasko");
  }

  @Test
  void publicTypes_areFinalOrInterfaces() {
    // Like trio: nothing here is designed for extension, so nothing can be subclassed.
    for (Class<?> c : List.of(Loop.class, Loop.Builder.class, Task.class, ScheduledTask.class,
        Suspension.class, ManagedResource.class, Handle.class, Lease.class, ManualTicker.class,
        IdleStrategy.class, Tasko.class, TaskFailedException.class, DeadlockException.class)) {
      assertThat(Modifier.isFinal(c.getModifiers())).as(c.getName()).isTrue();
    }
  }

  @Test
  void sleep_longerThanALongOfNanoseconds_sleepsUntilCancelled() {
    Loop loop = Loop.builder().virtualTime().build();
    EventLog log = new EventLog();
    Task<Void> sleeper = loop.addTask(() -> {
      try {
        Tasko.sleep(ChronoUnit.FOREVER.getDuration());
        log.add("woke");
      } catch (CancellationException e) {
        log.add("cancelled after " + Duration.ofNanos(loop.nanoTime()).toDays() + " days");
        throw e;
      }
    });
    loop.runLater(Duration.ofDays(365L * 200), sleeper::cancel);

    loop.run();

    log.assertTaken("cancelled after 73000 days");
    assertThat(sleeper.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void sleep_longerThanALongOfNanosecondsOnTheSystemClock_endsWhenCancelledFromAnotherThread()
      throws Exception {
    Loop real = Loop.create();
    EventLog log = new EventLog();
    CountDownLatch started = new CountDownLatch(1);
    Task<Void> sleeper = real.addTask(() -> {
      started.countDown();
      try {
        Tasko.sleep(ChronoUnit.FOREVER.getDuration());
      } catch (CancellationException e) {
        log.add("cancelled");
        throw e;
      }
    });
    Thread canceller = Thread.ofPlatform().start(() -> {
      try {
        started.await();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      sleeper.cancel();
    });

    real.run(); // idles until the last timer, at the end of time, or the cancel

    canceller.join();
    log.assertTaken("cancelled");
  }
}
