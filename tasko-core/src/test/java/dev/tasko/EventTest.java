package dev.tasko;

import dev.tasko.testsupport.EventLog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;

class EventTest {
  private final Loop loop = Loop.builder().virtualTime().build();
  private final EventLog log = new EventLog();

  private String now() {
    return Duration.ofNanos(loop.nanoTime()).toString();
  }

  @Test
  void set_wakesEveryWaiter_inTheOrderTheyBeganToWait() {
    Event ready = Event.create("ready");
    for (String name : new String[] {"a", "b", "c"}) {
      loop.addTask(name, () -> {
        ready.await();
        log.add(name + "@" + now());
      });
    }
    loop.runLater(Duration.ofSeconds(1), ready::set);

    loop.run();

    log.assertTaken("a@PT1S", "b@PT1S", "c@PT1S");
  }

  @Test
  void await_whenSet_returnsAtOnceWithoutYielding() {
    Event ready = Event.create();
    ready.set();
    loop.addTask(() -> {
      ready.await();
      log.add("first passed");
    });
    loop.addTask(() -> log.add("second"));

    loop.step();

    log.assertTaken("first passed", "second");
  }

  @Test
  void clear_laterWaitsWaitForTheNextSet() {
    Event ready = Event.create("ready");
    loop.addTask(() -> {
      ready.await();
      log.add("1st@" + now());
      ready.clear();
      ready.await();
      log.add("2nd@" + now());
    });
    loop.runLater(Duration.ofSeconds(1), ready::set);
    loop.runLater(Duration.ofSeconds(2), ready::set);

    loop.run();

    log.assertTaken("1st@PT1S", "2nd@PT2S");
    assertThat(ready.isSet()).isTrue();
  }

  @Test
  void set_thenClearBeforeTheWaitersRun_theyStillWake() {
    Event ready = Event.create();
    loop.addTask("waiter", () -> {
      ready.await();
      log.add("woke, set=" + ready.isSet());
    });
    loop.runLater(Duration.ofSeconds(1), () -> {
      ready.set();
      ready.clear();
    });

    loop.run();

    log.assertTaken("woke, set=false");
  }

  @Test
  void awaitWithTimeout_timesOut_returnsFalse_andLeavesTheWaiters() {
    Event ready = Event.create("ready");
    loop.addTask(() -> log.add("impatient: " + ready.await(Duration.ofSeconds(1)) + "@" + now()));
    loop.addTask(() -> log.add("patient: " + ready.await(Duration.ofSeconds(5)) + "@" + now()));
    loop.runLater(Duration.ofSeconds(2), ready::set);

    loop.run();

    log.assertTaken("impatient: false@PT1S", "patient: true@PT2S");
  }

  @Test
  void await_waiterCancelled_leavesTheQueue_othersStillWoken() {
    Event ready = Event.create("ready");
    Task<Void> victim = loop.addTask("victim", () -> {
      try {
        ready.await();
      } catch (CancellationException e) {
        log.add("victim cancelled@" + now());
        throw e;
      }
    });
    loop.addTask("other", () -> {
      ready.await();
      log.add("other woke@" + now());
    });
    loop.runLater(Duration.ofSeconds(1), victim::cancel);
    loop.runLater(Duration.ofSeconds(2), ready::set);

    loop.run();

    log.assertTaken("victim cancelled@PT1S", "other woke@PT2S");
    assertThat(victim.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void await_insideWithTimeout_timesOut() {
    Event ready = Event.create("ready");
    loop.addTask(() -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> ready.await());
      } catch (TimeoutException e) {
        log.add("timed out@" + now());
      }
    });

    loop.run();

    log.assertTaken("timed out@PT1S");
  }

  @Test
  void set_fromAForeignThread_wakesTheIdleLoop() throws Exception {
    Event ready = Event.create("ready");
    Task<Void> waiter = loop.addTask("waiter", () -> {
      ready.await();
      log.add("woke");
    });
    Thread setter = Thread.ofPlatform().start(() -> {
      while (waiter.state() != Task.State.WAITING) {
        Thread.onSpinWait(); // until the loop idles with the task parked on the event
      }
      ready.set();
    });

    loop.run(); // a wait on an event is not a deadlock: the loop waits for the setter

    setter.join();
    log.assertTaken("woke");
  }

  @Test
  void waitingTask_toStringNamesTheEvent() {
    Event ready = Event.create("ready");
    Task<Void> waiter = loop.addTask("waiter", () -> ready.await());
    loop.step();

    assertThat(waiter).hasToString("Task[waiter WAITING for event 'ready']");
    assertThat(Event.create()).hasToString("event");
    ready.set();
    assertThat(ready).hasToString("event 'ready' (set)");
    loop.run();
  }

  @Test
  void badInput_clearExceptions() {
    assertThatThrownBy(() -> Event.create(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("name == null");
    Event e = Event.create();
    assertThatThrownBy(e::await).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("await() must be called from a task of a running loop");
    loop.addTask(() -> {
      assertThatThrownBy(() -> e.await(null)).isInstanceOf(NullPointerException.class)
          .hasMessageContaining("timeout");
      assertThatThrownBy(() -> e.await(Duration.ofMillis(-1)))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("timeout < 0: PT-0.001S");
      log.add("checked");
    });
    loop.run();
    log.assertTaken("checked");
  }

  @Test
  void await_timeoutLongerThanALongOfNanoseconds_waitsForTheSet() {
    Event event = Event.create();
    loop.addTask(() -> log.add("set: " + event.await(ChronoUnit.FOREVER.getDuration())));
    loop.runLater(Duration.ofDays(365L * 200), event::set);

    loop.run();

    log.assertTaken("set: true");
  }
}
