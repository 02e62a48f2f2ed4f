package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Eight threads hammer a running loop on the real clock with everything a foreign thread may do —
 * addTask, runLater, schedule, resume, cancel, stop, and a schedule's stop/start/cancel — while the
 * loop's driver keeps calling run() again after each stop(). Afterwards every task is accounted
 * for: ended, never failed, its body run at most once (exactly once if it succeeded, never if it
 * was cancelled before it started), and the loop is empty. Real threads and real time, so it is
 * kept out of the fast suite:
 * <pre>
 * mvn -B -pl tasko-core verify -Dstress=true -Dtest=ForeignThreadStressTest \
 *     -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@Tag("stress")
@EnabledIfSystemProperty(named = "stress", matches = "true")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ForeignThreadStressTest {
  private static final int THREADS = 8;
  private static final int OPS_PER_THREAD = 20_000;

  @Test
  void everyForeignOperation_fromEightThreads_everyTaskAccountedFor() throws Exception {
    Loop loop = Loop.builder().name("stress").failureHandler((t, f) -> {
      throw new AssertionError("no task may fail: " + t, f);
    }).build();
    Map<Task<?>, AtomicInteger> runs = new ConcurrentHashMap<>();
    List<ScheduledTask> schedules = new CopyOnWriteArrayList<>();
    AtomicReferenceArray<Suspension> parked = new AtomicReferenceArray<>(64);
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger stops = new AtomicInteger();

    Thread driver = Thread.ofPlatform().name("stress-driver").start(() -> {
      while (!done.get() || loop.taskCount() > 0) {
        loop.run(); // returns at each stop(), or when empty: go again
        if (loop.taskCount() == 0) {
          Thread.onSpinWait();
        }
      }
    });
    Thread[] hammers = new Thread[THREADS];
    for (int h = 0; h < THREADS; h++) {
      long seed = h;
      hammers[h] = Thread.ofPlatform().name("hammer-" + h).start(() -> {
        SplittableRandom random = new SplittableRandom(seed);
        Task<?>[] mine = new Task<?>[32];
        for (int i = 0; i < OPS_PER_THREAD; i++) {
          int slot = random.nextInt(parked.length());
          switch (random.nextInt(10)) {
            case 0, 1, 2 -> {
              AtomicInteger count = new AtomicInteger();
              Duration timeout = Duration.ofMillis(random.nextInt(1, 20));
              Task<Void> t = loop.addTask(() -> {
                count.incrementAndGet();
                Suspension s = Tasko.suspend("a foreign resume");
                parked.set(slot, s);
                s.await(timeout);
              });
              runs.put(t, count);
              mine[i % mine.length] = t;
            }
            case 3 -> {
              AtomicInteger count = new AtomicInteger();
              Task<Void> t = loop.runLater(Duration.ofNanos(random.nextLong(2_000_000)), () -> {
                count.incrementAndGet();
                Tasko.sleep(Duration.ofNanos(100_000));
              });
              runs.put(t, count);
              mine[i % mine.length] = t;
            }
            case 4 -> {
              Suspension s = parked.get(slot);
              if (s != null) {
                s.resume();
              }
            }
            case 5 -> {
              Task<?> t = mine[random.nextInt(mine.length)];
              if (t != null) {
                t.cancel();
              }
            }
            case 6 -> {
              loop.stop();
              stops.incrementAndGet();
            }
            case 7 -> {
              if (schedules.size() < 50) {
                schedules.add(loop.schedule(Duration.ofMillis(1 + random.nextInt(5)), () -> {}));
              }
            }
            case 8 -> {
              if (!schedules.isEmpty()) {
                ScheduledTask s = schedules.get(random.nextInt(schedules.size()));
                switch (random.nextInt(3)) {
                  case 0 -> s.stop();
                  case 1 -> s.start();
                  default -> s.changeRate(Duration.ofMillis(1 + random.nextInt(5)));
                }
              }
            }
            default -> Thread.yield();
          }
        }
      });
    }
    for (Thread h : hammers) {
      h.join();
    }
    for (ScheduledTask s : schedules) {
      s.cancel();
    }
    done.set(true);
    loop.stop(); // in case the driver waits in an idle run()
    driver.join(TimeUnit.SECONDS.toMillis(60));

    assertThat(driver.isAlive()).as("driver finished").isFalse();
    assertThat(loop.taskCount()).isZero();
    assertThat(stops.get()).isPositive();
    assertThat(runs).hasSizeGreaterThan(THREADS * OPS_PER_THREAD / 3);
    runs.forEach((task, count) -> {
      assertThat(task.isDone()).as("%s ended", task).isTrue();
      assertThat(task.state()).as("%s", task).isNotEqualTo(Task.State.FAILED);
      assertThat(count.get()).as("runs of %s", task).isLessThanOrEqualTo(1);
      if (task.state() == Task.State.SUCCEEDED) {
        assertThat(count.get()).as("runs of %s", task).isEqualTo(1);
      }
    });
    for (ScheduledTask s : schedules) {
      assertThat(s.isScheduled()).isFalse();
      assertThat(s.isRunning()).isFalse();
    }
  }
}
