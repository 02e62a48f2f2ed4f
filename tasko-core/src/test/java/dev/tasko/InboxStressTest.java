package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Threads send to one inbox while the taker sleeps whenever the inbox looks empty, as the loop's
 * driver does: one sender in lockstep with the taker, so that each wake-up is the only one; then
 * four senders while a fifth thread takes commands back; and a thread that asks whether the inbox
 * is empty while the taker moves through it. Afterwards every entry was taken once or
 * withdrawn, each sender's entries were taken in the order sent, and no wake-up was lost (a lost
 * one leaves the taker asleep until the timeout). Arrays of eight slots, so that senders append
 * one often. Real threads, so it is kept out of the fast suite:
 * <pre>
 * mvn -B -pl tasko-core -am verify -Dstress=true -Dtest=InboxStressTest \
 *     -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@Tag("stress")
@EnabledIfSystemProperty(named = "stress", matches = "true")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class InboxStressTest {
  private static final int SENDERS = 4;
  private static final int PER_SENDER = 200_000;

  private record Command(int sender, int seq) implements Runnable {
    @Override
    public void run() {}
  }

  /**
   * One sender, one entry at a time: it sends the next only once the taker has taken the last, so
   * each send's wake-up is the only one that can wake the taker. A lost one leaves it parked.
   */
  @Test
  void send_oneAtATimeToASleepingTaker_everyWakeUpArrives() throws Exception {
    Inbox inbox = new Inbox(8);
    int rounds = 200_000;
    AtomicInteger takenCount = new AtomicInteger();
    Thread taker = Thread.currentThread();
    Thread sender = Thread.ofPlatform().start(() -> {
      for (int i = 0; i < rounds; i++) {
        inbox.send(new Command(0, i));
        while (takenCount.get() <= i) {
          Thread.onSpinWait();
        }
      }
    });
    for (int i = 0; i < rounds; i++) {
      Object entry;
      while ((entry = inbox.poll()) == null) {
        inbox.sleeper(taker); // publish, look a last time, park
        if (inbox.isEmpty()) {
          LockSupport.park();
        }
        inbox.sleeper(null);
      }
      assertThat(((Command) entry).seq()).isEqualTo(i);
      takenCount.set(i + 1);
    }
    sender.join();

    assertThat(inbox.isEmpty()).isTrue();
  }

  /**
   * A thread asks whether the inbox is empty while the taker moves from array to array: it may
   * answer true only once the taker has begun to take the last entry. A stale read of where the
   * taker is (the array, or the slot in it) that skipped entries would answer true too soon.
   */
  @Test
  void isEmpty_fromAnotherThreadWhileTaking_neverTrueWithAnEntryLeft() throws Exception {
    int entries = 400_000;
    Inbox inbox = new Inbox(8);
    for (int i = 0; i < entries; i++) {
      inbox.send(new Command(0, i));
    }
    AtomicInteger started = new AtomicInteger(); // entries the taker has begun to take
    AtomicInteger tooSoon = new AtomicInteger(-1);
    Thread reader = Thread.ofPlatform().start(() -> {
      while (started.get() < entries) {
        if (inbox.isEmpty()) {
          // Seeing the last slot taken, it sees everything the taker did before taking it.
          int s = started.get();
          if (s < entries) {
            tooSoon.compareAndSet(-1, s);
          }
          return;
        }
      }
    });
    for (int i = 0; i < entries; i++) {
      started.set(i + 1);
      assertThat(((Command) inbox.poll()).seq()).isEqualTo(i);
    }
    reader.join();

    assertThat(tooSoon.get()).as("isEmpty() true when only this many were begun")
        .isEqualTo(-1);
    assertThat(inbox.isEmpty()).isTrue();
  }

  @Test
  void send_fromFourThreadsWithWithdrawals_eachEntryTakenOnceInEachSendersOrder()
      throws Exception {
    Inbox inbox = new Inbox(8);
    Command[][] sent = new Command[SENDERS][PER_SENDER];
    AtomicInteger published = new AtomicInteger(); // how many of sent[0] the withdrawer may read
    AtomicInteger finished = new AtomicInteger(); // senders and withdrawer done, each then wakes
    List<Thread> senders = new ArrayList<>();
    for (int s = 0; s < SENDERS; s++) {
      int sender = s;
      senders.add(Thread.ofPlatform().start(() -> {
        for (int i = 0; i < PER_SENDER; i++) {
          Command c = new Command(sender, i);
          sent[sender][i] = c;
          inbox.send(c);
          if (sender == 0) {
            published.set(i + 1);
          }
        }
        finished.incrementAndGet();
        inbox.wake();
      }));
    }
    boolean[] withdrawn = new boolean[PER_SENDER];
    Thread withdrawer = Thread.ofPlatform().start(() -> {
      for (int i = 0; i < PER_SENDER; i += 7) {
        while (published.get() <= i) {
          Thread.onSpinWait();
        }
        withdrawn[i] = inbox.withdraw(sent[0][i]);
      }
      finished.incrementAndGet();
      inbox.wake();
    });

    int[] nextSeq = new int[SENDERS];
    boolean[] takenFromSender0 = new boolean[PER_SENDER];
    int taken = 0;
    Thread self = Thread.currentThread();
    while (true) {
      Object entry = inbox.poll();
      if (entry != null) {
        Command c = (Command) entry;
        assertThat(c.seq()).as("sender %d's order", c.sender())
            .isGreaterThanOrEqualTo(nextSeq[c.sender()]);
        nextSeq[c.sender()] = c.seq() + 1;
        if (c.sender() == 0) {
          takenFromSender0[c.seq()] = true;
        }
        taken++;
        continue;
      }
      // As the driver idles: publish itself, look a last time, park. A lost wake-up leaves it
      // parked until the timeout fails the test.
      inbox.sleeper(self);
      boolean allFinished = finished.get() == SENDERS + 1;
      if (inbox.isEmpty()) {
        if (allFinished) {
          break;
        }
        LockSupport.park();
      }
      inbox.sleeper(null);
    }
    withdrawer.join();

    int withdrawals = 0;
    for (int i = 0; i < PER_SENDER; i++) {
      if (withdrawn[i]) {
        withdrawals++;
        assertThat(takenFromSender0[i]).as("withdrawn %d, taken too", i).isFalse();
      } else {
        assertThat(takenFromSender0[i]).as("neither withdrawn nor taken: %d", i).isTrue();
      }
    }
    assertThat(taken + withdrawals).isEqualTo(SENDERS * PER_SENDER);
    for (int s = 1; s < SENDERS; s++) {
      assertThat(nextSeq[s]).isEqualTo(PER_SENDER);
    }
  }
}
