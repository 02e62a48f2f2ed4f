package dev.tasko;

import dev.tasko.testsupport.EventLog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;

class ChannelTest {
  private final Loop loop = Loop.builder().virtualTime().build();
  private final EventLog log = new EventLog();

  private String now() {
    return Duration.ofNanos(loop.nanoTime()).toString();
  }

  @Test
  void putAndTake_elementsComeOutInTheOrderTheyWentIn() {
    Channel<Integer> ch = Channel.create(8);
    loop.addTask("producer", () -> {
      for (int i = 0; i < 5; i++) {
        ch.put(i);
      }
      ch.close();
    });
    loop.addTask("consumer", () -> {
      for (int x : ch) {
        log.add("got " + x);
      }
      log.add("closed and drained");
    });

    loop.run();

    log.assertTaken("got 0", "got 1", "got 2", "got 3", "got 4", "closed and drained");
  }

  @Test
  void take_onEmpty_suspendsUntilAPut_takersServedFirstComeFirstServed() {
    Channel<String> ch = Channel.create("lines", 4);
    for (String name : new String[] {"t1", "t2"}) {
      loop.addTask(name, () -> log.add(name + " took " + ch.take() + "@" + now()));
    }
    loop.runLater(Duration.ofSeconds(1), () -> {
      ch.put("a");
      ch.put("b");
    });

    loop.run();

    log.assertTaken("t1 took a@PT1S", "t2 took b@PT1S");
  }

  @Test
  void put_onFull_suspendsUntilATake_putsServedInOrder_noBarging() {
    Channel<String> ch = Channel.create("lines", 1);
    loop.addTask("p1", () -> {
      ch.put("a");
      ch.put("b"); // waits: full
      log.add("p1 put b@" + now());
    });
    loop.addTask("p2", () -> {
      ch.put("c"); // waits behind p1
      log.add("p2 put c@" + now());
    });
    loop.runLater(Duration.ofSeconds(1), () -> {
      log.add("took " + ch.take()); // frees the slot, which p1's b fills at once
      ch.offer("late"); // refused: full again
      log.add("size " + ch.size() + ", dropped " + ch.dropped());
    });
    loop.runLater(Duration.ofSeconds(2), () -> {
      List<String> rest = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        rest.add(ch.take());
      }
      log.add("then " + rest);
    });

    loop.run();

