package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Loop.dump(): every task's state and cause, schedules, resources, from any thread. */
class LoopDumpTest {

  @Test
  void dump_runLaterBehindAnEarlierSleeper_showsItsOwnStart() {
    Loop loop = Loop.builder().name("dumped").virtualTime().noStallWarning().build();
    loop.addTask("sleeper", () -> Tasko.sleep(Duration.ofSeconds(1)));
    loop.runLater(Duration.ofSeconds(2), () -> {});
    loop.step();

    LoopDump.TaskEntry later = loop.dump().tasks().stream()
        .filter(e -> e.state() == Task.State.NEW).findFirst().orElseThrow();

    assertThat(later.waitsFor()).isEqualTo("its start, due in 2 s");
    loop.shutdown();
  }

  @Test
  void dump_tasksInEveryWaitState_namesEachStateAndCause() throws Exception {
    Loop loop = Loop.builder().name("dumped").virtualTime().noStallWarning().build();
    ManagedResource<String, Object> bus = ManagedResource.of("spi");
    Handle<String> a = bus.handle("a", null);
    Handle<String> b = bus.handle("b", null);
    Channel<String> lines = Channel.create("lines", 4);
    Event go = Event.create("go");
    Semaphore slots = Semaphore.create("slots", 1);
    CountDownLatch release = new CountDownLatch(1);

    Task<?> sleeper = loop.addTask("sleeper", () -> Tasko.sleep(Duration.ofSeconds(1)));
    loop.addTask("holder", () -> {
      try (Lease<String> l = a.acquire(); Permit p = slots.acquire()) {
        Tasko.sleep(Duration.ofSeconds(5));
      }
    });
    loop.addTask("busWaiter", () -> {
      try (Lease<String> l = b.acquire()) {
        l.resource();
      }
    });
    loop.addTask("taker", () -> lines.take());
    loop.addTask("eventWaiter", () -> go.await());
    loop.addTask("semWaiter", () -> slots.acquire().close());
    loop.addTask("joiner", () -> sleeper.join());
    loop.addTask("grouper", () -> {
      try (TaskGroup g = TaskGroup.open("crew")) {
        g.add("child", () -> Tasko.sleep(Duration.ofSeconds(2)));
      }
    });
    loop.addTask("suspended", () -> Tasko.suspend("a wire").await());
    loop.addTask("patient", () -> go.await(Duration.ofSeconds(3)));
    loop.addTask("blocker", () -> Tasko.blocking(() -> {
      release.await();
      return null;
    }));
    loop.schedule("button", Duration.ofMillis(10), () -> {});
    loop.step();
    loop.step();

    LoopDump dump = loop.dump();

    assertThat(dump.complete()).isTrue();
    Map<String, LoopDump.TaskEntry> byName = dump.tasks().stream()
        .collect(Collectors.toMap(LoopDump.TaskEntry::name, Function.identity()));
    assertThat(byName.get("sleeper").waitsFor()).isEqualTo("a timer, due in 1 s");
    assertThat(byName.get("holder").holds()).hasSize(2);
    assertThat(byName.get("holder").holds().get(0)).startsWith("lease of a on spi for ");
    assertThat(byName.get("holder").holds().get(1)).contains("slots");
    assertThat(byName.get("busWaiter").waitsFor())
        .isEqualTo("resource 'spi' through b (held by task 'holder' through a)");
    assertThat(byName.get("taker").waitsFor()).contains("channel 'lines'");
    assertThat(byName.get("eventWaiter").waitsFor()).contains("event 'go'");
    assertThat(byName.get("semWaiter").waitsFor()).contains("semaphore 'slots'");
    assertThat(byName.get("joiner").waitsFor()).isEqualTo("task 'sleeper' to finish (join)");
    assertThat(byName.get("grouper").waitsFor()).contains("crew");
    assertThat(byName.get("suspended").waitsFor()).isEqualTo("a wire");
    assertThat(byName.get("patient").waitsFor())
        .isEqualTo("event 'go', or its timeout due in 3 s");
    assertThat(byName.get("blocker").waitsFor()).contains("blocking");
    assertThat(byName.get("child").state()).isEqualTo(Task.State.WAITING);
    for (LoopDump.TaskEntry t : dump.tasks()) {
      assertThat(t.state()).as(t.name()).isEqualTo(Task.State.WAITING);
      assertThat(t.since()).as(t.name()).isPresent();
      assertThat(t.stack()).as(t.name()).isNotEmpty();
    }
    assertThat(byName.get("sleeper").stack().toString()).contains("Tasko.sleep");
    assertThat(dump.schedules()).singleElement().satisfies(s -> {
      assertThat(s.name()).isEqualTo("button");
      assertThat(s.stats().runs()).isEqualTo(1);
    });
    assertThat(dump.resources()).singleElement().satisfies(r -> {
      assertThat(r.name()).isEqualTo("spi");
      assertThat(r.holder()).contains("task 'holder' through a");
      assertThat(r.waiters()).containsExactly("task 'busWaiter' through b");
    });
    assertThat(dump.toString()).contains("\"busWaiter\" WAITING for resource 'spi'",
        "holds lease of a on spi", "dev.tasko.Tasko.sleep(", "Schedules:",
        "\"button\" every 10 ms", "Resources:", "spi: held by task 'holder' through a");

    release.countDown();
    loop.shutdown();
  }

