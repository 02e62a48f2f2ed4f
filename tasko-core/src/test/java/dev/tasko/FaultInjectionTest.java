package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every suspension point a task has and every user callback the loop calls, each hit with every
 * kind of fault: a RuntimeException, an Error, a cancellation and a thread interrupt. Whatever the
 * pair, the loop must not hang or spin (a 100 Hz heartbeat keeps its exact rate on virtual time),
 * every task must end, no resource may stay held or waited for, an injected exception must surface
 * exactly once (in the failure handler, or thrown by {@code run()} when it came from the handler
 * itself), and the loop must be usable afterwards.
 *
 * <p>At a suspension point, a cancellation or an interrupt arrives from another task while the
 * victim waits there; an exception is thrown by the victim as the suspension returns. In a
 * callback, the callback itself throws, cancels its own task, or interrupts its own thread.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class FaultInjectionTest {

  enum Fault { RUNTIME_EXCEPTION, ERROR, CANCELLATION, INTERRUPT }

  enum Site {
    // suspension points
    SLEEP, YIELD, AWAIT, AWAIT_TIMEOUT, JOIN, ACQUIRE_BUSY, SLEEP_HOLDING_LEASE,
    // callbacks
    TASK_BODY, ON_ACQUIRE, ON_RELEASE, ON_RELEASE_OF_FORGOTTEN_LEASE, FAILURE_HANDLER,
    SCHEDULE_BODY;

    boolean isSuspensionPoint() {
      return ordinal() <= SLEEP_HOLDING_LEASE.ordinal();
    }
  }

  static Stream<Arguments> everySiteAndFault() {
    List<Arguments> all = new ArrayList<>();
    for (Site s : Site.values()) {
      for (Fault f : Fault.values()) {
        all.add(Arguments.of(s, f));
      }
    }
    return all.stream();
  }

  private static Duration ms(long n) {
    return Duration.ofMillis(n);
  }

  /** One scenario: a victim task meeting the fault at the site, among bystanders. */
  private static final class Scenario {
    final Site site;
    final Fault fault;
    final List<Throwable> handled = new ArrayList<>();
    final List<Throwable> runThrew = new ArrayList<>();
    final AtomicInteger beats = new AtomicInteger();
    Throwable injected;
    boolean armed;
    Boolean interruptSeen;
    final Loop loop;
    final ManagedResource<String, String> bus;
    final List<Handle<String>> handles = new ArrayList<>();
    final List<ScheduledTask> schedules = new ArrayList<>();
    Task<Void> victim;

    Scenario(Site site, Fault fault) {
      this.site = site;
      this.fault = fault;
      this.loop = Loop.builder().name("faults").virtualTime().failureHandler((task, failure) -> {
        handled.add(failure);
        if (site == Site.FAILURE_HANDLER && task == victim && armed) {
          armed = false;
          inject();
          Tasko.sleep(ms(1)); // the handler suspends too: a pending cancel or interrupt meets it
        }
      }).build();
      this.bus = ManagedResource.of("bus", "spi", cs -> {
        if (site == Site.ON_ACQUIRE && armed) {
          armed = false;
          inject();
        }
      }, cs -> {
        if ((site == Site.ON_RELEASE || site == Site.ON_RELEASE_OF_FORGOTTEN_LEASE) && armed) {
          armed = false;
          inject();
        }
      });
    }

    Handle<String> handle(String context) {
      Handle<String> h = bus.handle(context);
      handles.add(h);
      return h;
    }

    /** The fault, raised by the code that meets it. */
    void inject() {
      switch (fault) {
        case RUNTIME_EXCEPTION -> {
          IllegalStateException e = new IllegalStateException("injected at " + site);
          injected = e;
          throw e;
        }
        case ERROR -> {
          AssertionError e = new AssertionError("injected at " + site);
          injected = e;
          throw e;
        }
        case CANCELLATION -> Tasko.currentTask().cancel();
        case INTERRUPT -> Thread.currentThread().interrupt();
      }
    }

    /** Right after a suspension point returns: exceptions are thrown here; interrupts looked at. */
    void afterSuspension() {
      if (fault == Fault.INTERRUPT) {
        interruptSeen = Thread.interrupted();
      } else if (fault == Fault.RUNTIME_EXCEPTION || fault == Fault.ERROR) {
        inject();
      }
    }

    void build() {
      schedules.add(loop.schedule("heartbeat", ms(10), beats::incrementAndGet));
      loop.runLater("end", ms(100), () -> loop.stop());
      Task<Void> other = loop.addTask("other", () -> Tasko.sleep(ms(10)));
      if (site == Site.ACQUIRE_BUSY) {
        Handle<String> h = handle("holder");
        loop.addTask("holder", () -> {
          try (Lease<String> l = h.acquire()) {
            Tasko.sleep(ms(10));
          }
        });
      }
      Handle<String> mine = handle("victim");
      victim = loop.addTask("victim", () -> {
        switch (site) {
          case SLEEP -> {
            Tasko.sleep(ms(10));
            afterSuspension();
          }
          case YIELD -> {
            Tasko.yieldNow(); // the injector, next in the pass, strikes while the victim waits here
            afterSuspension();
          }
          case AWAIT -> {
            Suspension s = Tasko.suspend("resumer");
            loop.runLater(ms(10), s::resume);
            s.await();
            afterSuspension();
          }
          case AWAIT_TIMEOUT -> {
            Tasko.suspend("nobody").await(ms(10));
            afterSuspension();
          }
          case JOIN -> {
            other.join();
            afterSuspension();
          }
          case ACQUIRE_BUSY -> {
            try (Lease<String> l = mine.acquire()) {
              afterSuspension();
            }
          }
          case SLEEP_HOLDING_LEASE -> {
            try (Lease<String> l = mine.acquire()) {
              Tasko.sleep(ms(10));
              afterSuspension();
            }
          }
          case TASK_BODY -> {
            armed = false;
            inject();
          }
          case ON_ACQUIRE -> {
            try (Lease<String> l = mine.acquire()) {
              Tasko.yieldNow();
            }
          }
          case ON_RELEASE -> {
            try (Lease<String> l = mine.acquire()) {
              Tasko.yieldNow();
            }
          }
          case ON_RELEASE_OF_FORGOTTEN_LEASE -> mine.acquire();
          case FAILURE_HANDLER -> throw new IllegalStateException("the victim's own failure");
          case SCHEDULE_BODY -> {
            int[] runs = {0};
            schedules.add(loop.schedule("victim-schedule", ms(10), () -> {
              if (++runs[0] == 3) {
                inject();
                Tasko.sleep(ms(1));
              }
            }));
          }
        }
        Tasko.sleep(ms(1)); // one more suspension point: a pending cancellation lands here
      });
      armed = true;
      if (site.isSuspensionPoint()
          && (fault == Fault.CANCELLATION || fault == Fault.INTERRUPT)) {
        TaskBody strike = () -> {
          if (fault == Fault.CANCELLATION) {
            victim.cancel();
          } else {
            victim.thread.interrupt();
          }
        };
        if (site == Site.YIELD) {
          loop.addTask("injector", strike); // virtual time stands still while a task is ready
        } else {
          loop.runLater("injector", ms(5), strike);
        }
      }
    }

    void runToTheEnd() {
      for (int i = 0; i < 10; i++) {
        try {
          loop.run();
          break;
        } catch (Throwable t) {
          runThrew.add(t);
        }
      }
    }
  }

  @ParameterizedTest(name = "{1} at {0}")
  @MethodSource("everySiteAndFault")
  void fault_atAnySite_loopKeepsItsInvariants(Site site, Fault fault) throws Exception {
    Scenario s = new Scenario(site, fault);
    try (LogCapture logs = new LogCapture(Level.OFF, r -> {})) {
      s.build();
      s.runToTheEnd();

      // Nothing hung or spun: the heartbeat kept its exact rate until the stop at 100 ms.
      assertThat(s.beats.get()).as("heartbeat runs").isBetween(10, 11);

      // Every task ends once the schedules are cancelled.
      for (ScheduledTask schedule : s.schedules) {
        schedule.cancel();
      }
      s.loop.run();
      assertThat(s.loop.taskCount()).as("tasks left").isZero();
      assertThat(s.victim.isDone()).isTrue();

      // No resource held or waited for; no handle active.
      Task<Boolean> free = s.loop.addTask(() ->
          s.bus.holder().isEmpty() && s.bus.waiting().isEmpty());
      s.loop.run();
      assertThat(free.join()).as("bus free").isTrue();
      assertThat(s.handles).noneMatch(Handle::isActive);

      // An injected exception surfaces exactly once.
      if (s.injected != null) {
        long inHandler = s.handled.stream().filter(f -> f == s.injected).count();
        long fromRun = s.runThrew.stream().filter(f -> f == s.injected).count();
        assertThat(inHandler + fromRun).as("times " + s.injected + " surfaced").isEqualTo(1);
      }
      if (fault == Fault.RUNTIME_EXCEPTION || fault == Fault.ERROR) {
        assertThat(s.injected).as("the fault was met").isNotNull();
      }
      // A cancellation is never reported as a failure of the cancelled task.
      assertThat(s.handled).noneMatch(f -> f instanceof CancellationException);
      if (site.isSuspensionPoint() && fault == Fault.CANCELLATION) {
        assertThat(s.victim.state()).isEqualTo(Task.State.CANCELLED);
      }
      if (site.isSuspensionPoint() && fault == Fault.INTERRUPT) {
        assertThat(s.interruptSeen).as("the task found its interrupt flag set").isTrue();
        assertThat(s.victim.state()).isEqualTo(Task.State.SUCCEEDED);
      }

      // Still usable.
      Task<String> after = s.loop.addTask(() -> {
        Tasko.sleep(ms(1));
        return "fine";
      });
      s.loop.run();
      assertThat(after.join()).isEqualTo("fine");
    }
  }
}
