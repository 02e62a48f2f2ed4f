package dev.tasko.examples;

import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalState;
import dev.tasko.pi4j.EdgeWatcher;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * A rotary encoder with a push button, read by polling: call {@link #loop()} often (the toy app
 * does it 100 times a second), like the CircuitPython {@code cpy_rotary} library the original
 * tasko's README uses.
 *
 * <p>The two encoder contacts A and B are read as levels: each valid step of the quadrature
 * sequence (A leads B turning clockwise) moves a count by one. Back at rest — both contacts low,
 * the detent position of this wiring — four steps one way make a detent, reported to
 * {@code onTurn}; anything less was a wobble or a bounce and is forgotten. The push button is
 * watched by an {@link EdgeWatcher}, so a click shorter than the polling interval still counts;
 * {@link #close()} stops watching it.
 */
public final class RotaryButton implements AutoCloseable {
  /** Steps for each (previous, current) pair of AB states: +1 clockwise, -1 back, 0 otherwise. */
  private static final int[] STEP = {
      //        to 00  01  10  11
      /* 00 */     0, -1, +1,  0,
      /* 01 */    +1,  0,  0, -1,
      /* 10 */    -1,  0,  0, +1,
      /* 11 */     0, +1, -1,  0,
  };

  /** Both contacts low: where the encoder rests between detents, with pull-downs. */
  private static final int REST = 0b00;

  private final DigitalInput a;
  private final DigitalInput b;
  private final EdgeWatcher push;
  private final IntConsumer onTurn;
  private final Runnable onPress;
  // Only touched by loop(), which one task at a time runs.
  private int previous;
  private int steps;
  private int detents;

  /**
   * Reads the encoder on {@code a} and {@code b}, and its button on {@code push}.
   *
   * @param onTurn called with the new position (in detents) after each detent
   * @param onPress called for each press of the button
   */
  public RotaryButton(DigitalInput a, DigitalInput b, DigitalInput push, IntConsumer onTurn,
      Runnable onPress) {
    this.a = Objects.requireNonNull(a, "a == null");
    this.b = Objects.requireNonNull(b, "b == null");
    this.push = EdgeWatcher.of(Objects.requireNonNull(push, "push == null"));
    this.onTurn = Objects.requireNonNull(onTurn, "onTurn == null");
    this.onPress = Objects.requireNonNull(onPress, "onPress == null");
    this.previous = levels();
  }

  /** Reads the contacts once and reports what changed since the last call. Never suspends. */
  public void loop() {
    int now = levels();
    steps += STEP[previous << 2 | now];
    previous = now;
    if (now == REST) {
      if (Math.abs(steps) >= 4) {
        detents += steps / 4;
        onTurn.accept(detents);
      }
      steps = 0;
    }
    for (DigitalState change; (change = push.poll()) != null; ) {
      if (change == DigitalState.HIGH) {
        onPress.run();
      }
    }
  }

  /** Stops watching the push button (its listener leaves the input). Idempotent; any thread. */
  @Override
  public void close() {
    push.close();
  }

  /** The position, in detents from where it started; clockwise is positive. */
  public int position() {
    return detents;
  }

  private int levels() {
    return (a.isHigh() ? 2 : 0) | (b.isHigh() ? 1 : 0);
  }
}