  @Test
  void dump_sleeperAfterVirtualTime_saysSinceWhen() {
    Loop loop = Loop.builder().virtualTime().noStallWarning().build();
    loop.runLater(Duration.ofMillis(300), () -> {
      LoopDump d = Tasko.currentTask().loop().dump();
      LoopDump.TaskEntry sleeper = d.tasks().stream().filter(t -> t.name().equals("napper"))
          .findFirst().orElseThrow();
      assertThat(sleeper.since()).contains(Duration.ofMillis(300));
      assertThat(d.tasks()).anySatisfy(t -> assertThat(t.state()).isEqualTo(Task.State.RUNNING));
    });
    loop.addTask("napper", () -> Tasko.sleep(Duration.ofSeconds(1)));
    loop.run();
  }

  @Test
  void dump_waitBegunInTheFirstPass_datesFromThatPassNotFromTheClocksOrigin() {
    ManualTicker clock = new ManualTicker();
    clock.advance(Duration.ofHours(1));
    Loop loop = Loop.builder().ticker(clock).noStallWarning().build();
    loop.addTask("waiter", () -> Tasko.suspend("a wire").await());
    loop.step();
    clock.advance(Duration.ofMillis(5));

    LoopDump.TaskEntry waiter = loop.dump().tasks().get(0);

    assertThat(waiter.since()).contains(Duration.ofMillis(5));
    loop.shutdown();
  }

  @Test
  void dump_taskWaitingForItsSwallowedCancellationAgain_datesFromThatWait() {
    // From a hostile test: the wait before a cancellation is thrown again (after the first three)
    // kept the date of the task's earlier sleep.
    ManualTicker clock = new ManualTicker();
    Loop loop = Loop.builder().ticker(clock).noStallWarning()
        .failureHandler(FailureHandler.logAndContinue()).build();
    Task<Void> swallower = loop.addTask("swallower", () -> {
      for (int i = 0; i < 5; i++) {
        try {
          Tasko.sleep(Duration.ofHours(1));
        } catch (java.util.concurrent.CancellationException swallowed) {
          // swallowed: thrown again at the next suspension point
        }
      }
    });
    loop.step(); // sleeps from 0
    clock.advance(Duration.ofMinutes(10));
    swallower.cancel();
    loop.step(); // thrown three times at once; the fourth waits, from 10 min

    LoopDump.TaskEntry waiting = loop.dump().tasks().get(0);

    assertThat(waiting.state()).isEqualTo(Task.State.WAITING);
    assertThat(waiting.since()).contains(Duration.ZERO);
    for (int i = 0; i < 10 && !swallower.isDone(); i++) { // a manual clock moves only when told
      clock.advance(Duration.ofSeconds(1));
      loop.step();
    }
    assertThat(swallower.isDone()).isTrue();
  }

  @Test
  @Tag("realtime")
  @Timeout(30) // a hang fails instead of holding up the build
  void dump_loopStuckInATask_isIncompleteAndShowsThatTask() throws Exception {
    Loop loop = Loop.builder().noStallWarning().build();
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    loop.addTask("blocker", () -> {
      started.countDown();
      release.await(); // blocks the loop: no suspension point
    });
    loop.addTask("other", () -> Tasko.sleep(Duration.ofMillis(1)));
    Thread driver = new Thread(loop::run);
    driver.start();
    started.await();

    LoopDump dump = loop.dump(); // waits its second, then gives up

    release.countDown();
    driver.join();
    assertThat(dump.complete()).isFalse();
    assertThat(dump.tasks()).singleElement().satisfies(t -> {
      assertThat(t.name()).isEqualTo("blocker");
      assertThat(t.state()).isEqualTo(Task.State.RUNNING);
      assertThat(t.stack().toString()).contains("CountDownLatch.await");
    });
    assertThat(dump.toString()).contains("(incomplete: the loop did not answer");
  }

  @Test
  void dump_fromAnotherThreadWhileRunning_isTakenOnTheLoop() throws Exception {
    Loop loop = Loop.builder().name("busy").noStallWarning().build();
    CountDownLatch parked = new CountDownLatch(1);
    Suspension[] wire = new Suspension[1];
    loop.addTask("waiter", () -> {
      wire[0] = Tasko.suspend("a wire");
      parked.countDown();
      wire[0].await();
    });
    Thread driver = new Thread(loop::run);
    driver.start();
    parked.await();

    LoopDump dump = loop.dump();

    assertThat(dump.complete()).isTrue();
    assertThat(dump.tasks()).singleElement().satisfies(t -> {
      assertThat(t.name()).isEqualTo("waiter");
      assertThat(t.waitsFor()).isEqualTo("a wire");
    });
    wire[0].resume();
    driver.join();
  }

  @Test
  void dump_ofAnEndedLoopWhoseResourceAnotherLoopTookOver_leavesItOut() {
    ManagedResource<String, Object> bus = ManagedResource.of("spi");
    Loop first = Loop.builder().name("first").virtualTime().build();
    first.addTask("once", () -> {
      try (Lease<String> l = bus.handle("a", null).acquire()) {
        Tasko.yieldNow();
      }
    });
    first.run(); // ended, the bus free: another loop may take it over
    Loop second = Loop.builder().name("second").virtualTime().build();
    second.addTask("holder", () -> {
      try (Lease<String> l = bus.handle("b", null).acquire()) {
        Tasko.sleep(Duration.ofHours(1));
      }
    });
    second.step(); // the bus is the second loop's, held by its task

    // Before: the first loop's dump read the bus as it is now, the second loop's (its holder,
    // its waiters), unguarded: a ConcurrentModificationException while the second loop ran.
    assertThat(first.dump().resources()).isEmpty();
    assertThat(second.dump().resources()).singleElement()
        .satisfies(r -> assertThat(r.name()).isEqualTo("spi"));
    second.shutdown();
  }
}
