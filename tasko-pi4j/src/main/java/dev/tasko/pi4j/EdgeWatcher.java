package dev.tasko.pi4j;

import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.gpio.digital.DigitalStateChangeEvent;
import com.pi4j.io.gpio.digital.DigitalStateChangeListener;
import dev.tasko.Channel;
import dev.tasko.ChannelClosedException;
import dev.tasko.Loop;
import dev.tasko.Task;
import dev.tasko.Tasko;
import dev.tasko.Ticker;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A GPIO input as something a task can wait for: the task suspends until the {@link DigitalInput}
 * changes, without polling, while the loop's other tasks run (or the loop sleeps). Each change is
 * an {@link Edge} — the level and the loop time it was seen — queued in a {@link Channel}.
 *
 * <pre>{@code
 * EdgeWatcher button = EdgeWatcher.of(loop, buttonInput, 16);
 * loop.addTask(() -> {
 *   for (EdgeWatcher.Edge e : button.edges()) {        // suspends until the level changes
 *     if (e.state() == DigitalState.HIGH) {
 *       startMeasurement();
 *     }
 *   }
 * });
 * }</pre>
 *
 * <h2>Edges from other threads</h2>
 * Pi4J calls input listeners on its own threads: on a Raspberry Pi a thread of Pi4J's pool, on the
 * mock platform whichever thread calls {@code mockState}. The watcher's listener only
 * {@linkplain Channel#offer offers} the change to the channel, which is safe from any thread and
 * wakes an idle loop; the task itself then runs on the loop as usual.
 *
 * <h2>Counted, never merged</h2>
 * Every change is queued, oldest first, whether or not a task is waiting, so changes that arrive
 * between two waits are each returned by a later wait, in order. The channel keeps at most
 * {@code capacity} changes (default {@value #DEFAULT_CAPACITY}); a change beyond that is refused
 * and counted in {@link #dropped()} — never merged into one already queued: a bouncing contact
 * cannot eat the memory, and a reader can tell that it missed changes. {@link #poll()} takes a
 * queued change without waiting, for a task that reads the input on a schedule.
 *
 * <h2>Waiting</h2>
 * {@link #await()}, {@link #await(Duration)} and the waits of {@link #edges()}:
 * <ul>
 *   <li>must be called from a task of a running loop; anywhere else they throw
 *       {@link IllegalStateException};
 *   <li>serve waiting tasks first come, first served, each change going to one of them (make a
 *       watcher per task if several must each see every change);
 *   <li>throw {@link CancellationException} if the task is cancelled before or while it waits; the
 *       queued changes stay queued.
 * </ul>
 * {@code await} is always a switch point: it yields once even when a change is queued already.
 * A task waiting without a timeout keeps {@link dev.tasko.Loop#run()} going, since a change may
 * come at any time: {@linkplain #close() close} the watcher or cancel the task to let the loop end.
 */
public final class EdgeWatcher implements AutoCloseable {
  /** How many unconsumed changes a watcher keeps unless told otherwise. */
  public static final int DEFAULT_CAPACITY = 64;

  private static final System.Logger LOG = System.getLogger(EdgeWatcher.class.getName());

  /**
   * One change of the input.
   *
   * @param state the level the input changed to, as Pi4J reported it
   * @param nanoTime when the listener saw it, on the watcher's clock: the loop's
   *     {@link Loop#nanoTime()} (virtual time included) if the watcher was made for a loop, else
   *     the system ticker's
   */
  public record Edge(DigitalState state, long nanoTime) {}

  private final DigitalInput input;
  private final Ticker clock;
  private final Channel<Edge> edges;
  private final DigitalStateChangeListener listener = this::changed;
  private final AtomicLong received = new AtomicLong();

  private EdgeWatcher(DigitalInput input, int capacity, Ticker clock) {
    this.input = input;
    this.clock = clock;
    this.edges = Channel.create("edges of " + input.id(), capacity);
  }

  /**
   * Starts watching {@code input}, queueing up to {@value #DEFAULT_CAPACITY} changes. Edges are
   * timed on the loop of the calling task, or on the system ticker if not called from a task. May
   * be called from any thread.
   *
   * @throws NullPointerException if {@code input} is null
   */
  public static EdgeWatcher of(DigitalInput input) {
    return of(input, DEFAULT_CAPACITY);
  }

  /**
   * Starts watching {@code input}, queueing up to {@code capacity} changes. Edges are timed on the
   * loop of the calling task, or on the system ticker if not called from a task. May be called
   * from any thread.
   *
   * @throws NullPointerException if {@code input} is null
   * @throws IllegalArgumentException if {@code capacity} is zero or negative
   */
  public static EdgeWatcher of(DigitalInput input, int capacity) {
    Task<?> caller = Tasko.currentTask();
    return start(input, capacity, caller != null ? caller.loop()::nanoTime : Ticker.system());
  }

  /**
   * Starts watching {@code input}, queueing up to {@code capacity} changes, each timed on
   * {@code loop}'s clock. May be called from any thread.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code capacity} is zero or negative
   */
  public static EdgeWatcher of(Loop loop, DigitalInput input, int capacity) {
    Objects.requireNonNull(loop, "loop == null");
    return start(input, capacity, loop::nanoTime);
  }

  private static EdgeWatcher start(DigitalInput input, int capacity, Ticker clock) {
    Objects.requireNonNull(input, "input == null");
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity <= 0: " + capacity);
    }
    EdgeWatcher w = new EdgeWatcher(input, capacity, clock);
    input.addListener(w.listener);
    return w;
  }

  /** The input watched. */
  public DigitalInput input() {
    return input;
  }

  /**
   * The channel of changes, oldest first: take from it in a task ({@code take}, {@code poll} with a
   * timeout, or {@code for (Edge e : watcher.edges())}, which ends once the watcher is closed and
   * drained), or {@code poll()} it from any thread. Closing the watcher closes it.
   */
  public Channel<Edge> edges() {
    return edges;
  }

  /**
   * Suspends the calling task until the input changes, and returns its new level; returns the
   * oldest queued change (after yielding once) if one is waiting already.
   *
   * @return the level the input changed to, oldest change first
   * @throws IllegalStateException if not called from a task of a running loop, or if the watcher
   *     is closed and no change is queued
   * @throws CancellationException if the task is cancelled before or while it waits
   */
  public DigitalState await() {
    requireTask();
    yieldIfQueued();
    try {
      return edges.take().state();
    } catch (ChannelClosedException e) {
      throw closed(e);
    }
  }

  /**
   * Like {@link #await()}, but gives up once {@code timeout} has passed on the loop's clock.
   * {@code Duration.ZERO} takes a queued change if there is one, after yielding once.
   *
   * @return the level the input changed to, or empty if it did not change in time
   * @throws NullPointerException if {@code timeout} is null
   * @throws IllegalArgumentException if {@code timeout} is negative
   * @throws IllegalStateException if not called from a task of a running loop, or if the watcher
   *     is closed and no change is queued
   * @throws CancellationException if the task is cancelled before or while it waits
   */
  public Optional<DigitalState> await(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout == null");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout < 0: " + timeout);
    }
    Task<?> self = requireTask();
    long start = self.loop().nanoTime();
    if (yieldIfQueued()) {
      Edge e = edges.poll();
      if (e != null) {
        return Optional.of(e.state());
      }
    }
    long left = saturatedNanos(timeout) - (self.loop().nanoTime() - start);
    try {
      Edge e = edges.poll(Duration.ofNanos(Math.max(0, left)));
      return Optional.ofNullable(e).map(Edge::state);
    } catch (ChannelClosedException e) {
      throw closed(e);
    }
  }

  /** A wait is always a switch point: a burst of queued changes must not starve the others. */
  private boolean yieldIfQueued() {
    if (edges.size() == 0) {
      return false;
    }
    Tasko.yieldNow();
    return true;
  }

  /**
   * Takes the oldest queued change without waiting: for a task that reads the input on a schedule.
   * May be called from any thread.
   *
   * @return the level the input changed to, or null if no change is queued
   */
  public DigitalState poll() {
    Edge e = edges.poll();
    return e == null ? null : e.state();
  }

  /** How many changes are queued, not yet taken. May be called from any thread. */
  public int pending() {
    return edges.size();
  }

  /** How many changes the input has made since watching began. May be called from any thread. */
  public long received() {
    return received.get();
  }

  /**
   * How many changes were refused, newest first, because the queue was full. May be called from any
   * thread.
   */
  public long dropped() {
    return edges.dropped();
  }

  /**
   * Stops watching: removes the listener from the input and closes the channel. Changes already
   * queued can still be taken; after that, {@code await} throws {@link IllegalStateException}. A
   * task waiting now is woken to throw. Idempotent; may be called from any thread.
   */
  @Override
  public void close() {
    input.removeListener(listener);
    edges.close();
  }

  /** Pi4J's listener, on whichever thread Pi4J calls it. */
  private void changed(DigitalStateChangeEvent<?> event) {
    // Pi4J catches what a listener throws and only logs it (silently, with slf4j-nop): say it here.
    try {
      if (edges.isClosed()) {
        return; // a call racing with close()
      }
      received.incrementAndGet();
      edges.offer(new Edge(event.state(), clock.read())); // full: refused and counted
    } catch (RuntimeException | Error e) {
      LOG.log(Level.ERROR, "watcher of input '" + input.id() + "' failed to take a change", e);
      throw e;
    }
  }

  private IllegalStateException closed(ChannelClosedException cause) {
    return new IllegalStateException("the watcher of input '" + input.id() + "' is closed", cause);
  }

  private static Task<?> requireTask() {
    Task<?> t = Tasko.currentTask();
    if (t == null) {
      throw new IllegalStateException("await() must be called from a task of a running loop; "
          + "current thread: " + Thread.currentThread());
    }
    return t;
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  @Override
  public String toString() {
    return "EdgeWatcher[input '" + input.id() + "', " + edges.size() + " queued, " + received()
        + " received, " + dropped() + " dropped" + (edges.isClosed() ? ", closed" : "") + "]";
  }
}
