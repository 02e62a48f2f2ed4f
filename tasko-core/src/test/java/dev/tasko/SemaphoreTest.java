package dev.tasko;

import dev.tasko.testsupport.EventLog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

class SemaphoreTest {
  private final Loop loop = Loop.builder().virtualTime().build();
  private final EventLog log = new EventLog();

  private String now() {
    return Duration.ofNanos(loop.nanoTime()).toString();
  }

  private TaskBody convert(Semaphore slots, String name, Duration time) {
    return () -> {
      try (Permit p = slots.acquire()) {
        log.add(name + " in@" + now());
        Tasko.sleep(time);
      }
    };
  }

  @Test
  void acquire_atMostPermitsHoldersAtOnce_othersWaitTheirTurnInOrder() {
    Semaphore slots = Semaphore.create("i2c-slots", 2);
    loop.addTask("a", convert(slots, "a", Duration.ofSeconds(3)));
    loop.addTask("b", convert(slots, "b", Duration.ofSeconds(1)));
    loop.addTask("c", convert(slots, "c", Duration.ofSeconds(1)));
    loop.addTask("d", convert(slots, "d", Duration.ofSeconds(1)));

    loop.run();

    log.assertTaken("a in@PT0S", "b in@PT0S", "c in@PT1S", "d in@PT2S");
    assertThat(slots.available()).isEqualTo(2);
  }

  @Test
  void close_andAcquireAgainAtOnce_queuesBehindTheWaiters_noBarging() {
    Semaphore one = Semaphore.create("radio", 1);
    loop.addTask("greedy", () -> {
      Permit p = one.acquire();
      Tasko.sleep(Duration.ofSeconds(1));
      p.close(); // handed straight to "patient"
      assertThat(one.tryAcquire()).isNull();
      try (Permit again = one.acquire()) {
        log.add("greedy again@" + now());
      }
    });
    loop.addTask("patient", () -> {
      try (Permit p = one.acquire()) {
        log.add("patient@" + now());
        Tasko.sleep(Duration.ofSeconds(1));
      }
    });

    loop.run();

    log.assertTaken("patient@PT1S", "greedy again@PT2S");
  }

  @Test
  void tryAcquire_freePermit_takenWithoutSuspending_noneFree_null() {
    Semaphore two = Semaphore.create(2);
    loop.addTask(() -> {
      Permit a = two.tryAcquire();
      Permit b = two.tryAcquire();
      log.add("a=" + (a != null) + " b=" + (b != null) + " c=" + two.tryAcquire()
          + " available=" + two.available());
      a.close();
      a.close(); // releases once
      log.add("available=" + two.available());
      b.close();
    });

    loop.run();

    log.assertTaken("a=true b=true c=null available=0", "available=1");
    assertThat(two.available()).isEqualTo(2);
  }

  @Test
  void acquire_waiterCancelled_leavesTheQueue_nextWaiterServed() {
    Semaphore one = Semaphore.create("radio", 1);
    loop.addTask("holder", convert(one, "holder", Duration.ofSeconds(2)));
    Task<Void> victim = loop.addTask("victim", () -> {
      try {
        one.acquire();
      } catch (CancellationException e) {
        log.add("victim cancelled@" + now());
        throw e;
      }
    });
    loop.addTask("next", convert(one, "next", Duration.ofSeconds(1)));
    loop.runLater(Duration.ofSeconds(1), victim::cancel);

    loop.run();

    log.assertTaken("holder in@PT0S", "victim cancelled@PT1S", "next in@PT2S");
    assertThat(one.available()).isEqualTo(1);
  }

  @Test
  void acquire_cancelledJustAfterBeingHandedThePermit_passesItOn() {
    Semaphore one = Semaphore.create("radio", 1);
    Task<?>[] victim = new Task<?>[1];
    loop.addTask("holder", () -> {
      Permit p = one.acquire();
      Tasko.sleep(Duration.ofSeconds(1));
      p.close(); // handed to the victim, which is now ready...
      victim[0].cancel(); // ...and cancelled before it runs
    });
    victim[0] = loop.addTask("victim", () -> {
      one.acquire();
      log.add("victim got it");
    });
    loop.addTask("next", convert(one, "next", Duration.ofSeconds(1)));

    loop.run();

    log.assertTaken("next in@PT1S");
    assertThat(victim[0].state()).isEqualTo(Task.State.CANCELLED);
    assertThat(one.available()).isEqualTo(1);
  }

