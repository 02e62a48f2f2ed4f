package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Random programs of producers, consumers, holders and cancels on a {@link Channel} and a
 * {@link Semaphore}, on virtual time, checked against their FIFO and conservation promises.
 */
class CoordinationPropertyTest {

  /** A delay in ms from the drawn list, cycled; 0 means a yield. */
  private static void pause(List<Integer> delays, int i) {
    int ms = delays.get(Math.floorMod(i, delays.size()));
    if (ms == 0) {
      Tasko.yieldNow();
    } else {
      Tasko.sleep(Duration.ofMillis(ms));
    }
  }

  /**
   * Runs the program; a stuck one (a task waiting on a channel forever, which the loop does not
   * call a deadlock) is stopped after an hour of virtual time and fails here instead of hanging.
   */
  private static void runAtMostAnHour(Loop loop) {
    loop.runLater("guard", Duration.ofHours(1), loop::stop);
    loop.run();
    assertThat(loop.taskCount()).as("tasks still stuck after an hour").isZero();
  }

  @Property(tries = 300)
  void channel_oneConsumer_takesExactlyWhatWasAcceptedInOrder_neverPastCapacity(
      @ForAll @IntRange(min = 1, max = 4) int capacity,
      @ForAll @IntRange(min = 1, max = 4) int producers,
      @ForAll @IntRange(min = 1, max = 6) int perProducer,
      @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0, max = 30) Integer> delays,
      @ForAll @Size(max = 3) List<@IntRange(min = 0, max = 100) Integer> cancelAt) {
    Loop loop = Loop.builder().virtualTime().build();
    Channel<Integer> ch = Channel.create(capacity);
    List<Integer> accepted = new ArrayList<>();
    List<Integer> taken = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    List<Task<Void>> makers = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      int id = p;
      makers.add(loop.addTask("producer-" + p, () -> {
        for (int i = 0; i < perProducer; i++) {
          pause(delays, id * 7 + i);
          ch.put(id * 100 + i);
          accepted.add(id * 100 + i); // same turn as the put: the channel's insertion order
          sizes.add(ch.size());
        }
      }));
    }
    for (int c = 0; c < cancelAt.size(); c++) {
      Task<Void> victim = makers.get(c % producers);
      loop.runLater(Duration.ofMillis(cancelAt.get(c)), victim::cancel);
    }
    loop.addTask("closer", () -> {
      for (Task<Void> m : makers) {
        try {
          m.join();
        } catch (CancellationException e) {
          // a cancelled producer: what it had not put is simply not accepted
        }
      }
      ch.close();
    });
    loop.addTask("consumer", () -> {
      int i = 0;
      for (int x : ch) {
        taken.add(x);
        sizes.add(ch.size());
        pause(delays, 3 * i++);
      }
    });

    runAtMostAnHour(loop);

    assertThat(taken).isEqualTo(accepted);
    assertThat(sizes).allSatisfy(n -> assertThat(n).isBetween(0, capacity));
    assertThat(ch.size()).isZero();
  }

  @Property(tries = 300)
  void channel_consumersCancelled_nothingLostNothingDuplicated(
      @ForAll @IntRange(min = 1, max = 3) int capacity,
      @ForAll @IntRange(min = 1, max = 3) int producers,
      @ForAll @IntRange(min = 2, max = 4) int consumers,
      @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0, max = 20) Integer> delays,
      @ForAll @Size(max = 3) List<@IntRange(min = 0, max = 60) Integer> cancelAt) {
    Loop loop = Loop.builder().virtualTime().build();
    Channel<Integer> ch = Channel.create(capacity);
    List<Integer> accepted = new ArrayList<>();
    List<Integer> taken = new ArrayList<>();
    List<Task<Void>> makers = new ArrayList<>();
    List<Task<Void>> takers = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      int id = p;
      makers.add(loop.addTask(() -> {
        for (int i = 0; i < 5; i++) {
          pause(delays, id + i);
          ch.put(id * 100 + i);
          accepted.add(id * 100 + i);
        }
      }));
    }
    for (int c = 0; c < consumers; c++) {
      int id = c;
      takers.add(loop.addTask(() -> {
        int i = 0;
        for (int x : ch) {
          taken.add(x);
          pause(delays, id * 5 + i++);
        }
      }));
    }
    for (int c = 0; c < cancelAt.size(); c++) { // consumer 0 is never cancelled: someone drains
      Task<Void> victim = takers.get(1 + c % (consumers - 1));
      loop.runLater(Duration.ofMillis(cancelAt.get(c)), victim::cancel);
    }
    loop.addTask("closer", () -> {
      for (Task<Void> m : makers) {
        m.join();
      }
      ch.close();
    });

    runAtMostAnHour(loop);

    assertThat(taken).containsExactlyInAnyOrderElementsOf(accepted);
    assertThat(ch.size()).as("left behind, e.g. given back after the others ended").isZero();
  }

  @Property(tries = 300)
  void semaphore_neverMoreHoldersThanPermits_onePermitGrantedInRequestOrder_allReturned(
      @ForAll @IntRange(min = 1, max = 3) int permits,
      @ForAll @IntRange(min = 1, max = 8) int tasks,
      @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0, max = 30) Integer> delays,
      @ForAll @Size(max = 3) List<@IntRange(min = 0, max = 100) Integer> cancelAt) {
    Loop loop = Loop.builder().virtualTime().build();
    Semaphore sem = Semaphore.create("slots", permits);
    List<Integer> requests = new ArrayList<>();
    List<Integer> grants = new ArrayList<>();
    int[] holders = new int[1];
    int[] maxHolders = new int[1];
    List<Task<Void>> all = new ArrayList<>();
    for (int t = 0; t < tasks; t++) {
      int id = t;
      all.add(loop.addTask("t" + t, () -> {
        for (int round = 0; round < 3; round++) {
          pause(delays, id + round);
          requests.add(id);
          Permit p;
          try {
            p = sem.acquire();
          } catch (CancellationException e) {
            requests.remove(requests.lastIndexOf(id)); // left the queue: no longer in line
            throw e;
          }
          try (p) {
            grants.add(id);
            holders[0]++;
            maxHolders[0] = Math.max(maxHolders[0], holders[0]);
            pause(delays, 2 * id + round + 1);
          } finally {
            holders[0]--;
          }
        }
      }));
    }
    for (int c = 0; c < cancelAt.size(); c++) {
      loop.runLater(Duration.ofMillis(cancelAt.get(c)), all.get(c % tasks)::cancel);
    }

    runAtMostAnHour(loop);

    assertThat(maxHolders[0]).isLessThanOrEqualTo(permits);
    assertThat(sem.available()).isEqualTo(permits);
    if (permits == 1) {
      assertThat(grants).isEqualTo(requests);
    }
  }
}
