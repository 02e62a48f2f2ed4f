package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/** ManagedResource.withHoldLimit: a lease held too long is reported once, never broken. */
class HoldLimitTest {

  @Test
  void holdLimit_leaseHeldLonger_reportedOnceWithHolderStackAndWaiters() {
    try (LogCapture log = new LogCapture(Level.INFO, r -> {})) {
      Loop loop = Loop.builder().name("held").virtualTime().noStallWarning().build();
      ManagedResource<String, Object> bus =
          ManagedResource.of("spi").withHoldLimit(Duration.ofMillis(100));
      Handle<String> a = bus.handle("a", null);
      Handle<String> b = bus.handle("b", null);
      StringBuilder events = new StringBuilder();
      loop.addTask("holder", () -> {
        try (Lease<String> l = a.acquire()) {
          Tasko.sleep(Duration.ofMillis(250));
          events.append("holder still holds;");
        }
      });
      loop.runLater("waiter", Duration.ofMillis(10), () -> {
        try (Lease<String> l = b.acquire()) {
          events.append("waiter got it;");
          Tasko.sleep(Duration.ofMillis(50)); // under the limit: no report
        }
      });

      loop.run();

      List<String> reports = log.messages(Level.WARNING).stream()
          .filter(m -> m.contains("hold limit")).toList();
      assertThat(reports).singleElement().satisfies(m -> {
        assertThat(m).startsWith("loop 'held': task 'holder' has held resource 'spi' through a "
            + "for 100 ms, over its hold limit of 100 ms; waiting: task 'waiter' through b.");
        assertThat(m).contains("not broken", "\tat ", "dev.tasko.Tasko.sleep(",
            "HoldLimitTest.lambda$");
      });
      assertThat(events).hasToString("holder still holds;waiter got it;");
      assertThat(bus.longestHold()).isEqualTo(Duration.ofMillis(250));
      assertThat(bus.holdLimit()).contains(Duration.ofMillis(100));
    }
  }

  @Test
  void holdLimit_noLimit_noReportAndLongestHoldWithinAPass() {
    try (LogCapture log = new LogCapture(Level.INFO, r -> {})) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      ManagedResource<String, Object> bus = ManagedResource.of("spi");
      Handle<String> a = bus.handle("a", null);
      loop.addTask("holder", () -> {
        try (Lease<String> l = a.acquire()) {
          Tasko.sleep(Duration.ofSeconds(3));
        }
      });
      loop.run();
      assertThat(log.messages(Level.WARNING)).noneMatch(m -> m.contains("hold limit"));
      assertThat(bus.longestHold()).isEqualTo(Duration.ofSeconds(3));
      assertThat(bus.holdLimit()).isEmpty();
    }
  }

  @Test
  void holdLimit_eachLeaseOverTheLimit_eachReportedOnce() {
    try (LogCapture log = new LogCapture(Level.INFO, r -> {})) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      ManagedResource<String, Object> bus =
          ManagedResource.of("spi").withHoldLimit(Duration.ofMillis(10));
      Handle<String> a = bus.handle("a", null);
      loop.addTask("holder", () -> {
        for (int i = 0; i < 3; i++) {
          try (Lease<String> l = a.acquire()) {
            Tasko.sleep(Duration.ofMillis(100));
          }
        }
      });
      loop.run();
      assertThat(log.messages(Level.WARNING)).filteredOn(m -> m.contains("hold limit"))
          .hasSize(3);
    }
  }

  @Test
  void holdLimit_raisedWhileLeaseHeld_reportNamesTheLimitTheLeaseWasAcquiredUnder() {
    // withHoldLimit applies to leases acquired after it: the lease taken under 100 ms is reported
    // at 100 ms, and its report must say 100 ms, not the 10 s set since.
    try (LogCapture log = new LogCapture(Level.INFO, r -> {})) {
      Loop loop = Loop.builder().name("raised").virtualTime().noStallWarning().build();
      ManagedResource<String, Object> bus =
          ManagedResource.of("spi").withHoldLimit(Duration.ofMillis(100));
      Handle<String> a = bus.handle("a", null);
      loop.addTask("holder", () -> {
        try (Lease<String> l = a.acquire()) {
          bus.withHoldLimit(Duration.ofSeconds(10));
          Tasko.sleep(Duration.ofMillis(250));
        }
      });

      loop.run();

      assertThat(log.messages(Level.WARNING)).filteredOn(m -> m.contains("hold limit"))
          .singleElement().asString().startsWith("loop 'raised': task 'holder' has held resource "
              + "'spi' through a for 100 ms, over its hold limit of 100 ms;");
      assertThat(bus.holdLimit()).contains(Duration.ofSeconds(10));
    }
  }

  @Test
  void holdLimit_deadlockWhileLeaseHeld_reportedAtOnceNotOnceTheLimitHasPassed() {
    // A hold limit's timer wakes no task: a loop stuck with only that timer pending is stuck now.
    // On a real clock, run() sat silent for the whole limit (an hour here) before throwing.
    try (LogCapture log = new LogCapture(Level.INFO, r -> {})) {
      Loop loop = Loop.builder().name("stuck").virtualTime().noStallWarning().build();
      ManagedResource<String, Object> bus =
          ManagedResource.of("spi").withHoldLimit(Duration.ofHours(1));
      Task<?>[] waiter = new Task<?>[1];
      loop.addTask("holder", () -> {
        try (Lease<String> l = bus.handle("a", null).acquire()) {
          waiter[0].join();
        }
      });
      waiter[0] = loop.addTask("waiter", () -> {
        try (Lease<String> l = bus.handle("b", null).acquire()) {
          Tasko.yieldNow();
        }
      });

      assertThatThrownBy(loop::run).isInstanceOf(DeadlockException.class)
          .hasMessageContaining("task 'waiter' waits for resource 'spi' through b (held by task "
              + "'holder' through a)");

      assertThat(loop.nanoTime()).isZero();
      assertThat(log.messages(Level.WARNING)).noneMatch(m -> m.contains("hold limit"));
    }
  }

  @Test
  void holdLimit_holderWaitsForWhatAnotherThreadMayDo_notStuck_limitStillReported() {
    // An event another thread may set: not stuck, so the loop waits until the limit and reports
    // it; the report itself (its log handler) sets the event here.
    Event ready = Event.create("ready");
    try (LogCapture log = new LogCapture(Level.INFO, r -> ready.set())) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      ManagedResource<String, Object> bus =
          ManagedResource.of("spi").withHoldLimit(Duration.ofMillis(100));
      loop.addTask("holder", () -> {
        try (Lease<String> l = bus.handle("a", null).acquire()) {
          ready.await();
        }
      });

      assertTimeoutPreemptively(Duration.ofSeconds(10), loop::run);

      assertThat(log.messages(Level.WARNING)).filteredOn(m -> m.contains("hold limit"))
          .singleElement().asString().contains("through a for 100 ms");
      assertThat(loop.nanoTime()).isEqualTo(Duration.ofMillis(100).toNanos());
    }
  }

  @Test
  void withHoldLimit_zero_throwsNamingTheValue() {
    ManagedResource<String, Object> bus = ManagedResource.of("spi");
    assertThatThrownBy(() -> bus.withHoldLimit(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("limit <= 0: PT0S");
  }
}
