package dev.tasko;

/**
 * A source of monotonic time in nanoseconds: the loop's clock.
 *
 * <p>Only differences between two readings mean anything; the origin is arbitrary. The loop reads
 * its ticker to fix deadlines ({@link Tasko#sleep}, {@link Loop#runLater}, schedules) and to decide
 * which timers are due. {@link #system()} is the ticker of real programs; {@link ManualTicker} is
 * for tests and simulations, and {@link Loop.Builder#virtualTime()} drives one automatically.
 *
 * <p>Implementations must be thread-safe and must never go backwards, as numbers: the loop compares
 * readings and deadlines with {@code <}, so a reading must not wrap round past
 * {@code Long.MAX_VALUE} (a deadline that would is kept at {@code Long.MAX_VALUE}). An origin
 * near zero leaves about 292 years; {@link System#nanoTime()} counts from the machine's start on
 * Linux and never gets near. They must not throw nor block either: the loop reads its ticker
 * inside its own bookkeeping, on whichever task holds the processor, and does not contain a
 * failing clock (unlike a failing task or callback, see the failure model in the design notes).
 */
@FunctionalInterface
public interface Ticker {

  /** Returns the current time in nanoseconds, from an arbitrary origin. */
  long read();

  /** Returns the ticker backed by {@link System#nanoTime()}. */
  static Ticker system() {
    return SystemTicker.INSTANCE;
  }
}

/**
 * The system clock. The loop also calls {@code System.nanoTime} itself, but only for what is about
 * the processor rather than the loop's time: the driver's idle time in {@link Loop#stats()}, and
 * stall warnings.
 */
enum SystemTicker implements Ticker {
  INSTANCE;

  @Override
  public long read() {
    return System.nanoTime();
  }

  @Override
  public String toString() {
    return "Ticker.system()";
  }
}
