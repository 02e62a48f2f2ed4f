package dev.tasko.pi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

/**
 * Records what happened, in order — task steps and pin changes alike — so a test can check the
 * exact interleaving. Thread-safe: Pi4J listeners may add from other threads.
 */
final class EventLog {
  private final List<String> events = new ArrayList<>();

  synchronized void add(String event) {
    events.add(event);
  }

  synchronized List<String> take() {
    List<String> copy = List.copyOf(events);
    events.clear();
    return copy;
  }

  void assertTaken(String... expected) {
    assertThat(take()).containsExactly(expected);
  }
}