    // p2's c goes in at the first take of the second batch; p2 runs on once that task yields.
    log.assertTaken("took a", "size 1, dropped 1", "p1 put b@PT1S", "then [b, c]",
        "p2 put c@PT2S");
  }

  @Test
  void offer_full_refusedAndCounted_neverMerged() {
    Channel<Integer> ch = Channel.create(2);
    assertThat(ch.offer(1)).isTrue();
    assertThat(ch.offer(2)).isTrue();
    assertThat(ch.offer(3)).isFalse();
    assertThat(ch.offer(4)).isFalse();

    assertThat(ch.dropped()).isEqualTo(2);
    assertThat(ch.size()).isEqualTo(2);
    assertThat(ch.poll()).isEqualTo(1);
    assertThat(ch.poll()).isEqualTo(2);
    assertThat(ch.poll()).isNull();
  }

  @Test
  void offer_fromAForeignThread_wakesTheIdleLoopAndTheWaitingTaker() throws Exception {
    Channel<String> edges = Channel.create("edges", 16);
    Task<String> reader = loop.addTask("reader", () -> edges.take());
    Thread listener = Thread.ofPlatform().start(() -> {
      while (reader.state() != Task.State.WAITING) {
        Thread.onSpinWait(); // until the loop idles with the reader parked on the channel
      }
      edges.offer("rising");
    });

    loop.run(); // a wait on a channel is not a deadlock: the loop waits for the listener

    listener.join();
    assertThat(reader.join()).isEqualTo("rising");
  }

  @Test
  void close_fromAForeignThread_wakesTheIdleLoop_takerDrainsThenEnds() throws Exception {
    Channel<String> lines = Channel.create("lines", 4);
    lines.offer("last words");
    Task<Void> reader = loop.addTask("reader", () -> {
      for (String line : lines) {
        log.add("read " + line);
      }
      log.add("closed");
    });
    Thread closer = Thread.ofPlatform().start(() -> {
      while (reader.state() != Task.State.WAITING) {
        Thread.onSpinWait(); // until the reader has drained the channel and waits for more
      }
      lines.close();
    });

    loop.run();

    closer.join();
    log.assertTaken("read last words", "closed");
  }

  @Test
  void putAndTake_betweenTwoLoopsOnTwoThreads_handsEverythingOverInOrder() throws Exception {
    Channel<Integer> ch = Channel.create("between loops", 2);
    Loop producerLoop = Loop.builder().name("producer").virtualTime().build();
    producerLoop.addTask(() -> {
      for (int i = 0; i < 100; i++) {
        ch.put(i); // waits, on its own loop, while the other loop's consumer is behind
        if (i % 10 == 0) {
          Tasko.sleep(Duration.ofMillis(5));
        }
      }
      ch.close();
    });
    List<Integer> got = new ArrayList<>();
    loop.addTask(() -> {
      for (int x : ch) {
        got.add(x);
      }
    });
    Thread other = Thread.ofPlatform().start(producerLoop::run);

    loop.run();

    other.join();
    assertThat(got).hasSize(100).isSorted();
    assertThat(ch.dropped()).isZero();
  }

  @Test
  void pollWithTimeout_empty_returnsNullAtTheTimeout() {
    Channel<String> ch = Channel.create(1);
    loop.addTask(() -> log.add("got " + ch.poll(Duration.ofSeconds(2)) + "@" + now()));
    loop.addTask(() -> log.add("got " + ch.poll(Duration.ofSeconds(5)) + "@" + now()));
    loop.runLater(Duration.ofSeconds(3), () -> ch.put("x"));

    loop.run();

    log.assertTaken("got null@PT2S", "got x@PT3S");
  }

  @Test
  void close_takeDrainsThenThrows_putFails_offerRefusedAndCounted() {
    Channel<String> ch = Channel.create("lines", 4);
    loop.addTask(() -> {
      ch.put("a");
      ch.close();
      assertThat(ch.isClosed()).isTrue();
      assertThatThrownBy(() -> ch.put("b")).isInstanceOf(ChannelClosedException.class)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("put on a closed channel 'lines' (closed, 1 left)");
      assertThat(ch.offer("c")).isFalse();
      assertThat(ch.dropped()).isEqualTo(1);
      log.add("took " + ch.take());
      assertThatThrownBy(ch::take).isInstanceOf(ChannelClosedException.class)
          .hasMessage("channel 'lines' (closed, empty): closed and drained");
      assertThatThrownBy(() -> ch.poll(Duration.ofSeconds(1)))
          .isInstanceOf(ChannelClosedException.class);
      log.add("done");
    });

    loop.run();

    log.assertTaken("took a", "done");
  }

  @Test
  void close_wakesWaitingTakersAndPutters_theyThrow() {
    Channel<String> ch = Channel.create("lines", 1);
    loop.addTask("taker", () -> {
      try {
        ch.take();
      } catch (ChannelClosedException e) {
        log.add("taker: closed@" + now());
      }
    });
    loop.runLater(Duration.ofSeconds(1), () -> {
      ch.put("a");
      log.add("took by hand-off? size=" + ch.size());
    });
    loop.runLater(Duration.ofSeconds(2), () -> {
      ch.put("b");
      try {
        ch.put("c"); // full: waits
      } catch (ChannelClosedException e) {
        log.add("putter: closed@" + now());
      }
    });
    loop.runLater(Duration.ofSeconds(3), ch::close);

    loop.run();

    // The taker was handed "a" at 1 s and returned normally, so only the putter sees the close.
    log.assertTaken("took by hand-off? size=0", "putter: closed@PT3S");
    assertThat(ch.poll()).isEqualTo("b");
    assertThat(ch.poll()).isNull();
  }

  @Test
  void close_wakesAnIdleTaker_itThrows() {
    Channel<String> ch = Channel.create("lines", 1);
    loop.addTask("taker", () -> {
      try {
        ch.take();
      } catch (ChannelClosedException e) {
        log.add("taker: closed@" + now());
      }
    });
    loop.runLater(Duration.ofSeconds(1), ch::close);

    loop.run();

    log.assertTaken("taker: closed@PT1S");
  }

  @Test
  void take_waiterCancelled_leavesTheQueue_nextTakerServed_nothingLost() {
    Channel<String> ch = Channel.create(4);
    Task<Void> victim = loop.addTask("victim", () -> {
      try {
        ch.take();
      } catch (CancellationException e) {
        log.add("victim cancelled@" + now());
        throw e;
      }
    });
    loop.addTask("next", () -> log.add("next took " + ch.take() + "@" + now()));
    loop.runLater(Duration.ofSeconds(1), victim::cancel);
    loop.runLater(Duration.ofSeconds(2), () -> ch.put("x"));

    loop.run();

    log.assertTaken("victim cancelled@PT1S", "next took x@PT2S");
  }

  @Test
  void take_cancelledJustAfterBeingHandedAnElement_givesItBack() {
    Channel<String> ch = Channel.create(4);
    Task<Void> victim = loop.addTask("victim", () -> {
      ch.take();
      log.add("victim took it");
    });
    loop.runLater(Duration.ofSeconds(1), () -> {
      ch.put("x"); // handed to the victim, which is now ready...
      victim.cancel(); // ...and cancelled before it runs
    });
    loop.runLater(Duration.ofSeconds(2), () -> log.add("later took " + ch.poll()));

    loop.run();

    log.assertTaken("later took x");
    assertThat(victim.state()).isEqualTo(Task.State.CANCELLED);
  }

  /**
   * Found by ChannelStressTest: a taker handed the last element was cancelled after the channel
   * closed; the other takers had already been told "closed and drained" and ended, and the element
   * it gave back stayed in the channel with nobody left to take it.
   */
  @Test
  void close_whileAnElementIsHandedToATakerThatIsThenCancelled_anotherTakerStillGetsIt() {
    Channel<String> ch = Channel.create("lines", 4);
    Task<?>[] victim = new Task<?>[1];
    victim[0] = loop.addTask("victim", () -> {
      ch.take();
      log.add("victim took it");
    });
    loop.addTask("reader", () -> {
      Tasko.sleep(Duration.ofSeconds(1)); // waits after the victim
      for (String line : ch) {
        log.add("reader took " + line + "@" + now());
      }
      log.add("reader done@" + now());
    });
    loop.runLater(Duration.ofSeconds(2), () -> {
      ch.put("x"); // handed to the victim, which is now ready...
      ch.close(); // ...the channel closes...
      victim[0].cancel(); // ...and the victim is cancelled before it runs: it gives "x" back
    });

    loop.run();

    log.assertTaken("reader took x@PT2S", "reader done@PT2S");
    assertThat(ch.size()).isZero();
  }

  @Test
  void put_waiterCancelled_elementNotAdded_nextPutterServed() {
    Channel<String> ch = Channel.create(1);
    ch.offer("a");
    Task<Void> victim = loop.addTask("victim", () -> ch.put("lost?"));
    loop.addTask("next", () -> ch.put("b"));
    loop.runLater(Duration.ofSeconds(1), victim::cancel);
    loop.runLater(Duration.ofSeconds(2), () -> {
      log.add(ch.take());
      log.add(ch.take());
      log.add("left " + ch.size());
    });

    loop.run();

    log.assertTaken("a", "b", "left 0");
  }

  @Test
  void put_cancelledAfterItsElementWentIntoAFreedSlot_returnsElementStaysCancelThrownNext() {
    // As trio's channels: the put has happened, so it returns; the cancel comes at the next
    // suspension point. (Before, the element went in only when the putter ran, and a cancel
    // meanwhile passed the slot on: see put_waitingPutterGrantedASlot_laterOfferCannotOvertakeIt.)
    Channel<String> ch = Channel.create(1);
    ch.offer("a");
    Task<Void> victim = loop.addTask("victim", () -> {
      ch.put("v");
      log.add("put returned");
      Tasko.yieldNow(); // the cancellation comes here
      log.add("not reached");
    });
    loop.addTask("next", () -> ch.put("b"));
    loop.runLater(Duration.ofSeconds(1), () -> {
      log.add(ch.take()); // v goes into the freed slot...
      victim.cancel(); // ...before the victim runs again
    });
    loop.runLater(Duration.ofSeconds(2), () -> log.add(ch.poll() + ", then " + ch.poll()));

    loop.run();

    log.assertTaken("a", "put returned", "v, then b");
    assertThat(victim.state()).isEqualTo(Task.State.CANCELLED);
  }

  @Test
  void put_wokenByCloseThenCancelledBeforeItRuns_throwsCancellation() {
    // From a review: the put's resume-wins wait let close()'s wake-up win over the cancel, and the
    // task failed with ChannelClosedException instead of ending cancelled.
    Channel<String> ch = Channel.create(1);
    Task<Void> p = loop.addTask("p", () -> {
      ch.put("a");
      ch.put("b"); // waits: full
    });
    loop.addTask("closer", () -> {
      Tasko.sleep(Duration.ofSeconds(1));
      ch.close(); // wakes p, its element not added
      p.cancel(); // before p runs
    });

    loop.run();

    assertThat(p.state()).isEqualTo(Task.State.CANCELLED);
    assertThat(ch.poll()).isEqualTo("a");
    assertThat(ch.poll()).isNull();
  }

  @Test
  void put_waitingPutterGrantedASlot_laterOfferCannotOvertakeIt() {
    // From a hostile test: the freed slot was only reserved for the woken putter, whose element
    // went in when it ran; an offer from another thread meanwhile was queued before it.
    Channel<String> ch = Channel.create("c", 1);
    loop.addTask("p1", () -> {
      ch.put("a");
      ch.put("b"); // waits: full
    });
    loop.addTask("consumer", () -> {
      for (int i = 0; i < 3; i++) {
        log.add(ch.take()); // the first frees the slot, which b fills
      }
    });
    loop.step(); // p1 put a and waits; the consumer took a and waits

    boolean accepted = ch.offer("o"); // from this thread, not a task
    loop.run();

    assertThat(accepted).isTrue(); // b went in at the take, and the consumer took it since
    log.assertTaken("a", "b", "o");
  }

  @Test
  void put_waitingPutterGrantedASlot_laterPutHandedToATakerCannotOvertakeIt() {
    Channel<String> ch = Channel.create(1);
    loop.addTask("p1", () -> {
      ch.put("a");
      ch.put("b"); // waits from 0 s
      ch.put("d");
    });
    loop.addTask("consumer", () -> {
      Tasko.sleep(Duration.ofMillis(10));
      for (int i = 0; i < 4; i++) {
        log.add(ch.take());
      }
    });
    loop.addTask("p2", () -> {
      Tasko.sleep(Duration.ofMillis(10));
      ch.put("c");
    });

    loop.run();

    log.assertTaken("a", "b", "c", "d");
  }

  @Test
  void put_waitingPutterGrantedASlotNoTakerWaiting_laterPutCannotOvertakeIt() {
    Channel<String> ch = Channel.create(2);
    loop.addTask("p1", () -> {
      ch.put("a");
      ch.put("c");
      ch.put("b"); // waits from 0 s
    });
    loop.addTask("consumer", () -> {
      Tasko.sleep(Duration.ofMillis(10));
      log.add(ch.take());
      log.add(ch.take());
      Tasko.sleep(Duration.ofMillis(10));
      log.add(ch.take());
      log.add(ch.take());
    });
    loop.addTask("p2", () -> {
      Tasko.sleep(Duration.ofMillis(10));
      ch.put("x");
    });

    loop.run();

    log.assertTaken("a", "c", "b", "x");
  }

  /**
   * Found by CoordinationPropertyTest (2 producers, 2 consumers, capacity 1, yields): a putter
   * handed a slot that then gave its element straight to a waiting taker left the slot free but
   * told nobody, so the next putter waited forever.
   */
  @Test
  void put_grantedSlotEndsUnusedAsTheElementGoesToATaker_nextPutterGetsTheSlot() {
    Channel<String> ch = Channel.create("lines", 1);
    ch.offer("x");
    loop.addTask("p1", () -> ch.put("a")); // full: waits
    loop.runLater(Duration.ofSeconds(1), () -> log.add("c took " + ch.take())); // slot to p1
    Task<Void> p2 = loop.runLater("p2", Duration.ofSeconds(1), () -> ch.put("b")); // waits
    loop.runLater(Duration.ofSeconds(1), () -> log.add("t took " + ch.take())); // waits; gets "a"
    loop.runLater("guard", Duration.ofHours(1), loop::stop); // the bug left p2 waiting forever

    loop.run();

    log.assertTaken("c took x", "t took a");
    assertThat(p2.state()).isEqualTo(Task.State.SUCCEEDED);
    assertThat(ch.poll()).isEqualTo("b");
  }

  @Test
  void take_insideWithTimeout_timesOut_andLeavesTheQueue() {
    Channel<String> ch = Channel.create(1);
    loop.addTask(() -> {
      try {
        Tasko.withTimeout(Duration.ofSeconds(1), ch::take);
      } catch (TimeoutException e) {
        log.add("timed out@" + now());
      }
    });
    loop.runLater(Duration.ofSeconds(2), () -> {
      ch.put("x");
      log.add("queued " + ch.size());
    });

    loop.run();

    log.assertTaken("timed out@PT1S", "queued 1");
  }

  @Test
  void unbounded_putNeverWaits() {
    Channel<Integer> ch = Channel.unbounded("log");
    loop.addTask(() -> {
      for (int i = 0; i < 1000; i++) {
        ch.put(i);
      }
      log.add("put 1000@" + now());
    });

    loop.run();

    log.assertTaken("put 1000@PT0S");
    assertThat(ch).hasToString("channel 'log' (1000 queued)");
  }

  @Test
  void toString_readsWellInDiagnostics() {
    Channel<String> ch = Channel.create("lines", 2);
    Task<String> logger = loop.addTask("logger", () -> ch.take());
    loop.step();

    assertThat(logger).hasToString("Task[logger WAITING for channel 'lines' (empty)]");
    assertThat(Channel.create(1)).hasToString("channel (empty)");
    ch.offer("a");
    loop.run();
    ch.offer("b");
    assertThat(ch).hasToString("channel 'lines' (1 of 2 queued)");
    ch.offer("c");
    assertThat(ch).hasToString("channel 'lines' (full: 2 of 2)");
    ch.close();
    assertThat(ch).hasToString("channel 'lines' (closed, 2 left)");
  }

  @Test
  void badInput_clearExceptions() {
    assertThatThrownBy(() -> Channel.create(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("capacity < 1: 0");
    assertThatThrownBy(() -> Channel.create("x", -3)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("capacity < 1: -3");
    assertThatThrownBy(() -> Channel.create(null, 1)).isInstanceOf(NullPointerException.class)
        .hasMessage("name == null");
    Channel<String> ch = Channel.create(1);
    assertThatThrownBy(() -> ch.offer(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("element == null");
    assertThatThrownBy(ch::take).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("take() must be called from a task of a running loop")
        .hasMessageEndingWith(". Another thread may call poll(), which never waits");
    assertThatThrownBy(() -> ch.put("x")).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("put() must be called from a task of a running loop")
        .hasMessageEndingWith(". Another thread may call offer(), which never waits");
    loop.addTask(() -> {
      assertThatThrownBy(() -> ch.put(null)).isInstanceOf(NullPointerException.class)
          .hasMessage("element == null");
      assertThatThrownBy(() -> ch.poll(null)).isInstanceOf(NullPointerException.class);
      assertThatThrownBy(() -> ch.poll(Duration.ofSeconds(-1)))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("timeout < 0: PT-1S");
      log.add("checked");
    });
    loop.run();
    log.assertTaken("checked");
    assertThat(ch.dropped()).isZero();
  }

  @Test
  void poll_timeoutLongerThanALongOfNanoseconds_waitsForTheElement() {
    Channel<String> ch = Channel.create(1);
    loop.addTask(() -> log.add("took " + ch.poll(ChronoUnit.FOREVER.getDuration())));
    loop.runLater(Duration.ofDays(365L * 200), () -> ch.put("late"));

    loop.run();

    log.assertTaken("took late");
  }
}
