package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Plain threads offering as fast as they can into a small channel, against tasks that take in
 * every way there is — take, poll with a timeout, for-each — while one of them is cancelled now
 * and then, on a loop on the real clock. Every offer is either taken exactly once or counted as
 * dropped, and no wake-up is missed (that would hang). (Order is checked with one consumer by
 * CoordinationPropertyTest: with several, the order they log in is not the order they were served.)
 * Real time and real threads, so it is kept out of the fast suite:
 * <pre>
 * mvn -B -pl tasko-core -am verify -Dstress=true -Dtest=ChannelStressTest \
 *     -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@Tag("stress")
@EnabledIfSystemProperty(named = "stress", matches = "true")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ChannelStressTest {

  @Test
  void offerFromThreads_takeInEveryWay_withCancels_eachAcceptedElementOnceInOrder()
      throws InterruptedException {
    for (int round = 0; round < 200; round++) {
      Loop loop = Loop.builder().name("stress-" + round).build();
      Channel<Long> ch = Channel.create(4);
      int threads = 3;
      int each = 2_000;
      List<Long> taken = new ArrayList<>(); // only touched by the loop's tasks
      List<Task<Void>> takers = new ArrayList<>();
      for (int c = 0; c < 3; c++) {
        int kind = c;
        takers.add(loop.addTask("taker-" + c, () -> {
          try {
            if (kind == 0) {
              for (long x : ch) {
                taken.add(x);
              }
            } else {
              for (;;) {
                Long x = kind == 1 ? ch.take() : ch.poll(Duration.ofNanos(50_000));
                if (x != null) {
                  taken.add(x);
                }
              }
            }
          } catch (ChannelClosedException | CancellationException e) {
            // closed and drained, or cancelled: either way this taker is done
          }
        }));
      }
      long[] accepted = new long[threads];
      Thread[] offerers = new Thread[threads];
      for (int t = 0; t < threads; t++) {
        int id = t;
        offerers[t] = Thread.ofPlatform().start(() -> {
          for (long i = 0; i < each; i++) {
            if (ch.offer(id * 1_000_000L + i)) {
              accepted[id]++;
            }
            if (id == 0 && i == each / 2) {
              takers.get(2).cancel(); // from a foreign thread, mid-stream
            }
          }
        });
      }
      Thread closer = Thread.ofPlatform().start(() -> {
        for (Thread o : offerers) {
          try {
            o.join();
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          }
        }
        ch.close();
      });

      loop.run();
      closer.join();

      long offered = (long) threads * each;
      long acceptedAll = accepted[0] + accepted[1] + accepted[2];
      assertThat(acceptedAll + ch.dropped()).as("round %d", round).isEqualTo(offered);
      assertThat(taken).as("round %d", round).hasSize((int) acceptedAll).doesNotHaveDuplicates();
    }
  }
}
