package dev.tasko.pi4j;

import static com.pi4j.io.gpio.digital.DigitalState.HIGH;
import static com.pi4j.io.gpio.digital.DigitalState.LOW;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import dev.tasko.Loop;
import dev.tasko.Task;
import dev.tasko.TaskFailedException;
import dev.tasko.testsupport.EventLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 20, unit = TimeUnit.SECONDS) // a lost wake-up would hang: fail instead
class EdgeWatcherTest {
  private final EventLog log = new EventLog();
  private final Context pi4j = MockPi.context();
  private final Loop loop = Loop.builder().name("test").virtualTime().build();
  private final MockDigitalInput button = MockPi.input(pi4j, "button", 24);
  private final EdgeWatcher watcher = EdgeWatcher.of(button);

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  @Test
  void await_changeFromForeignThread_wakesIdleLoopAndResumesTask() throws InterruptedException {
    Task<Void> waiter = loop.addTask("waiter", () -> {
      log.add("waiting");
      log.add("got " + watcher.await() + " on the loop: " + Thread.currentThread().isVirtual());
    });
    // A plain platform thread, like Pi4J's listener threads on a real Pi. It changes the input once
    // the task waits, when the loop has nothing else to do and sleeps.
    Thread outside = new Thread(() -> {
      while (waiter.state() != Task.State.WAITING) {
        Thread.onSpinWait();
      }
      log.add("change on " + Thread.currentThread().getName());
      button.mockState(HIGH);
    }, "outside");
    outside.start();

    loop.run();
    outside.join();

    log.assertTaken("waiting", "change on outside", "got HIGH on the loop: true");
  }

  @Test
  void await_manyChangesFromForeignThread_noneLostInOrder() throws InterruptedException {
    int changes = 2_000;
    EdgeWatcher roomy = EdgeWatcher.of(button, changes);
    List<DigitalState> got = new ArrayList<>();
    loop.addTask(() -> {
      for (int i = 0; i < changes; i++) {
        got.add(roomy.await());
      }
    });
    Thread outside = new Thread(() -> {
      for (int i = 0; i < changes; i++) {
        button.mockState(i % 2 == 0 ? HIGH : LOW); // the mock fires only on a real change
      }
    }, "outside");
    outside.start();

    loop.run();
    outside.join();

    assertThat(got).hasSize(changes);
    for (int i = 0; i < changes; i++) {
      assertThat(got.get(i)).as("change %d", i).isEqualTo(i % 2 == 0 ? HIGH : LOW);
    }
    assertThat(roomy.dropped()).isZero();
  }

  @Test
  void await_changesArriveBetweenWaits_eachReturnedInOrder() {
    loop.addTask(() -> {
      button.mockState(HIGH); // nobody waits yet: queued
      button.mockState(LOW);
      button.mockState(HIGH);
      log.add(watcher.pending() + " queued");
      for (int i = 0; i < 3; i++) {
        log.add("got " + watcher.await());
      }
    });

    loop.run();

    log.assertTaken("3 queued", "got HIGH", "got LOW", "got HIGH");
  }

  @Test
  void await_queuedChange_stillSwitchesTasks() {
    button.mockState(HIGH);
    loop.addTask("waiter", () -> {
      log.add("waiter before");
      watcher.await();
      log.add("waiter after");
    });
    loop.addTask("other", () -> log.add("other"));

    loop.run();

    log.assertTaken("waiter before", "other", "waiter after");
  }

  @Test
  void awaitTimeout_changeBeforeTimeout_returnsItWhenItHappens() {
    loop.runLater(Duration.ofMillis(300), () -> button.mockState(HIGH));
    loop.addTask(() -> {
      Optional<DigitalState> got = watcher.await(Duration.ofSeconds(1));
      log.add(at() + " " + got);
    });

    loop.run();

    log.assertTaken("300 ms Optional[HIGH]");
  }