  @Test
  void acquire_insideWithTimeout_timesOut() {
    Semaphore one = Semaphore.create("radio", 1);
    loop.addTask("holder", convert(one, "holder", Duration.ofSeconds(5)));
    loop.addTask(() -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), () -> one.acquire().close());
      } catch (TimeoutException e) {
        log.add("gave up@" + now());
      }
    });

    loop.run();

    log.assertTaken("holder in@PT0S", "gave up@PT1S");
  }

  @Test
  void taskEndsHoldingAPermit_releasedWithAWarning_nextWaiterServed() {
    try (LogCapture capture = new LogCapture(Level.INFO, r -> {})) {
      Semaphore one = Semaphore.create("radio", 1);
      loop.addTask("forgetful", () -> {
        one.acquire();
        Tasko.sleep(Duration.ofSeconds(1));
      });
      loop.addTask("next", convert(one, "next", Duration.ofSeconds(1)));

      loop.run();

      log.assertTaken("next in@PT1S");
      assertThat(capture.messages(Level.WARNING)).filteredOn(m -> m.contains("ended holding"))
          .singleElement().asString()
          .startsWith("loop '" + loop.name() + "': task 'forgetful' ended holding permit of "
              + "semaphore 'radio'")
          .endsWith("; releasing it");
      assertThat(one.available()).isEqualTo(1);
    }
  }

  @Test
  void deadlock_reportNamesTheSemaphore() {
    Semaphore one = Semaphore.create("i2c-slots", 1);
    loop.addTask("twice", () -> {
      Permit a = one.acquire();
      Permit b = one.acquire(); // waits for itself
    });

    assertThatThrownBy(loop::run).isInstanceOf(DeadlockException.class)
        .hasMessageContaining("task 'twice' waits for semaphore 'i2c-slots' (0 of 1 free)");
  }

  @Test
  void waitingTask_toStringNamesTheSemaphore() {
    Semaphore slots = Semaphore.create("i2c-slots", 2);
    loop.addTask(convert(slots, "a", Duration.ofSeconds(1)));
    loop.addTask(convert(slots, "b", Duration.ofSeconds(1)));
    Task<Void> c = loop.addTask("c", convert(slots, "c", Duration.ofSeconds(1)));
    loop.step();

    assertThat(c).hasToString("Task[c WAITING for semaphore 'i2c-slots' (0 of 2 free)]");
    assertThat(Semaphore.create(3)).hasToString("semaphore (3 of 3 free)");
    loop.run();
  }

  @Test
  void permit_closedOutsideATaskOrFromAnotherLoop_illegalState() {
    Semaphore one = Semaphore.create("radio", 1);
    Task<Permit> t = loop.addTask(() -> one.acquire());
    loop.run();
    Permit p = t.join(); // released already, as its task ended holding it

    assertThatThrownBy(p::close).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("close() of semaphore 'radio' (1 of 1 free) must be called from "
            + "a task of loop '" + loop.name() + "'");
    Loop other = Loop.builder().name("other").virtualTime().build();
    Task<Void> stranger = other.addTask(() -> {
      one.acquire();
    });
    assertThatThrownBy(other::run).isInstanceOf(TaskFailedException.class);
    assertThatThrownBy(stranger::join).cause().isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("belongs to loop '" + loop.name() + "'");
  }

  @Test
  void acquireAndClose_fromALoopOfTheSameName_messagesSayItIsAnotherLoop() {
    // From a hostile review: "belongs to loop 'bus'; it cannot be acquired from a task of loop
    // 'bus'" read as a contradiction.
    Loop first = Loop.builder().name("bus").virtualTime().build();
    Loop second = Loop.builder().name("bus").virtualTime().build();
    Semaphore one = Semaphore.create("radio", 1);
    Task<Permit> held = first.addTask("holder", () -> one.acquire());
    first.run();
    Permit p = held.join();
    List<String> refusals = new ArrayList<>();
    second.addTask("stranger", () -> {
      for (Runnable call : List.<Runnable>of(p::close, () -> one.acquire())) {
        try {
          call.run();
        } catch (IllegalStateException e) {
          refusals.add(e.getMessage());
        }
      }
    });
    second.run();

    assertThat(refusals).hasSize(2);
    assertThat(refusals.get(0)).startsWith("close() of semaphore 'radio' (1 of 1 free) must be"
            + " called from a task of loop 'bus'; current thread: ")
        .endsWith(", of task 'stranger' of another loop also named 'bus'");
    assertThat(refusals.get(1)).isEqualTo("semaphore 'radio' (1 of 1 free) belongs to loop 'bus';"
        + " it cannot be acquired from a task of another loop also named 'bus'");
  }

  @Test
  void badInput_clearExceptions() {
    assertThatThrownBy(() -> Semaphore.create(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("permits < 1: 0");
    assertThatThrownBy(() -> Semaphore.create("x", -2))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("permits < 1: -2");
    assertThatThrownBy(() -> Semaphore.create(null, 1)).isInstanceOf(NullPointerException.class)
        .hasMessage("name == null");
    Semaphore s = Semaphore.create(1);
    assertThatThrownBy(s::acquire).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("acquire() must be called from a task of a running loop");
    assertThatThrownBy(s::tryAcquire).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("tryAcquire() must be called from a task of a running loop");
  }
}
