package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop's JFR events, read back from a recording file. Real time: a stall and the periodic
 * summary need the processor's clock.
 */
@Tag("realtime")
class FlightRecorderTest {

  @Test
  void flightRecording_loopEvents_areRecordedWithTheirFields(@TempDir Path dir) throws Exception {
    assertThat(Flight.PRESENT).isTrue();
    Path file = dir.resolve("tasko.jfr");
    // A loop driven first, as in a program whose recording is started later (jcmd JFR.start):
    // the loop must learn of the recorder's start.
    Loop early = Loop.builder().virtualTime().build();
    early.addTask(() -> Tasko.sleep(Duration.ofMillis(1)));
    early.run();
    try (Recording r = new Recording()) {
      for (String name : List.of("Stall", "ScheduleSkip", "TaskFailure", "Deadlock",
          "LeaseWait", "LeaseHold", "LeaseHoldLimit")) {
        r.enable("dev.tasko." + name).withThreshold(Duration.ZERO);
      }
      r.enable("dev.tasko.LoopSummary").withPeriod(Duration.ofMillis(100));
      r.start();

      // Virtual time: a lease held past its limit with a waiter, a schedule that falls behind,
      // and a task that fails.
      Loop virtual = Loop.builder().name("virtual").virtualTime().noStallWarning()
          .failureHandler(FailureHandler.logAndContinue()).build();
      ManagedResource<String, Object> bus =
          ManagedResource.of("spi").withHoldLimit(Duration.ofMillis(100));
      Handle<String> a = bus.handle("a", null);
      Handle<String> b = bus.handle("b", null);
      virtual.addTask("holder", () -> {
        try (Lease<String> l = a.acquire()) {
          Tasko.sleep(Duration.ofMillis(150));
        }
      });
      virtual.addTask("waiter", () -> b.acquire().close());
      ScheduledTask slow = virtual.schedule("slow", Duration.ofMillis(10),
          () -> Tasko.sleep(Duration.ofMillis(35)));
      virtual.runLater("stopper", Duration.ofMillis(100), slow::cancel);
      virtual.addTask("failing", () -> {
        throw new IllegalStateException("sensor unplugged");
      });
      virtual.run();

      // Real time: a stall, a deadlock, and work until JFR's periodic thread has summed it up.
      Loop real = Loop.builder().name("real").stallWarning(Duration.ofMillis(20)).build();
      AtomicBoolean summarised = new AtomicBoolean();
      try (RecordingStream summaries = new RecordingStream()) {
        summaries.enable("dev.tasko.LoopSummary").withPeriod(Duration.ofMillis(100));
        summaries.onEvent("dev.tasko.LoopSummary", e -> {
          if (e.getString("loop").equals("real")) {
            summarised.set(true);
          }
        });
        summaries.startAsync();
        real.addTask("staller", () -> Thread.sleep(120));
        long giveUp = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        ScheduledTask tick = real.schedule("tick", Duration.ofMillis(5), () -> {});
        real.schedule("end", Duration.ofMillis(50), () -> {
          if (summarised.get() || System.nanoTime() - giveUp > 0) {
            real.stop();
          }
        });
        real.run();
        tick.cancel();
      }
      Loop stuck = Loop.builder().name("stuck").noStallWarning().build();
      Task<?>[] pair = new Task<?>[2];
      pair[0] = stuck.addTask("left", () -> pair[1].join());
      pair[1] = stuck.addTask("right", () -> pair[0].join());
      assertThatThrownBy(stuck::run).isInstanceOf(DeadlockException.class);

      r.stop();
      r.dump(file);
    }

    List<RecordedEvent> events = RecordingFile.readAllEvents(file);
    Map<String, List<RecordedEvent>> byType = events.stream()
        .filter(e -> e.getEventType().getName().startsWith("dev.tasko."))
        .collect(Collectors.groupingBy(e -> e.getEventType().getName()));

    RecordedEvent limit = byType.get("dev.tasko.LeaseHoldLimit").get(0);
    assertThat(limit.getString("task")).isEqualTo("holder");
    assertThat(limit.getString("resource")).isEqualTo("spi");
    assertThat(limit.getString("waiters")).isEqualTo("task 'waiter' through b");
    assertThat(limit.getDuration("held")).isEqualTo(Duration.ofMillis(100));
    assertThat(byType.get("dev.tasko.LeaseHoldLimit")).hasSize(1);
    assertThat(byType.get("dev.tasko.LeaseWait")).anySatisfy(e -> {
      assertThat(e.getString("task")).isEqualTo("waiter");
      assertThat(e.getString("handle")).isEqualTo("b");
    });
    assertThat(byType.get("dev.tasko.LeaseHold")).extracting(e -> e.getString("task"))
        .contains("holder", "waiter");
    assertThat(byType.get("dev.tasko.ScheduleSkip")).anySatisfy(e -> {
      assertThat(e.getString("schedule")).isEqualTo("slow");
      assertThat(e.getLong("skippedRuns")).isPositive();
    });
    assertThat(byType.get("dev.tasko.TaskFailure")).singleElement().satisfies(e -> {
      assertThat(e.getString("task")).isEqualTo("failing");
      assertThat(e.getString("exception")).isEqualTo("java.lang.IllegalStateException");
      assertThat(e.getString("message")).isEqualTo("sensor unplugged");
    });
    assertThat(byType.get("dev.tasko.Stall")).anySatisfy(e -> {
      assertThat(e.getString("loop")).isEqualTo("real");
      assertThat(e.getString("task")).isEqualTo("staller");
      assertThat(e.getString("at")).contains("FlightRecorderTest");
    });
    assertThat(byType.get("dev.tasko.Deadlock")).singleElement().satisfies(e -> {
      assertThat(e.getString("loop")).isEqualTo("stuck");
      assertThat(e.getInt("tasks")).isEqualTo(2);
    });
    assertThat(byType.get("dev.tasko.LoopSummary")).anySatisfy(e -> {
      assertThat(e.getString("loop")).isEqualTo("real");
      assertThat(e.getLong("switches")).isPositive();
    });
    assertThat(Files.size(file)).isPositive();
  }

