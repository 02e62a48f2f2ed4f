package dev.tasko.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

/**
 * Records what happened, in order — task steps, pin changes, callbacks — so a test can check the
 * exact interleaving. Thread-safe: a Pi4J listener or a thread outside the loop may add events.
 */
public final class EventLog {
  private final List<String> events = new ArrayList<>();

  /** Creates an empty log. */
  public EventLog() {}

  /** Records {@code event} after every event recorded so far. */
  public synchronized void add(String event) {
    events.add(event);
  }

  /** Returns the events recorded since the last take, oldest first, and forgets them. */
  public synchronized List<String> take() {
    List<String> copy = List.copyOf(events);
    events.clear();
    return copy;
  }

  /** Takes the events and checks they are exactly {@code expected}, in that order. */
  public void assertTaken(String... expected) {
    assertThat(take()).containsExactly(expected);
  }
}
