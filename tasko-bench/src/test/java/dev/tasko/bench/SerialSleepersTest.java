package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SerialSleepersTest {

  @Test
  void run_manySleepers_eachWakesAfterItsDeadlineInDeadlineOrder() {
    int n = 2_000;
    SplittableRandom random = new SplittableRandom(7);
    long[] delays = new long[n];
    for (int i = 0; i < n; i++) {
      delays[i] = random.nextLong(20_000_000L); // 0–20 ms
    }
    long[] deadlines = new long[n];
    long[] wokeAt = new long[n];

    SerialSleepers.run(delays, deadlines, wokeAt);

    for (int i = 0; i < n; i++) {
      assertThat(wokeAt[i]).as("sleeper %d", i).isGreaterThanOrEqualTo(deadlines[i]);
    }
    // One at a time, earliest first: sorted by when they woke, the deadlines never go down.
    long[] byWake = IntStream.range(0, n).boxed()
        .sorted(Comparator.comparingLong(i -> wokeAt[i]))
        .mapToLong(i -> deadlines[i]).toArray();
    long[] sorted = byWake.clone();
    Arrays.sort(sorted);
    assertThat(byWake).containsExactly(sorted);
  }
}
