package dev.tasko;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Ticker} that moves only when told to: the fake clock of tests and simulations.
 *
 * <p>Starts at zero. {@link #advance(Duration)} may be called from any thread; it wakes every loop
 * built on this ticker that is idle, so a {@link Loop#run()} waiting for a timer sees the new time
 * at once. It keeps a reference to a loop only while that loop idles, so loops built on a shared
 * ticker are not kept alive by it. A loop built with {@link Loop.Builder#virtualTime()} advances
 * its manual ticker by itself whenever it would otherwise wait.
 */
public final class ManualTicker implements Ticker {
  private final AtomicLong nanos = new AtomicLong();
  /**
   * Loops to wake on every change: only those idle right now (a loop adds itself while it idles
   * and removes itself after), so the ticker keeps no loop alive once it is gone.
   */
  private final Set<Runnable> waiters = ConcurrentHashMap.newKeySet();

  /** Creates a ticker that reads zero. */
  public ManualTicker() {}

  @Override
  public long read() {
    return nanos.get();
  }

  /**
   * Moves the time forward.
   *
   * @throws NullPointerException if {@code duration} is null
   * @throws IllegalArgumentException if {@code duration} is negative, or would move the time past
   *     {@code Long.MAX_VALUE} nanoseconds (about 292 years), where it would wrap round to a time
   *     before zero; the time is then left as it was
   */
  public void advance(Duration duration) {
    long d = Durations.nonNegativeNanos(duration, "duration");
    long before;
    do {
      before = nanos.get();
      if (Long.MAX_VALUE - before < d) {
        throw new IllegalArgumentException("duration would move the time past Long.MAX_VALUE "
            + "nanoseconds: " + duration + " from " + Duration.ofNanos(before));
      }
    } while (!nanos.compareAndSet(before, before + d));
    waiters.forEach(Runnable::run);
  }

  /**
   * Moves the time to {@code target} if it is later than now, as a loop on virtual time does when
   * it jumps to its next deadline; never moves it back. Wakes the idle loops built on this ticker,
   * as {@link #advance} does: another loop sharing it may have a deadline in the span jumped over.
   */
  void advanceTo(long target) {
    long before = nanos.getAndAccumulate(target, Math::max);
    if (target > before) {
      waiters.forEach(Runnable::run);
    }
  }

  void addWaiter(Runnable wake) {
    waiters.add(wake);
  }

  void removeWaiter(Runnable wake) {
    waiters.remove(wake);
  }

  @Override
  public String toString() {
    return "ManualTicker[" + Duration.ofNanos(nanos.get()) + "]";
  }
}
