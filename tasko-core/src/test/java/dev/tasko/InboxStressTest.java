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
 * Four threads send to one inbox while a fifth takes commands back and the taker sleeps whenever
 * the inbox looks empty, as the loop's driver does. Afterwards every entry was either taken once
 * or withdrawn, each sender's entries were taken in the order sent, and no wake-up was lost (a
 * lost one leaves the taker asleep until the timeout). Real threads, so it is kept out of the fast
 * suite:
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

  @Test
  void send_fromFourThreadsWithWithdrawals_eachEntryTakenOnceInEachSendersOrder()
      throws Exception {
    Inbox inbox = new Inbox();
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
