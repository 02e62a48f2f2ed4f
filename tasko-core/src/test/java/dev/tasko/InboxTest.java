package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class InboxTest {
  private static final int SLOTS = Inbox.SEGMENT_SLOTS;

  /** A command that only names itself, for order checks. */
  private record Command(int id) implements Runnable {
    @Override
    public void run() {}
  }

  private static List<Object> drain(Inbox inbox) {
    List<Object> taken = new ArrayList<>();
    Object entry;
    while ((entry = inbox.poll()) != null) {
      taken.add(entry);
    }
    return taken;
  }

  @Test
  void poll_moreEntriesThanOneArrayHolds_takesThemAllInTheOrderSent() {
    Inbox inbox = new Inbox();
    List<Object> sent = new ArrayList<>();
    for (int i = 0; i < 3 * SLOTS + 5; i++) {
      Command c = new Command(i);
      sent.add(c);
      inbox.send(c);
    }

    assertThat(inbox.isEmpty()).isFalse();
    assertThat(drain(inbox)).containsExactlyElementsOf(sent);
    assertThat(inbox.isEmpty()).isTrue();
    assertThat(inbox.poll()).isNull();
  }

  @Test
  void poll_sendsAndTakesInterleavedAcrossArrays_keepsOrder() {
    Inbox inbox = new Inbox(); // arrays of the size the loop uses
    ArrayDeque<Object> model = new ArrayDeque<>();
    int id = 0;
    for (int round = 0; round < 5; round++) {
      for (int i = 0; i < SLOTS - 3; i++) { // not a multiple of an array: boundaries move
        Command c = new Command(id++);
        model.add(c);
        inbox.send(c);
      }
      for (int i = 0; i < SLOTS / 2; i++) {
        assertThat(inbox.poll()).isSameAs(model.poll());
      }
    }

    assertThat(drain(inbox)).containsExactlyElementsOf(model);
  }

  @Test
  void withdraw_aCommandStillQueued_neverTakenAndTheRestKeepOrder() {
    Inbox inbox = new Inbox();
    Command first = new Command(1);
    Command second = new Command(2);
    Command third = new Command(3);
    inbox.send(first);
    inbox.send(second);
    inbox.send(third);

    assertThat(inbox.withdraw(second)).isTrue();
    assertThat(inbox.withdraw(second)).isFalse();

    assertThat(drain(inbox)).containsExactly(first, third);
  }

  @Test
  void withdraw_aCommandAlreadyTaken_false() {
    Inbox inbox = new Inbox();
    Command c = new Command(1);
    inbox.send(c);
    assertThat(inbox.poll()).isSameAs(c);

    assertThat(inbox.withdraw(c)).isFalse();
    assertThat(inbox.isEmpty()).isTrue();
  }

  @Test
  void isEmpty_onlyWithdrawnCommandsLeft_true() {
    Inbox inbox = new Inbox();
    Command c = new Command(1);
    inbox.send(c);
    inbox.withdraw(c);

    assertThat(inbox.isEmpty()).isTrue();
    assertThat(inbox.poll()).isNull();
  }

  @Test
  void isEmpty_readOnAnotherThread_seesWhatWasSentAndTaken() throws Exception {
    Inbox inbox = new Inbox(4);
    for (int i = 0; i < 5; i++) {
      inbox.send(new Command(i));
    }
    for (int i = 0; i < 4; i++) {
      inbox.poll();
    }
    boolean[] empty = new boolean[2];
    Thread reader = Thread.ofPlatform().start(() -> empty[0] = inbox.isEmpty());
    reader.join();
    inbox.poll();
    reader = Thread.ofPlatform().start(() -> empty[1] = inbox.isEmpty());
    reader.join();

    assertThat(empty).containsExactly(false, true);
  }

  /** One step: send a command, take one, withdraw the queued one {@code value} picks, or look. */
  record Step(int kind, int value) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    return Arbitraries.integers().between(0, 9).flatMap(kind -> Arbitraries.integers()
        .between(0, 1_000_000).map(value -> new Step(kind, value))).list().ofMaxSize(300);
  }

  /**
   * Random sends, takes and withdrawals, checked after every step against a deque: what is taken,
   * what a withdrawal returns, and whether the queue is empty. Arrays of three slots, so that
   * nearly every step crosses from one array to the next somewhere.
   */
  @Property(tries = 200)
  void steps_matchADequeModel(@ForAll("steps") List<Step> steps) {
    Inbox inbox = new Inbox(3);
    ArrayDeque<Command> model = new ArrayDeque<>();
    int id = 0;
    for (Step step : steps) {
      switch (step.kind()) {
        case 0, 1 -> assertThat(inbox.poll()).isSameAs(model.poll());
        case 2 -> {
          if (model.isEmpty()) {
            assertThat(inbox.withdraw(new Command(-1))).isFalse();
          } else {
            Command c = new ArrayList<>(model).get(step.value() % model.size());
            model.remove(c);
            assertThat(inbox.withdraw(c)).isTrue();
          }
        }
        default -> {
          Command c = new Command(id++);
          model.add(c);
          inbox.send(c);
        }
      }
      assertThat(inbox.isEmpty()).isEqualTo(model.isEmpty());
    }
    assertThat(drain(inbox)).containsExactlyElementsOf(model);
  }
}