  @Test
  void awaitTimeout_noChangeInTime_returnsEmptyAtTimeoutAndKeepsLateChange() {
    loop.runLater(Duration.ofMillis(1500), () -> button.mockState(HIGH));
    loop.addTask(() -> {
      Optional<DigitalState> first = watcher.await(Duration.ofSeconds(1));
      log.add(at() + " " + first);
      log.add(at() + " " + watcher.pending() + " queued");
      Optional<DigitalState> second = watcher.await(Duration.ofSeconds(1));
      log.add(at() + " " + second);
    });

    loop.run();

    log.assertTaken("1000 ms Optional.empty", "1000 ms 0 queued", "1500 ms Optional[HIGH]");
  }

  @Test
  void awaitTimeout_zero_takesQueuedChangeElseEmpty() {
    loop.addTask(() -> {
      log.add(String.valueOf(watcher.await(Duration.ZERO)));
      button.mockState(HIGH);
      log.add(String.valueOf(watcher.await(Duration.ZERO)));
      log.add(at());
    });

    loop.run();

    log.assertTaken("Optional.empty", "Optional[HIGH]", "0 ms");
  }

  @Test
  void awaitTimeout_negative_throwsWithValue() {
    assertThatThrownBy(() -> watcher.await(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timeout < 0: PT-0.001S");
  }

  @Test
  void await_outsideTask_throwsIllegalState() {
    assertThatThrownBy(watcher::await).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "await() must be called from a task of a running loop; current thread: ");
  }

  @Test
  void await_twoTasksWait_eachChangeGoesToOneOfThemFirstComeFirstServed() {
    loop.addTask("first", () -> log.add("first got " + watcher.await()));
    loop.addTask("second", () -> log.add("second got " + watcher.await()));
    loop.runLater(Duration.ofMillis(10), () -> {
      button.mockState(HIGH);
      button.mockState(LOW);
    });

    loop.run();

    log.assertTaken("first got HIGH", "second got LOW");
  }

  @Test
  void await_taskCancelledWhileWaiting_laterChangesStayQueued() {
    Task<Void> waiter = loop.addTask(() -> { watcher.await(); });
    loop.runLater(Duration.ofMillis(10), waiter::cancel);
    loop.runLater(Duration.ofMillis(20), () -> button.mockState(HIGH));

    loop.run();

    assertThat(waiter.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(watcher.pending()).isEqualTo(1);
    assertThat(watcher.poll()).isEqualTo(HIGH);
  }

  @Test
  void poll_noChange_returnsNull() {
    assertThat(watcher.poll()).isNull();
    button.mockState(HIGH);
    assertThat(watcher.poll()).isEqualTo(HIGH);
    assertThat(watcher.poll()).isNull();
  }

  @Test
  void poll_queueFull_refusesNewerChangesAndCountsThem_neverMerges() {
    EdgeWatcher small = EdgeWatcher.of(button, 2);
    for (DigitalState s : new DigitalState[] {HIGH, LOW, HIGH, LOW, HIGH}) {
      button.mockState(s);
    }

    assertThat(small.poll()).isEqualTo(HIGH);
    assertThat(small.poll()).isEqualTo(LOW);
    assertThat(small.poll()).isNull();
    assertThat(small.received()).isEqualTo(5);
    assertThat(small.dropped()).isEqualTo(3);
  }

  @Test
  void edges_carryTheStateAndTheLoopTimeTheyWereSeen() {
    EdgeWatcher timed = EdgeWatcher.of(loop, button, 8);
    loop.runLater(Duration.ofMillis(250), () -> button.mockState(HIGH));
    loop.runLater(Duration.ofMillis(700), () -> button.mockState(LOW));
    loop.runLater(Duration.ofSeconds(1), timed::close);
    loop.addTask("reader", () -> {
      for (EdgeWatcher.Edge e : timed.edges()) { // until closed and drained
        log.add(e.state() + " seen at " + Duration.ofNanos(e.nanoTime()).toMillis()
            + " ms, read at " + at());
      }
      log.add("closed at " + at());
    });

    loop.run();

    log.assertTaken("HIGH seen at 250 ms, read at 250 ms", "LOW seen at 700 ms, read at 700 ms",
        "closed at 1000 ms");
  }

  @Test
  void waitingTask_toStringNamesTheEdgeChannel() {
    Task<Void> waiter = loop.addTask("waiter", () -> { watcher.await(); });
    loop.step();

    assertThat(waiter).hasToString("Task[waiter WAITING for channel 'edges of button' (empty)]");
    watcher.close();
    assertThatThrownBy(loop::run).isInstanceOf(TaskFailedException.class);
  }

  @Test
  void close_whileTaskWaits_wakesItToThrowAndStopsQueueing() {
    loop.addTask("waiter", () -> { watcher.await(); });
    loop.runLater(Duration.ofMillis(10), watcher::close);

    assertThatThrownBy(loop::run).cause().isInstanceOf(IllegalStateException.class)
        .hasMessage("the watcher of input 'button' is closed");
    button.mockState(HIGH);
    assertThat(watcher.pending()).isZero();
    assertThat(watcher.received()).isZero();
  }

  @Test
  void close_changesAlreadyQueued_canStillBeAwaited() {
    button.mockState(HIGH);
    watcher.close();
    loop.addTask(() -> log.add("got " + watcher.await()));

    loop.run();

    log.assertTaken("got HIGH");
  }

  @Test
  void await_afterOverflow_neverReturnsSameLevelTwice() {
    EdgeWatcher small = EdgeWatcher.of(button, 3);
    List<DigitalState> got = new ArrayList<>();
    loop.addTask(() -> {
      got.add(small.await()); // HIGH
      for (int i = 0; i < 4; i++) { // meanwhile, with the task busy: LOW HIGH LOW HIGH
        button.mockState(i % 2 == 0 ? LOW : HIGH);
      }
      got.add(small.await());
      got.add(small.await());
    });
    loop.runLater(Duration.ofMillis(1), () -> button.mockState(HIGH));

    loop.run();

    assertThat(got).containsExactly(HIGH, LOW, HIGH); // not HIGH, HIGH, LOW
  }

  // ---- A watcher never outlives what it serves ----

  @Test
  void of_loopAlreadyShutDown_throwsAndLeavesNoListener() {
    // From a hostile test: the listener was added, then the loop refused to close the watcher,
    // and the caller never got a watcher to close.
    CountedInput counted = new CountedInput(button);
    loop.shutdown();

    assertThatThrownBy(() -> EdgeWatcher.of(loop, counted.input, 4))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("loop 'test' is shut down: it takes no new watcher (input 'button')");
    assertThat(counted.listeners()).isZero();
  }

  @Test
  void of_inputOfAPi4jContextShutDown_throwsAndLeavesNoListener() {
    // A watcher made after its context shut down never heard of the shutdown: open, and a task
    // awaiting it without a timeout waited forever
    CountedInput counted = new CountedInput(button);
    pi4j.shutdown();

    assertThatThrownBy(() -> EdgeWatcher.of(counted.input))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("input 'button' belongs to a Pi4J context that is shut down: a watcher would"
            + " wait for changes that can no longer come");
    assertThat(counted.listeners()).isZero();
  }

  @Test
  void shutdown_ofLoopWithTaskWaiting_closesWatcherAndRemovesListener() {
    CountedInput counted = new CountedInput(button);
    AtomicReference<EdgeWatcher> created = new AtomicReference<>();
    Task<Void> waiter = loop.addTask(() -> {
      EdgeWatcher w = EdgeWatcher.of(counted.input); // created in a task: its loop closes it
      created.set(w);
      w.await();
    });
    loop.step();
    assertThat(counted.listeners()).isEqualTo(1);

    loop.shutdown();

    assertThat(waiter.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(created.get().isClosed()).isTrue();
    assertThat(counted.listeners()).isZero();
  }

  @Test
  void shutdown_ofLoopThatAwaitedWatcherMadeOutside_closesIt() {
    CountedInput counted = new CountedInput(button);
    EdgeWatcher w = EdgeWatcher.of(counted.input);
    loop.addTask(() -> {
      w.await(Duration.ZERO); // the first wait ties it to this loop
    });
    loop.run();

    loop.shutdown();

    assertThat(w.isClosed()).isTrue();
    assertThat(counted.listeners()).isZero();
  }

  @Test
  void shutdown_ofLoopThatReadWatcherMadeOutsideThroughEdges_closesIt() {
    // From a hostile test: only await() tied a watcher made outside a task to a loop, and a task
    // that read its edges() as the README shows left it listening after the loop's shutdown.
    CountedInput counted = new CountedInput(button);
    EdgeWatcher w = EdgeWatcher.of(counted.input);
    loop.addTask("reader", () -> {
      for (EdgeWatcher.Edge e : w.edges()) {
        log.add("edge " + e.state());
      }
    });
    loop.runLater(Duration.ofMillis(5), loop::stop);
    loop.run();

    loop.shutdown();

    assertThat(w.isClosed()).isTrue();
    assertThat(counted.listeners()).isZero();
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS) // the old watcher waited forever
  void pi4jShutdown_whileTaskWaits_wakesItWithClearException() {
    loop.addTask("waiter", () -> {
      watcher.await();
    });
    loop.runLater(Duration.ofMillis(5), pi4j::shutdown);

    assertThatThrownBy(loop::run).isInstanceOf(TaskFailedException.class).cause()
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the watcher of input 'button' is closed: the Pi4J context shut down");
    assertThat(watcher.isClosed()).isTrue();
  }

  @Test
  void watchersDroppedWithoutClose_listenersRemovedWithWarning() {
    MockDigitalInput door = MockPi.input(pi4j, "door", 25); // its own id, apart from other tests
    CountedInput counted = new CountedInput(door);
    List<String> warnings = new ArrayList<>();
    Logger logger = Logger.getLogger(EdgeWatcher.class.getName());
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord r) {
        synchronized (warnings) {
          warnings.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    logger.addHandler(handler);
    boolean parents = logger.getUseParentHandlers();
    logger.setUseParentHandlers(false); // the 2,000 warnings go to this test, not the build's log
    try {
      for (int i = 0; i < 2_000; i++) {
        EdgeWatcher.of(counted.input); // and dropped
      }
      // Garbage collection is the only way to learn of a dropped object: ask for it until the
      // Cleaner has seen every watcher (a bound, not a speed requirement).
      long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (counted.listeners() > 0 && System.nanoTime() < giveUp) {
        System.gc();
        // Let the Cleaner work through what this collection found before forcing the next one:
        // back-to-back full collections stop its thread again and again, and on a loaded machine
        // it then never catches up.
        long next = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
        while (counted.listeners() > 0 && System.nanoTime() < Math.min(next, giveUp)) {
          Thread.yield();
        }
      }
    } finally {
      logger.removeHandler(handler);
      logger.setUseParentHandlers(parents);
    }

    assertThat(counted.listeners()).isZero();
    assertThat(door.hasListenersOrBindings()).isFalse();
    synchronized (warnings) {
      assertThat(warnings).filteredOn(w -> w.contains("'door'")).hasSize(2_000)
          .allMatch(w -> w.equals("a watcher of input 'door' was dropped without being closed; its"
              + " listener is removed and its edges closed now. Close watchers when done"
              + " (try-with-resources)"));
    }
  }

  @Test
  void watcherDroppedWhileItsEdgesAreKept_edgesClosedSoAReaderSeesTheEnd() {
    MockDigitalInput bell = MockPi.input(pi4j, "bell", 26); // its own id, apart from other tests
    dev.tasko.Channel<EdgeWatcher.Edge> edges = EdgeWatcher.of(bell).edges(); // watcher dropped
    // Garbage collection is the only way to learn of a dropped object: ask for it until the
    // Cleaner has seen the watcher (a bound, not a speed requirement).
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!edges.isClosed() && System.nanoTime() < giveUp) {
      System.gc();
      long next = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
      while (!edges.isClosed() && System.nanoTime() < Math.min(next, giveUp)) {
        Thread.yield();
      }
    }

    assertThat(edges.isClosed()).as("closed once the watcher was dropped").isTrue();
    loop.addTask("reader", () -> {
      for (EdgeWatcher.Edge e : edges) {
        log.add("edge " + e);
      }
      log.add("the end");
    });
    loop.run();
    log.assertTaken("the end");
  }

  @Test
  void of_badArguments_throwWithValue() {
    assertThatThrownBy(() -> EdgeWatcher.of(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("input == null");
    assertThatThrownBy(() -> EdgeWatcher.of(button, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("capacity <= 0: 0");
  }

  private String at() {
    return Duration.ofNanos(loop.nanoTime()).toMillis() + " ms";
  }
}