  @Test
  void taskFailure_whileRecording_failureWhoseMessageThrows_stillReachesTheHandler()
      throws Exception {
    try (Recording r = new Recording()) {
      r.enable("dev.tasko.TaskFailure").withThreshold(Duration.ZERO);
      r.start();
      List<Throwable> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
      Loop loop = Loop.builder().virtualTime().failureHandler((t, f) -> handled.add(f)).build();
      RuntimeException hostile = new RuntimeException() {
        @Override
        public String getMessage() {
          throw new IllegalStateException("no message today");
        }
      };
      RuntimeException overflowing = new RuntimeException() {
        @Override
        public String getMessage() {
          return "wrapped: " + this; // toString() calls getMessage(): a StackOverflowError
        }
      };
      RuntimeException asserting = new RuntimeException() {
        @Override
        public String getMessage() {
          throw new AssertionError("no message today");
        }
      };
      loop.addTask("task", () -> {
        throw hostile;
      });
      // Before: an error from the message escaped the recording, as an exception no longer does.
      loop.addTask("overflowing", () -> {
        throw overflowing;
      });
      loop.addTask("asserting", () -> {
        throw asserting;
      });
      ScheduledTask[] s = new ScheduledTask[1];
      s[0] = loop.scheduleCallback("callback", Duration.ofMillis(1), () -> {
        s[0].stop();
        throw hostile;
      });
      // Recording the event reads the message; were that to escape, the task's thread would end
      // holding the processor and run() would never return: hence a thread of its own, joined
      // with a time limit.
      Thread driver = Thread.ofPlatform().daemon().start(loop::run);
      // join(Duration)'s answer, not isAlive(), which turns false a moment after it returns
      assertThat(driver.join(Duration.ofSeconds(10))).as("run() returned").isTrue();
      assertThat(handled).containsExactly(hostile, overflowing, asserting, hostile);
    }
  }

