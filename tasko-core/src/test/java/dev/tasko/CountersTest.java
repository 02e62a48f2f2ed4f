package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class CountersTest {

  @Test
  @Tag("stress") // real threads race: a reader against the driving thread's idle periods
  void stats_readWhileIdlePeriodsBeginAndEnd_idleTimeNeverGoesBack() throws Exception {
    Counters counters = new Counters();
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong decreases = new AtomicLong();
    AtomicLong reads = new AtomicLong();
    CountDownLatch reading = new CountDownLatch(2);
    Runnable reader = () -> {
      long last = 0;
      long n = 0;
      reading.countDown();
      while (!done.get()) {
        long idle = counters.stats().idleTime().toNanos();
        if (idle < last) {
          decreases.incrementAndGet();
        }
        last = Math.max(last, idle);
        n++;
      }
      reads.addAndGet(n);
    };
    Thread[] readers = {Thread.ofPlatform().start(reader), Thread.ofPlatform().start(reader)};
    reading.await(); // both read while the periods below begin and end

    for (int i = 0; i < 300_000; i++) { // the driving thread: idle, awake, idle, ...
      counters.idleBegan(System.nanoTime());
      Thread.onSpinWait();
      counters.idleEnded();
    }
    done.set(true);
    for (Thread t : readers) {
      t.join();
    }

    assertThat(reads.get()).isPositive();
    assertThat(decreases.get()).as("reads lower than an earlier one, of %d", reads.get())
        .isZero();
  }
}
