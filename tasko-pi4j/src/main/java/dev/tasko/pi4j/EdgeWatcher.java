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
 * <h2>Buttons: one direction, debounced</h2>
 * A {@linkplain #builder(DigitalInput) builder} makes a watcher that queues only the changes of
 * one {@link Direction} (a button's presses, say) and ignores the bounces of a mechanical contact:
 *
 * <pre>{@code
 * EdgeWatcher presses = EdgeWatcher.builder(buttonInput)   // button to 3.3 V, pull-down
 *     .loop(loop)                                           // in a task: its loop by default
 *     .direction(EdgeWatcher.Direction.RISING)              // pressed: LOW to HIGH
 *     .debounce(Duration.ofMillis(20))
 *     .build();
 * loop.addTask("button", () -> {
 *   for (EdgeWatcher.Edge press : presses.edges()) {         // one per press, bounces ignored
 *     fan.toggle();
 *   }
 * });
 * }</pre>
 *
 * <p><b>The debounce rule: a change counts once the input has kept its new level for the
 * interval.</b> A contact bounces for a few milliseconds when pressed or released; each change
 * starts (or restarts) a quiet period of the debounce interval on the loop's clock, and only when
 * the input has not changed for a whole interval does the watcher look at its level: if it
 * differs from the level of the last accepted change, that is one change, queued with the time of
 * the change that reached the level it kept; if the contact bounced back to where it was (a glitch
 * shorter than the interval), nothing happened. So a press is reported once, a glitch never, and
 * the level the watcher believes in is always the level the input settled at — the rule of
 * Linux's own GPIO debouncing. The price is a delay of one interval before each change is queued
 * (10 to 20 ms is well below what a person notices). The simpler rule, "ignore changes for an
 * interval after an accepted one", reacts at once but reports a glitch as a press, and when the
 * last bounce is ignored it believes in the wrong level until the next change; a button user
 * expects neither. Every change ignored this way is counted in {@link #bounces()}: all the
 * changes of a burst but the one accepted, or all of them if the input came back to its level.
 *
 * <p>The quiet periods are timed by the loop: each burst of changes starts a short task,
 * {@code "debounce <input id>"}, that ends once the input has been quiet for the interval (it
 * counts among the loop's tasks meanwhile). On virtual time, debouncing is as deterministic as
 * the rest.
 *
 * <p>A change of the direction not watched (a release, when watching presses) is counted in
 * {@link #skipped()}. Whatever happens, nothing is lost silently: once the input has been quiet for
 * the interval, {@link #received()} equals the changes taken plus {@link #pending()},
 * {@link #dropped()}, {@link #bounces()} and {@link #skipped()}.
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
 *       created it, or else of the first task that waited on it or called {@link #edges()};
 *   <li>when its input's Pi4J context shuts down ({@code pi4j.shutdown()}, which drops every
 *       listener): a task waiting on it then wakes and throws {@link IllegalStateException} saying
 *       so, instead of waiting for a change that can no longer come (and a watcher of an input
 *       whose context is shut down already is refused when it is made);
 *   <li>when the program drops the last reference to a watcher still open: its listener is removed
 *       from the input at the next garbage collection, and its {@link #edges()} closed (a task
 *       still reading them sees their end), with a {@code WARNING} in the log
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
   *     the system ticker's. For a debounced watcher, when the listener saw the change that
   *     reached the level the input then kept (the last bounce); the edge is queued one debounce
   *     interval later
   */
  public record Edge(DigitalState state, long nanoTime) {}

  /** Which changes a watcher queues. */
  public enum Direction {
    /** Every change, to HIGH and to LOW (the default). */
    BOTH,
    /** Changes to HIGH only: the presses of a button wired to 3.3 V with a pull-down. */
    RISING,
    /** Changes to LOW only: the presses of a button wired to ground with a pull-up. */
    FALLING
  }

  private final DigitalInput input;
  private final Ticker clock;
  private final Direction direction;
  /** The debounce interval, 0 for none. */
  private final long debounceNanos;
  /** Times the quiet periods; set whenever {@link #debounceNanos} is not 0. */
  private final Loop debounceLoop;
  private final Channel<Edge> edges;
  /** What the input, the Pi4J context and the loop hold: never this watcher itself. */
  private final Link link;
  private final Cleaner.Cleanable cleanable;
  private final AtomicLong received = new AtomicLong();
  /** Why waits can no longer wait: "closed", or what closed it; null while open. */
  private volatile String closedBecause;

  // ---- Guarded by 'this': Pi4J's listener threads, and the debounce task on the loop. ----
  /** The level of the last change queued (at first: the level when watching began). */
  private DigitalState lastQueued;
  /** Changes back to {@link #lastQueued} after its opposite was refused: no change for a reader. */
  private long unchanged;
  /** The level of the last change accepted (queued or not); after debouncing, if any. */
  private DigitalState lastLevel;
  /** Changes of the other direction, not queued. */
  private long skipped;
  /** Changes debouncing ignored. */
  private long bounces;
  // The burst being debounced: its changes so far, the last one's level and time, and whether a
  // task is timing its quiet period.
  private long burst;
  private DigitalState burstLevel;
  private long burstTime;
  private boolean settling;

  private EdgeWatcher(DigitalInput input, int capacity, Ticker clock, Direction direction,
      long debounceNanos, Loop debounceLoop) {
    this.input = input;
    this.clock = clock;
    this.direction = direction;
    this.debounceNanos = debounceNanos;
    this.debounceLoop = debounceLoop;
    this.edges = Channel.create("edges of " + input.id(), capacity);
    this.lastQueued = levelNow(input);
    this.lastLevel = lastQueued;
    this.link = new Link(this, input, contextOf(input), edges);
    this.cleanable = CLEANER.register(this, link::dropped);
  }

  /**
   * Starts watching {@code input}, queueing up to {@value #DEFAULT_CAPACITY} changes. Edges are
   * timed on the loop of the calling task, or on the system ticker if not called from a task. May
   * be called from any thread.
   *
   * @throws NullPointerException if {@code input} is null
   * @throws IllegalStateException if called from a task of a loop that is shut down (in a task's
   *     cleanup during {@link Loop#shutdown()}), or if the input's Pi4J context is shut down
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
   * @throws IllegalStateException if called from a task of a loop that is shut down (in a task's
   *     cleanup during {@link Loop#shutdown()}), or if the input's Pi4J context is shut down
   */
  public static EdgeWatcher of(DigitalInput input, int capacity) {
    return builder(input).capacity(capacity).build();
  }

  /**
   * Starts watching {@code input}, queueing up to {@code capacity} changes, each timed on
   * {@code loop}'s clock. May be called from any thread.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code capacity} is zero or negative
   * @throws IllegalStateException if {@code loop} or the input's Pi4J context is shut down
   */
  public static EdgeWatcher of(Loop loop, DigitalInput input, int capacity) {
    Objects.requireNonNull(loop, "loop == null");
    return builder(input).loop(loop).capacity(capacity).build();
  }

  /**
   * A builder for a watcher of {@code input}: the changes of one {@linkplain Direction direction}
   * only, a debounce interval, a capacity, a loop. May be called from any thread.
   *
   * <pre>{@code
   * EdgeWatcher presses = EdgeWatcher.builder(buttonInput).loop(loop)
   *     .direction(EdgeWatcher.Direction.RISING).debounce(Duration.ofMillis(20)).build();
   * }</pre>
   *
   * @throws NullPointerException if {@code input} is null
   */
  public static Builder builder(DigitalInput input) {
    return new Builder(Objects.requireNonNull(input, "input == null"));
  }

  /**
   * Makes an {@link EdgeWatcher}: every change and no debouncing, {@value #DEFAULT_CAPACITY}
   * queued, on the loop of the task that calls {@link #build()}, unless told otherwise. A builder
   * may build several watchers; it is not thread-safe.
   */
  public static final class Builder {
    private final DigitalInput input;
    private Loop loop;
    private int capacity = DEFAULT_CAPACITY;
    private Direction direction = Direction.BOTH;
    private Duration debounce = Duration.ZERO;

    private Builder(DigitalInput input) {
      this.input = input;
    }

    /**
     * The loop whose clock times the edges (and the debounce interval), and whose
     * {@link Loop#shutdown()} closes the watcher. Without it, {@link #build()} takes the loop of
     * the calling task, or, outside a task, the system ticker (and the loop that first waits).
     *
     * @throws NullPointerException if {@code loop} is null
     */
    public Builder loop(Loop loop) {
      this.loop = Objects.requireNonNull(loop, "loop == null");
      return this;
    }

    /**
     * How many changes the watcher keeps queued; beyond that they are counted in
     * {@link EdgeWatcher#dropped()}.
     *
     * @throws IllegalArgumentException if {@code capacity} is zero or negative
     */
    public Builder capacity(int capacity) {
      if (capacity <= 0) {
        throw new IllegalArgumentException("capacity <= 0: " + capacity);
      }
      this.capacity = capacity;
      return this;
    }

    /**
     * Which changes to queue: {@link Direction#RISING} (to HIGH), {@link Direction#FALLING} (to
     * LOW) or {@link Direction#BOTH}, the default. The others are counted in
     * {@link EdgeWatcher#skipped()}.
     *
     * @throws NullPointerException if {@code direction} is null
     */
    public Builder direction(Direction direction) {
      this.direction = Objects.requireNonNull(direction, "direction == null");
      return this;
    }

    /**
     * Ignores the bounces of a mechanical contact: a change counts only once the input has kept
     * its new level for {@code interval} on the loop's clock (see "Buttons" in
     * {@link EdgeWatcher}). {@code Duration.ZERO}, the default, queues every change at once.
     * 10 to 20 ms suits most push buttons. Needs a loop to time it.
     *
     * @throws NullPointerException if {@code interval} is null
     * @throws IllegalArgumentException if {@code interval} is negative
     */
    public Builder debounce(Duration interval) {
      Objects.requireNonNull(interval, "interval == null");
      if (interval.isNegative()) {
        throw new IllegalArgumentException("debounce interval < 0: " + interval);
      }
      this.debounce = interval;
      return this;
    }

    /**
     * Starts watching. May be called from any thread; with a debounce interval, from a task or
     * with a {@link #loop(Loop)} given.
     *
     * @throws IllegalStateException if a debounce interval is set but there is no loop to time it
     *     (none given, and not called from a task), or if the loop is shut down: its shutdown
     *     could not close the watcher, which would listen on the input for nobody; or if the
     *     input's Pi4J context is shut down, which ends its changes
     */
    public EdgeWatcher build() {
      Loop l = loop;
      if (l == null) {
        Task<?> caller = Tasko.currentTask();
        l = caller != null ? caller.loop() : null;
      }
      long debounceNanos = saturatedNanos(debounce);
      if (debounceNanos > 0 && l == null) {
        throw new IllegalStateException("a debounce interval (" + debounce + ") needs a loop to"
            + " time it: build the watcher in a task, or give the loop with loop(..)");
      }
      if (l != null && l.isShutdown()) {
        throw new IllegalStateException("loop '" + l.name() + "' is shut down: it takes no new "
            + "watcher (input '" + input.id() + "')");
      }
      EdgeWatcher w = new EdgeWatcher(input, capacity, l != null ? l::nanoTime : Ticker.system(),
          direction, debounceNanos, l);
      w.link.attach();
      // Looked at once the listener is on: a context that shuts down later tells the listener
      Context c = w.link.context;
      if (c != null && c.isShutdown()) {
        w.closeBecause("closed: the Pi4J context shut down");
        throw new IllegalStateException("input '" + input.id() + "' belongs to a Pi4J context"
            + " that is shut down: a watcher would wait for changes that can no longer come");
      }
      if (l != null) {
        try {
          w.link.bindTo(l);
        } catch (RuntimeException | Error e) { // shut down since the check: nothing left attached
          w.closeBecause("closed: its loop shut down");
          throw e;
        }
      }
      return w;
    }
  }

  /** The input watched. */
  public DigitalInput input() {
    return input;
  }

  /**
   * The channel of changes, oldest first: take from it in a task ({@code take}, {@code poll} with a
   * timeout, or {@code for (Edge e : watcher.edges())}, which ends once the watcher is closed and
   * drained), or {@code poll()} it from any thread. Closing the watcher closes it. Called from a
   * task, it ties a watcher that has no loop yet to that task's loop, as a first wait does (see
   * "Closing").
   */
  public Channel<Edge> edges() {
    Task<?> t = Tasko.currentTask();
    if (t != null) {
      link.bindTo(t.loop());
    }
    return edges;
  }

  /**
   * Suspends the calling task until the input changes (in the watcher's {@link Direction}, once
   * debounced, if it debounces), and returns its new level; returns the oldest queued change
   * (after yielding once) if one is waiting already.
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

  /**
   * How many changes the input has made since watching began, every one Pi4J reported, whatever
   * became of it. May be called from any thread.
   */
  public long received() {
    return received.get();
  }

  /**
   * How many changes were refused, newest first, because the queue was full (and changes back to
   * the level queued last after its opposite was refused, which are no change for a reader). May be
   * called from any thread.
   */
  public long dropped() {
    synchronized (this) {
      return edges.dropped() + unchanged;
    }
  }

  /**
   * How many changes debouncing ignored: each burst's changes but the one accepted, or all of them
   * when the input came back to its level, or when the watcher was closed before the burst
   * settled. Always 0 without a debounce interval. May be called from any thread.
   */
  public synchronized long bounces() {
    return bounces;
  }

  /**
   * How many changes were of the direction not watched ({@link Direction#FALLING} ones for a
   * {@link Direction#RISING} watcher, say). Always 0 for {@link Direction#BOTH}. May be called from
   * any thread.
   */
  public synchronized long skipped() {
    return skipped;
  }

  /** Which changes the watcher queues. */
  public Direction direction() {
    return direction;
  }

  /** The debounce interval; {@code Duration.ZERO} when every change is queued at once. */
  public Duration debounce() {
    return Duration.ofNanos(debounceNanos);
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
      bounces += burst; // a burst cut short: never settled, but counted (nothing lost silently)
      burst = 0;
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
      boolean startQuietPeriod = false;
      synchronized (this) {
        if (debounceNanos == 0) {
          accept(level, clock.read());
          return;
        }
        if (closedBecause != null) {
          bounces++; // closed since the check above: no burst will settle now, but it counts
          return;
        }
        long now = clock.read();
        if (settling && now - burstTime >= debounceNanos) {
          // The level before this change was kept for the interval already; its task just has
          // not run yet. It counts, whichever comes first at the same instant; that task, still
          // pending, times the burst this change begins.
          endBurst();
        }
        burst++;
        burstLevel = level;
        burstTime = now;
        if (!settling) {
          settling = true;
          startQuietPeriod = true;
        }
      }
      if (startQuietPeriod) {
        settleAfter(debounceNanos);
      }
    } catch (RuntimeException | Error e) {
      LOG.log(Level.ERROR, "watcher of input '" + input.id() + "' failed to take a change", e);
      throw e;
    }
  }

  /** Has the loop look at the burst once {@code nanos} have passed; any thread. */
  private void settleAfter(long nanos) {
    try {
      debounceLoop.runLater("debounce " + input.id(), Duration.ofNanos(nanos), this::settle);
    } catch (IllegalStateException e) {
      // The loop is shutting down, and closes this watcher: the burst is left unsettled.
    }
  }

  /**
   * In the debounce task: if the input has been quiet for the interval, ends the burst (accepting
   * its level if it differs from the last accepted one), else looks again when it will have been.
   */
  private void settle() {
    long again;
    synchronized (this) {
      if (closedBecause != null) {
        settling = false;
        bounces += burst; // (close() counted the burst already; this is for one that came since)
        burst = 0;
        return;
      }
      long quiet = clock.read() - burstTime;
      if (quiet < debounceNanos) {
        again = debounceNanos - quiet; // it bounced meanwhile: a new quiet period from then
      } else {
        settling = false;
        endBurst();
        return;
      }
    }
    settleAfter(again);
  }

  /** The input has been quiet for the interval: one change, or none if it came back. */
  private void endBurst() {
    if (burstLevel == lastLevel) {
      bounces += burst; // back where it was: a glitch, or a bounce around a dropped change
    } else {
      bounces += burst - 1;
      accept(burstLevel, burstTime);
    }
    burst = 0;
  }

  /** A change that counts (debounced, if debouncing): queue it, or count why not. */
  private void accept(DigitalState level, long nanoTime) {
    DigitalState before = lastLevel;
    lastLevel = level;
    if (direction == Direction.BOTH) {
      if (level == lastQueued) {
        // Its opposite was refused (the queue was full): for a reader nothing changed.
        unchanged++;
        return;
      }
      if (edges.offer(new Edge(level, nanoTime))) { // full: refused and counted
        lastQueued = level;
      }
      return;
    }
    if (level == before) {
      unchanged++; // the input reported the level it had: no edge either way
    } else if (level == (direction == Direction.RISING ? DigitalState.HIGH : DigitalState.LOW)) {
      edges.offer(new Edge(level, nanoTime)); // full: refused and counted
    } else {
      skipped++;
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
    /**
     * The watcher's channel, which a reader may hold without the watcher: closed when the watcher
     * is dropped, so that the reader sees the end instead of waiting for edges that never come.
     */
    private final Channel<Edge> edges;
    // ---- guarded by 'this' ----
    private boolean detached;
    private Loop loop;

    Link(EdgeWatcher watcher, DigitalInput input, Context context, Channel<Edge> edges) {
      this.watcher = new WeakReference<>(watcher);
      this.input = input;
      this.context = context;
      this.edges = edges;
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
      // A close on another thread between the store above and the registration found nothing to
      // take back: it is taken back here, so the loop does not keep a closed watcher's link.
      boolean closedMeanwhile;
      synchronized (this) {
        closedMeanwhile = detached;
      }
      if (closedMeanwhile) {
        l.cancelCloseOnShutdown(this);
      }
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
        edges.close();
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
          + " listener is removed and its edges closed now. Close watchers when done"
          + " (try-with-resources)", input.id());
      detach();
      edges.close(); // a task still reading them sees their end
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
    return "EdgeWatcher[input '" + input.id() + "'"
        + (direction == Direction.BOTH ? "" : ", " + direction)
        + (debounceNanos == 0 ? "" : ", debounce " + debounce())
        + ", " + edges.size() + " queued, " + received() + " received, " + dropped() + " dropped"
        + (debounceNanos == 0 ? "" : ", " + bounces() + " bounces")
        + (direction == Direction.BOTH ? "" : ", " + skipped() + " skipped")
        + (edges.isClosed() ? ", closed" : "") + "]";
  }
}
