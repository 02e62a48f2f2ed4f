package dev.tasko.pi4j;

import static com.pi4j.io.gpio.digital.DigitalState.HIGH;
import static com.pi4j.io.gpio.digital.DigitalState.LOW;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.gpio.digital.DigitalStateChangeEvent;
import com.pi4j.io.gpio.digital.DigitalStateChangeListener;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import dev.tasko.Loop;
import dev.tasko.testsupport.EventLog;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A watcher for real buttons: one direction only, and debounced, on virtual time. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class EdgeWatcherButtonTest {
  private static final Duration DEBOUNCE = Duration.ofMillis(20);

  private final EventLog log = new EventLog();
  private final Context pi4j = MockPi.context();
  private final Loop loop = Loop.builder().name("test").virtualTime().build();
  private final MockDigitalInput button = MockPi.input(pi4j, "button", 24);

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  /** Sets the input to each level in turn, one millisecond apart, from {@code atMillis} on. */
  private void bounce(int atMillis, DigitalState... levels) {
    for (int i = 0; i < levels.length; i++) {
      DigitalState level = levels[i];
      loop.runLater(Duration.ofMillis(atMillis + i), () -> button.mockState(level));
    }
  }

  private void readUntilClosedAt(EdgeWatcher w, int closeAtMillis) {
    loop.runLater(Duration.ofMillis(closeAtMillis), w::close);
    loop.addTask("reader", () -> {
      for (EdgeWatcher.Edge e : w.edges()) {
        log.add(e.state() + " seen at " + millis(e.nanoTime()) + ", read at "
            + millis(loop.nanoTime()));
      }
    });
  }

  @Test
  void debounce_bouncingPressAndRelease_oneEdgeEachOnceQuiet_timedAtTheLevelKept() {
    EdgeWatcher w = EdgeWatcher.builder(button).loop(loop).debounce(DEBOUNCE).build();
    bounce(100, HIGH, LOW, HIGH, LOW, HIGH); // a press: 4 bounces, then HIGH from 104 ms
    bounce(500, LOW, HIGH, LOW); // a release: 2 bounces, then LOW from 502 ms
    readUntilClosedAt(w, 1000);

    loop.run();

    log.assertTaken("HIGH seen at 104 ms, read at 124 ms", "LOW seen at 502 ms, read at 522 ms");
    assertThat(w.received()).isEqualTo(8);
    assertThat(w.bounces()).isEqualTo(6);
    assertThat(w.dropped()).isZero();
  }

  @Test
  void debounce_glitchShorterThanTheInterval_noEdge_bothChangesCountedAsBounces() {
    EdgeWatcher w = EdgeWatcher.builder(button).loop(loop).debounce(DEBOUNCE).build();
    bounce(100, HIGH, LOW);
    readUntilClosedAt(w, 1000);

    loop.run();

    log.assertTaken();
    assertThat(w.received()).isEqualTo(2);
    assertThat(w.bounces()).isEqualTo(2);
  }

  @Test
  void debounce_changesJustAnIntervalApart_eachCounts() {
    EdgeWatcher w = EdgeWatcher.builder(button).loop(loop).debounce(DEBOUNCE).build();
    loop.runLater(Duration.ofMillis(100), () -> button.mockState(HIGH));
    loop.runLater(Duration.ofMillis(120), () -> button.mockState(LOW)); // quiet for exactly 20 ms
    readUntilClosedAt(w, 1000);

    loop.run();

    log.assertTaken("HIGH seen at 100 ms, read at 120 ms", "LOW seen at 120 ms, read at 140 ms");
    assertThat(w.bounces()).isZero();
  }

  @Test
  void direction_rising_queuesPressesOnly_releasesCountedAsSkipped() {
    EdgeWatcher presses = EdgeWatcher.builder(button).loop(loop)
        .direction(EdgeWatcher.Direction.RISING).build();
    bounce(100, HIGH, LOW, HIGH, LOW);
    readUntilClosedAt(presses, 1000);

    loop.run();

    log.assertTaken("HIGH seen at 100 ms, read at 100 ms", "HIGH seen at 102 ms, read at 102 ms");
    assertThat(presses.received()).isEqualTo(4);
    assertThat(presses.skipped()).isEqualTo(2);
  }

  @Test
  void direction_fallingAndDebounced_oneEdgePerRelease() {
    EdgeWatcher releases = EdgeWatcher.builder(button).loop(loop)
        .direction(EdgeWatcher.Direction.FALLING).debounce(DEBOUNCE).build();
    bounce(100, HIGH, LOW, HIGH); // press
    bounce(300, LOW, HIGH, LOW); // release
    readUntilClosedAt(releases, 1000);

    loop.run();

    log.assertTaken("LOW seen at 302 ms, read at 322 ms");
    assertThat(releases.received()).isEqualTo(6);
    assertThat(releases.bounces()).isEqualTo(4);
    assertThat(releases.skipped()).isEqualTo(1); // the press
  }

  @Test
  void debounce_taskAwaitsPresses_evenWithAQueueOfOne_nothingLostSilently() {
    EdgeWatcher presses = EdgeWatcher.builder(button).loop(loop).capacity(1)
        .direction(EdgeWatcher.Direction.RISING).debounce(DEBOUNCE).build();
    loop.addTask("handler", () -> {
      DigitalState s = presses.await();
      log.add("press " + s + " at " + millis(loop.nanoTime()));
      dev.tasko.Tasko.sleep(Duration.ofSeconds(1)); // busy: the next two presses come meanwhile
      log.add("press " + presses.await() + " at " + millis(loop.nanoTime()));
    });
    bounce(100, HIGH, LOW, HIGH);
    bounce(200, LOW);
    bounce(300, HIGH); // queued
    bounce(400, LOW);
    bounce(500, HIGH); // refused: the queue holds one

    loop.run();

    log.assertTaken("press HIGH at 122 ms", "press HIGH at 1122 ms");
    assertThat(presses.received()).isEqualTo(7);
    // taken 2, pending 0: 2 + dropped + bounces + skipped = received
    assertThat(presses.dropped()).isEqualTo(1);
    assertThat(presses.bounces()).isEqualTo(2);
    assertThat(presses.skipped()).isEqualTo(2);
    assertThat(presses.pending()).isZero();
    presses.close();
  }

  @Test
  void debounce_closedWhileSettling_queuesNothingAndCountsTheBurstAsBounces() {
    EdgeWatcher w = EdgeWatcher.builder(button).loop(loop).debounce(DEBOUNCE).build();
    bounce(100, HIGH);
    loop.runLater(Duration.ofMillis(110), w::close);

    loop.run();

    assertThat(w.pending()).isZero();
    assertThat(w.received()).isEqualTo(1);
    // nothing lost silently: received = taken + pending + dropped + bounces + skipped
    assertThat(w.bounces()).isEqualTo(1);
    assertThat(w.dropped() + w.skipped()).isZero();
  }

  @Test
  void debounce_changeRacingWithClose_countedAsABounce() {
    CountedInput counted = new CountedInput(button);
    EdgeWatcher w = EdgeWatcher.builder(counted.input).loop(loop).debounce(DEBOUNCE).build();
    var listener = (DigitalStateChangeListener) counted.registered().get(0);
    // Pi4J calls the listener on a thread of its own; the watcher is closed while it reads the
    // event, after its check that the watcher is open
    listener.onDigitalStateChange(new DigitalStateChangeEvent<>(button, HIGH) {
      @Override
      public DigitalState state() {
        w.close();
        return super.state();
      }
    });

    loop.run();

    assertThat(w.received()).isEqualTo(1);
    // nothing lost silently: received = taken + pending + dropped + bounces + skipped
    assertThat(w.bounces()).isEqualTo(1);
    assertThat(w.pending() + w.dropped() + w.skipped()).isZero();
  }

  @Test
  void debounce_builtInATask_timedOnThatTasksLoop() {
    loop.addTask("builder", () -> {
      try (EdgeWatcher w = EdgeWatcher.builder(button).debounce(DEBOUNCE).build()) {
        loop.runLater(Duration.ofMillis(50), () -> button.mockState(HIGH));
        log.add(w.await() + " at " + millis(loop.nanoTime()));
      }
    });

    loop.run();

    log.assertTaken("HIGH at 70 ms");
  }

  @Test
  @Tag("realtime")
  void debounce_bouncesFromAForeignThreadOnRealTime_onePressOnceQuiet() throws Exception {
    Loop real = Loop.builder().name("real").build();
    EdgeWatcher w = EdgeWatcher.builder(button).loop(real).debounce(Duration.ofMillis(50))
        .build();
    dev.tasko.Task<DigitalState> reader = real.addTask("reader", () -> w.await());
    Thread contact = new Thread(() -> { // like Pi4J's listener threads on a board
      while (reader.state() != dev.tasko.Task.State.WAITING) {
        Thread.onSpinWait();
      }
      button.mockState(HIGH);
      button.mockState(LOW);
      button.mockState(HIGH);
    }, "contact");
    contact.start();

    real.run(); // ends once the reader has its press

    contact.join();
    assertThat(reader.join()).isEqualTo(HIGH);
    assertThat(w.received()).isEqualTo(3);
    // Back-to-back calls are one burst; a machine that paused 50 ms between them would split it,
    // yet every change is still counted once.
    assertThat(1 + w.pending() + w.bounces() + w.dropped()).isEqualTo(3);
    w.close();
    real.shutdown();
  }

  @Test
  void debounce_noLoopToTimeIt_throwsSayingHowToGiveOne() {
    assertThatThrownBy(() -> EdgeWatcher.builder(button).debounce(DEBOUNCE).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("a debounce interval (PT0.02S) needs a loop to time it: build the watcher in a"
            + " task, or give the loop with loop(..)");
  }

  @Test
  void builder_badArguments_throwWithValue() {
    EdgeWatcher.Builder b = EdgeWatcher.builder(button);
    assertThatThrownBy(() -> b.debounce(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("debounce interval < 0: PT-0.001S");
    assertThatThrownBy(() -> b.capacity(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("capacity <= 0: 0");
    assertThatThrownBy(() -> b.direction(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("direction == null");
    assertThatThrownBy(() -> EdgeWatcher.builder(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("input == null");
  }

  @Test
  void toString_saysDirectionDebounceAndCounts() {
    try (EdgeWatcher w = EdgeWatcher.builder(button).loop(loop)
        .direction(EdgeWatcher.Direction.RISING).debounce(DEBOUNCE).build()) {
      assertThat(w).hasToString("EdgeWatcher[input 'button', RISING, debounce PT0.02S, 0 queued,"
          + " 0 received, 0 dropped, 0 bounces, 0 skipped]");
      assertThat(w.direction()).isEqualTo(EdgeWatcher.Direction.RISING);
      assertThat(w.debounce()).isEqualTo(DEBOUNCE);
    }
  }

  private static String millis(long nanos) {
    return Duration.ofNanos(nanos).toMillis() + " ms";
  }
}
