package dev.tasko.pi4j;

import com.pi4j.context.Context;
import com.pi4j.event.ShutdownEvent;
import com.pi4j.event.ShutdownListener;
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
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
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
 * cannot eat the memory, and a reader can tell that it missed changes. A change back to the level
 * queued last (its opposite was refused) is no change for the reader and is counted too, so
 * consecutive edges always alternate. {@link #poll()} takes a
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
 *
 * <h2>Closing</h2>
 * A watcher listens on its input until it is closed: close it when done, with try-with-resources
 * in the task that uses it. It is also closed, so that it never outlives what it serves:
 * <ul>
 *   <li>by {@link Loop#shutdown()} of its loop: the loop it was made for, or of the task that
 *       created it, or else of the first task that waited on it;
 *   <li>when its input's Pi4J context shuts down ({@code pi4j.shutdown()}, which drops every
 *       listener): a task waiting on it then wakes and throws {@link IllegalStateException} saying
 *       so, instead of waiting for a change that can no longer come;
 *   <li>when the program drops the last reference to a watcher still open: its listener is removed
 *       from the input at the next garbage collection, with a {@code WARNING} in the log
 *       ({@code dev.tasko.pi4j.EdgeWatcher}), so forgotten watchers neither pile up on the input
 *       nor go unnoticed.
 * </ul>
 */
public final class EdgeWatcher implements AutoCloseable {
  /** How many unconsumed changes a watcher keeps unless told otherwise. */
  public static final int DEFAULT_CAPACITY = 64;

  private static final System.Logger LOG = System.getLogger(EdgeWatcher.class.getName());
  /** Finds watchers dropped while still open. */
  private static final Cleaner CLEANER = Cleaner.create();

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
  /** What the input, the Pi4J context and the loop hold: never this watcher itself. */
  private final Link link;
  private final Cleaner.Cleanable cleanable;
  private final AtomicLong received = new AtomicLong();
  /** Why waits can no longer wait: "closed", or what closed it; null while open. */
  private volatile String closedBecause;

  // ---- Guarded by 'this': Pi4J's listener threads. ----
  /** The level of the last change queued (at first: the level when watching began). */
  private DigitalState lastQueued;
  /** Changes back to {@link #lastQueued} after its opposite was refused: no change for a reader. */
  private long unchanged;

  private EdgeWatcher(DigitalInput input, int capacity, Ticker clock) {
    this.input = input;
    this.clock = clock;
    this.edges = Channel.create("edges of " + input.id(), capacity);
    this.lastQueued = levelNow(input);
    this.link = new Link(this, input, contextOf(input));
    this.cleanable = CLEANER.register(this, link::dropped);
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
    Loop loop = caller != null ? caller.loop() : null;
    return start(input, capacity, loop != null ? loop::nanoTime : Ticker.system(), loop);
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
    return start(input, capacity, loop::nanoTime, loop);
  }

  private static EdgeWatcher start(DigitalInput input, int capacity, Ticker clock, Loop loop) {
    Objects.requireNonNull(input, "input == null");
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity <= 0: " + capacity);
    }
    EdgeWatcher w = new EdgeWatcher(input, capacity, clock);
    w.link.attach();
    if (loop != null) {
      w.link.bindTo(loop);
    }
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
    link.bindTo(requireTask().loop());
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
    link.bindTo(self.loop());
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
    synchronized (this) {
      return edges.dropped() + unchanged;
    }
  }

  /**
   * Stops watching: removes the listener from the input and closes the channel. Changes already
   * queued can still be taken; after that, {@code await} throws {@link IllegalStateException}. A
   * task waiting now is woken to throw. Idempotent; may be called from any thread.
   */
  @Override
  public void close() {
    closeBecause("closed");
  }

  /**
   * Whether the watcher is closed: by {@link #close()}, its loop's shutdown, or Pi4J's. May be
   * called from any thread.
   */
  public boolean isClosed() {
    return closedBecause != null;
  }

  private void closeBecause(String why) {
    synchronized (this) {
      if (closedBecause != null) {
        return;
      }
      closedBecause = why;
    }
    link.detach();
    cleanable.clean(); // nothing left to warn about
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
      DigitalState level = event.state();
      synchronized (this) {
        if (level == lastQueued) {
          // Its opposite was refused (the queue was full): for a reader nothing changed.
          unchanged++;
          return;
        }
        if (edges.offer(new Edge(level, clock.read()))) { // full: refused and counted
          lastQueued = level;
        }
      }
    } catch (RuntimeException | Error e) {
      LOG.log(Level.ERROR, "watcher of input '" + input.id() + "' failed to take a change", e);
      throw e;
    }
  }

  private IllegalStateException closed(ChannelClosedException cause) {
    String why = closedBecause;
    return new IllegalStateException("the watcher of input '" + input.id() + "' is "
        + (why == null ? "closed" : why), cause);
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

  private static DigitalState levelNow(DigitalInput input) {
    try {
      return input.state();
    } catch (RuntimeException e) {
      return null; // unknown: nothing to compare the first change with
    }
  }

  private static Context contextOf(DigitalInput input) {
    try {
      return input.provider() == null ? null : input.provider().context();
    } catch (RuntimeException e) {
      return null; // an input without a provider (a test double): no shutdown to hear of
    }
  }

  /**
   * What stands between the watcher and everything that would otherwise keep it reachable: the
   * input's listener set, the Pi4J context's shutdown listeners, and the loop's shutdown list hold
   * this, and this holds the watcher only weakly. So a watcher the program drops is collected, and
   * its Cleaner removes the listener.
   */
  private static final class Link
      implements DigitalStateChangeListener, ShutdownListener, AutoCloseable {
    private final WeakReference<EdgeWatcher> watcher;
    private final DigitalInput input;
    private final Context context;
    // ---- guarded by 'this' ----
    private boolean detached;
    private Loop loop;

    Link(EdgeWatcher watcher, DigitalInput input, Context context) {
      this.watcher = new WeakReference<>(watcher);
      this.input = input;
      this.context = context;
    }

    void attach() {
      input.addListener(this);
      if (context != null) {
        context.addListener((ShutdownListener) this);
      }
    }

    /** Has {@code l}'s shutdown close the watcher; the first loop to ask keeps it. */
    void bindTo(Loop l) {
      synchronized (this) {
        if (loop != null || detached) {
          return;
        }
        loop = l;
      }
      l.closeOnShutdown(this);
    }

    @Override
    @SuppressWarnings("rawtypes") // as Pi4J's listener interface declares it
    public void onDigitalStateChange(DigitalStateChangeEvent event) {
      EdgeWatcher w = watcher.get();
      if (w != null) {
        w.changed(event);
      }
    }

    @Override
    public void beforeShutdown(ShutdownEvent event) {
      closeWatcher("closed: the Pi4J context shut down");
    }

    @Override
    public void onShutdown(ShutdownEvent event) {
      closeWatcher("closed: the Pi4J context shut down");
    }

    /** The loop's shutdown. */
    @Override
    public void close() {
      closeWatcher("closed: its loop shut down");
    }

    private void closeWatcher(String why) {
      EdgeWatcher w = watcher.get();
      if (w != null) {
        w.closeBecause(why);
      } else {
        detach();
      }
    }

    /** The Cleaner's action: the watcher was dropped; if nobody closed it, say so and stop. */
    void dropped() {
      synchronized (this) {
        if (detached) {
          return;
        }
      }
      LOG.log(Level.WARNING, "a watcher of input ''{0}'' was dropped without being closed; its"
          + " listener is removed now. Close watchers when done (try-with-resources)", input.id());
      detach();
    }

    void detach() {
      Loop l;
      synchronized (this) {
        if (detached) {
          return;
        }
        detached = true;
        l = loop;
      }
      input.removeListener(this);
      if (context != null) {
        context.removeListener((ShutdownListener) this);
      }
      if (l != null) {
        l.cancelCloseOnShutdown(this);
      }
    }
  }

  @Override
  public String toString() {
    return "EdgeWatcher[input '" + input.id() + "', " + edges.size() + " queued, " + received()
        + " received, " + dropped() + " dropped" + (edges.isClosed() ? ", closed" : "") + "]";
  }
}
