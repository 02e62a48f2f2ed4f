package dev.tasko.pi4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import dev.tasko.Loop;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A watcher made outside any task, closed on one thread just as a task ties it to its loop on
 * another: real threads race, many times over.
 */
@Tag("stress")
class EdgeWatcherCloseRaceTest {
  private final Context pi4j = MockPi.context();
  private final MockDigitalInput input = MockPi.input(pi4j, "button", 24);

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  @Test
  @Timeout(60)
  void close_racingATaskThatTiesItToALoop_loopKeepsNothingOfIt() throws Exception {
    Loop loop = Loop.builder().name("race").noStallWarning().build();
    int rounds = 2_000;
    AtomicReference<EdgeWatcher> shared = new AtomicReference<>();
    AtomicInteger phase = new AtomicInteger(); // 2i + 1: watcher i made; 2i + 2: tied to the loop
    List<WeakReference<Object>> edges = new ArrayList<>();
    loop.addTask("binder", () -> {
      for (int i = 0; i < rounds; i++) {
        while (phase.get() != 2 * i + 1) {
          Thread.onSpinWait();
        }
        shared.get().edges(); // ties the watcher, made outside any task, to this loop
        phase.set(2 * i + 2);
      }
    });
    // Keeps the loop's list of what to close on shutdown busy, as outside adds do, which widens
    // the window between the watcher learning its loop and registering with it.
    AtomicBoolean busy = new AtomicBoolean(true);
    AutoCloseable other = () -> { };
    Thread registrar = Thread.ofPlatform().start(() -> {
      while (busy.get()) {
        loop.closeOnShutdown(other);
        loop.cancelCloseOnShutdown(other);
      }
    });
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread driver = Thread.ofPlatform().start(() -> {
      try {
        loop.run();
      } catch (Throwable e) {
        failure.set(e);
      }
    });
    for (int i = 0; i < rounds; i++) {
      EdgeWatcher w = EdgeWatcher.of(input);
      edges.add(new WeakReference<>(w.edges()));
      shared.set(w);
      phase.set(2 * i + 1);
      w.close(); // races the task's first tie to the loop
      while (phase.get() != 2 * i + 2) {
        Thread.onSpinWait();
      }
    }
    shared.set(null);
    driver.join(10_000);
    busy.set(false);
    registrar.join(5_000);
    assertThat(failure.get()).isNull();

    long kept = edges.size();
    for (int k = 0; k < 10 && kept > 0; k++) {
      System.gc();
      kept = edges.stream().filter(r -> r.get() != null).count();
    }

    // Before: a close between the two left the closed watcher's link, and with it its edges, in
    // the loop's list until the loop shut down (1 to 10 of 2,000 in each of eight runs).
    assertThat(kept).as("closed watchers whose edges the loop still holds").isZero();
    assertThat(loop.taskCount()).isZero();
  }
}