  @Test
  void loopSummary_firstOfALoopThatOnlySleeps_saysItIdled() throws Exception {
    List<Double> idle = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (RecordingStream s = new RecordingStream()) {
      s.enable("dev.tasko.LoopSummary").withPeriod(Duration.ofMillis(100));
      s.onEvent("dev.tasko.LoopSummary", e -> {
        if (e.getString("loop").equals("sleepy")) {
          idle.add(e.getDouble("idle"));
        }
      });
      Loop loop = Loop.builder().name("sleepy").build();
      loop.addTask("sleeper", () -> {
        // The recording starts once the loop has idled a while, so that its first summary spans
        // that sleep whenever it comes, on a busy machine too (a summary that came just as the
        // loop started would span its start-up alone, and read it busy).
        Tasko.sleep(Duration.ofMillis(300));
        s.startAsync();
        long giveUp = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (idle.isEmpty() && System.nanoTime() - giveUp < 0) {
          Tasko.sleep(Duration.ofMillis(100));
        }
      });
      loop.run();
    }

    // Before: the first summary of each loop measured its idle share over a span of zero: 0.
    assertThat(idle).isNotEmpty();
    assertThat(idle.get(0)).as("first summary's idle share").isGreaterThan(0.5);
  }

  @Test
  void leaseWait_cutOffByATimeout_isRecorded(@TempDir Path dir) throws Exception {
    // From a hostile test: only a wait that ended with the lease was committed.
    Path file = dir.resolve("wait.jfr");
    try (Recording r = new Recording()) {
      r.enable("dev.tasko.LeaseWait").withThreshold(Duration.ZERO);
      r.start();
      Loop loop = Loop.builder().name("bus").virtualTime().build();
      ManagedResource<String, Object> bus = ManagedResource.of("spi");
      Handle<String> a = bus.handle("a", null);
      Handle<String> b = bus.handle("b", null);
      loop.addTask("holder", () -> {
        try (Lease<String> l = a.acquire()) {
          Tasko.sleep(Duration.ofMillis(300));
        }
      });
      loop.addTask("impatient", () -> {
        try {
          Tasko.withTimeout(Duration.ofMillis(100), () -> b.acquire().close());
        } catch (TimeoutException expected) {
          // gave up on the bus
        }
      });
      loop.run();
      r.stop();
      r.dump(file);
    }

    assertThat(RecordingFile.readAllEvents(file)).filteredOn(
        e -> e.getEventType().getName().equals("dev.tasko.LeaseWait"))
        .singleElement().satisfies(e -> {
          assertThat(e.getString("task")).isEqualTo("impatient");
          assertThat(e.getString("resource")).isEqualTo("spi");
        });
  }

  @Test
  void loopSummary_loopRunAgainAfterAPause_countsThePauseAsIdle() throws Exception {
    // From a hostile test: the first summary of the second run measured its idle time against a
    // span that held the pause, and read the loop as 99.8% busy.
    List<Double> secondRun = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicBoolean firstRunSummarised = new AtomicBoolean();
    // No summary of the loop ends in the pause, where nothing drives it. Events reach the stream
    // in batches, some of the first run's only after the second has begun: told apart by time.
    AtomicReference<Instant> midPause = new AtomicReference<>(Instant.MAX);
    try (RecordingStream s = new RecordingStream()) {
      s.enable("dev.tasko.LoopSummary").withPeriod(Duration.ofMillis(100));
      s.onEvent("dev.tasko.LoopSummary", e -> {
        if (e.getString("loop").equals("again")) {
          if (e.getEndTime().isAfter(midPause.get())) {
            secondRun.add(e.getDouble("idle"));
          } else {
            firstRunSummarised.set(true);
          }
        }
      });
      s.startAsync();
      Loop loop = Loop.builder().name("again").build();
      loop.addTask("first", () -> {
        while (!firstRunSummarised.get()) {
          Tasko.sleep(Duration.ofMillis(20));
        }
      });
      loop.run();
      midPause.set(Instant.now().plusMillis(250));
      long pauseEnds = System.nanoTime() + Duration.ofMillis(500).toNanos();
      while (System.nanoTime() - pauseEnds < 0) { // not driven: the pause the next summary spans
        java.util.concurrent.locks.LockSupport.parkNanos(pauseEnds - System.nanoTime());
      }
      loop.addTask("second", () -> {
        long giveUp = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (secondRun.isEmpty() && System.nanoTime() - giveUp < 0) {
          Tasko.sleep(Duration.ofMillis(20));
        }
      });
      loop.run();
    }

    // The first summary of the second run spans the pause, which it now counts as idle: above
    // one half however busy the machine keeps the run's first milliseconds.
    assertThat(secondRun).isNotEmpty();
    assertThat(secondRun.get(0)).as("idle share").isGreaterThan(0.5);
  }
}
