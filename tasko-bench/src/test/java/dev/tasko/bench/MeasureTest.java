package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class MeasureTest {

  @Test
  void growingSum_aThreadEnds_keepsItsLastCount() {
    Measure.GrowingSum sum = new Measure.GrowingSum(1);

    assertThat(sum.sum(Map.of(1L, new long[] {5}), Set.of())[0]).isEqualTo(5);
    assertThat(sum.sum(Map.of(1L, new long[] {7}, 2L, new long[] {3}), Set.of())[0])
        .isEqualTo(10);
    // thread 1 ended at 7
    assertThat(sum.sum(Map.of(2L, new long[] {4}), Set.of())[0]).isEqualTo(11);
    assertThat(sum.sum(Map.of(), Set.of())[0]).isEqualTo(11);
  }

  @Test
  void growingSum_aLiveThreadReadOnceInVain_countsOnce() {
    Measure.GrowingSum sum = new Measure.GrowingSum(1);

    assertThat(sum.sum(Map.of(1L, new long[] {5}), Set.of())[0]).isEqualTo(5);
    assertThat(sum.sum(Map.of(), Set.of(1L))[0]).isEqualTo(5); // listed, its reading failed
    assertThat(sum.sum(Map.of(1L, new long[] {7}), Set.of())[0]).isEqualTo(7);
    assertThat(sum.sum(Map.of(), Set.of())[0]).isEqualTo(7); // now it has ended
  }

  @Test
  void growingSum_anIdGivenToANewThread_countsBoth() {
    Measure.GrowingSum sum = new Measure.GrowingSum(2);

    assertThat(sum.sum(Map.of(1L, new long[] {100, 10}), Set.of())).containsExactly(100, 10);
    // lower than last read: the id now names a new thread, and the old one's count stays
    assertThat(sum.sum(Map.of(1L, new long[] {2, 10}), Set.of())).containsExactly(102, 20);
  }

  @Test
  @Tag("realtime") // a real thread, and /proc
  void contextSwitches_aThreadThatSwitchedALotEnds_neverLower() throws Exception {
    CountDownLatch switched = new CountDownLatch(1);
    CountDownLatch end = new CountDownLatch(1);
    Thread switcher = Thread.ofPlatform().name("switcher").start(() -> {
      for (int i = 0; i < 2_000; i++) {
        LockSupport.parkNanos(1_000); // a voluntary switch each
      }
      switched.countDown();
      try {
        end.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    switched.await();
    long[] before = Measure.contextSwitches();

    end.countDown();
    switcher.join();
    // join() returns before the native thread leaves /proc: wait until it has
    while (Measure.threadTimes().values().stream().anyMatch(t -> t.name().equals("switcher"))) {
      Thread.onSpinWait();
    }
    long[] after = Measure.contextSwitches();

    if (!Files.exists(Path.of("/proc/self/task"))) {
      assertThat(after).containsExactly(-1, -1);
      return;
    }
    assertThat(after[0]).isGreaterThanOrEqualTo(before[0]);
    assertThat(after[1]).isGreaterThanOrEqualTo(before[1]);
  }
}
