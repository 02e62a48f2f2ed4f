package dev.tasko.pi4j;

import static com.pi4j.io.gpio.digital.DigitalState.HIGH;
import static com.pi4j.io.gpio.digital.DigitalState.LOW;
import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import dev.tasko.Loop;
import dev.tasko.Tasko;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Races a thread that changes an input as fast as it can against a task that takes the changes in
 * every way there is — await, await with a timeout, poll — on a loop on the real clock: no change
 * may be lost, duplicated or reordered, and no wake-up may be missed (that would hang). Real time
 * and real threads, so it is kept out of the fast suite:
 * <pre>mvn -B -pl tasko-pi4j -am verify -Dstress=true -Dtest=EdgeWatcherStressTest
 * -Dsurefire.failIfNoSpecifiedTests=false</pre>
 */
@Tag("stress")
@EnabledIfSystemProperty(named = "stress", matches = "true")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EdgeWatcherStressTest {
  private final Context pi4j = MockPi.context();
  private final MockDigitalInput input = MockPi.input(pi4j, "input", 24);

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  @Test
  void awaitAwaitTimeoutAndPoll_raceForeignThread_everyChangeOnceInOrder()
      throws InterruptedException {
    for (int round = 0; round < 1_000; round++) {
      Loop loop = Loop.builder().name("stress-" + round).build();
      int changes = 500;
      EdgeWatcher watcher = EdgeWatcher.of(input, changes);
      int first = input.isHigh() ? 1 : 0; // the mock keeps its level from the previous round
      List<DigitalState> got = new ArrayList<>();
      loop.addTask(() -> {
        while (got.size() < changes) {
          switch (got.size() % 3) {
            case 0 -> watcher.await(Duration.ofMillis(1)).ifPresent(got::add);
            case 1 -> got.add(watcher.await());
            default -> {
              DigitalState s = watcher.poll();
              if (s != null) {
                got.add(s);
              } else {
                Tasko.yieldNow();
              }
            }
          }
        }
      });
      Thread outside = new Thread(() -> {
        for (int i = 0; i < changes; i++) {
          input.mockState((first + i) % 2 == 0 ? HIGH : LOW);
        }
      }, "outside");
      outside.start();

      loop.run();
      outside.join();

      for (int i = 0; i < changes; i++) {
        assertThat(got.get(i)).as("round %d, change %d", round, i).isEqualTo((first + i) % 2 == 0
            ? HIGH : LOW);
      }
      assertThat(watcher.dropped()).isZero();
      watcher.close();
    }
  }
}
