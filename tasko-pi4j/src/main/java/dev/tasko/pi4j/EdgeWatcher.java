package dev.tasko.pi4j;

import com.pi4j.context.Context;
import com.pi4j.event.ShutdownEvent;
import com.pi4j.event.ShutdownListener;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.gpio.digital.DigitalStateChangeEvent;
import com.pi4j.io.gpio.digital.DigitalStateChangeListener;
import dev.tasko.Loop;
import dev.tasko.Suspension;
import dev.tasko.Task;
import dev.tasko.Tasko;
import java.lang.System.Logger.Level;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A GPIO input as something a task can wait for: the task suspends until the {@link DigitalInput}
 * changes, without polling, while the loop's other tasks run (or the loop sleeps).
 *
 * <pre>{@code
 * EdgeWatcher button = EdgeWatcher.of(buttonInput);
 * loop.addTask(() -> {
 *   for (;;) {
 *     if (button.await() == DigitalState.HIGH) {       // suspends until the level changes
 *       startMeasurement();
 *     }
 *   }
 * });
 * }</pre>
 *
 * <h2>Edges from other threads</h2>
 * Pi4J calls input listeners on its own threads: on a Raspberry Pi a thread of Pi4J's pool, on the
 * mock platform whichever thread calls {@code mockState}. The watcher's listener only queues the new
 * level and {@linkplain Suspension#resume() resumes} the waiting task, which is safe from any thread
 * and wakes an idle loop; the task itself then runs on the loop as usual.
 *
 * <h2>No edge is lost</h2>
 * Every change is queued, oldest first, whether or not a task is waiting. An {@link #await()}
 * returns the oldest queued change, so changes that arrive between two waits (while the task does
 * something else) are each returned by a later wait, in order. The queue keeps at most
 * {@code capacity} changes (default {@value #DEFAULT_CAPACITY}); beyond that the oldest is dropped and
 * counted in {@link #dropped()}: a bouncing contact cannot eat the memory. {@link #poll()} takes a
 * queued change without waiting, for a task that reads the input on a schedule.
 *
 * <h2>Waiting</h2>
 * One task at a time may wait on a watcher; make a watcher per waiting task if several must react
 * to one input. {@link #await()} and {@link #await(Duration)}:
 * <ul>
 *   <li>must be called from a task of a running loop; anywhere else they throw
 *       {@link IllegalStateException};
 *   <li>are always a switch point: other tasks of the loop may run before they return, even when a
 *       change was already queued;
 *   <li>throw {@link CancellationException} if the task is cancelled before or while it waits; the
 *       queued changes stay queued.
 * </ul>
 * A task waiting without a timeout keeps {@link dev.tasko.Loop#run()} going, since a change may
 * come at any time: {@linkplain #close() close} the watcher or cancel the task to let the loop end.
 *
 * <h2>Closing</h2>
 * A watcher listens on its input until it is closed: close it when done, with try-with-resources
 * in the task that uses it. It is also closed, so that it never outlives what it serves:
 * <ul>
 *   <li>by {@link Loop#shutdown()} of its loop: the loop of the task that created it, or else of
 *       the first task that waited on it;
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

  private final DigitalInput input;
  private final int capacity;
  /** What the input, the Pi4J context and the loop hold: never this watcher itself. */
  private final Link link;
  private final Cleaner.Cleanable cleanable;

  // ---- Shared by Pi4J's listener threads and the loop: guarded by 'this'. ----
  private final ArrayDeque<DigitalState> edges = new ArrayDeque<>();
  private long received;
  private long dropped;
  private boolean closed;
  /** Why await() can no longer wait: "closed", or what closed it. */
  private String closedBecause;
  /**
   * The level the task saw last: the input's level when watching began, then each change taken.
   * When the queue overflows, changes back to this level are dropped with the oldest, so a change
   * taken never repeats the one before.
   */
  private DigitalState lastTaken;

  /**
   * The suspension of the task waiting in await(), if any. The listener resumes whatever it finds
   * here; a task sets it before it looks at the queue, so an edge queued in between is never missed
   * (either the task sees it in the queue, or the listener sees the task's suspension).
   */
  private final AtomicReference<Suspension> waiter = new AtomicReference<>();

  private EdgeWatcher(DigitalInput input, int capacity) {
    this.input = input;
    this.capacity = capacity;
    this.lastTaken = levelNow(input);
    this.link = new Link(this, input, contextOf(input));
    this.cleanable = CLEANER.register(this, link::dropped);
  }

  /**
   * Starts watching {@code input}, queueing up to {@value #DEFAULT_CAPACITY} changes. May be called
   * from any thread; called from a task, the watcher is closed by its loop's shutdown.
   *
   * @throws NullPointerException if {@code input} is null
   */
  public static EdgeWatcher of(DigitalInput input) {
    return of(input, DEFAULT_CAPACITY);
  }

  /**
   * Starts watching {@code input}, queueing up to {@code capacity} changes. May be called from any
   * thread; called from a task, the watcher is closed by its loop's shutdown.
   *
   * @throws NullPointerException if {@code input} is null
   * @throws IllegalArgumentException if {@code capacity} is zero or negative
   */
  public static EdgeWatcher of(DigitalInput input, int capacity) {
    Objects.requireNonNull(input, "input == null");
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity <= 0: " + capacity);
    }
    EdgeWatcher w = new EdgeWatcher(input, capacity);
    w.link.attach();
    Task<?> t = Tasko.currentTask();
    if (t != null) {
      w.link.bindTo(t.loop());
    }
    return w;
  }

  /** The input watched. */
  public DigitalInput input() {
    return input;
  }

  /**
   * Suspends the calling task until the input changes, and returns its new level; returns the
   * oldest queued change (after yielding once) if one is waiting already.
   *
   * @return the level the input changed to, oldest change first
   * @throws IllegalStateException if not called from a task of a running loop, if another task is
   *     waiting on this watcher, or if the watcher is closed and no change is queued
   * @throws CancellationException if the task is cancelled before or while it waits
   */
  public DigitalState await() {
    return awaitUntil(/* deadline= */ 0, /* timed= */ false).orElseThrow();
  }

  /**
   * Like {@link #await()}, but gives up once {@code timeout} has passed on the loop's clock.
   * {@code Duration.ZERO} takes a queued change if there is one, after yielding once.
   *
   * @return the level the input changed to, or empty if it did not change in time
   * @throws NullPointerException if {@code timeout} is null
   * @throws IllegalArgumentException if {@code timeout} is negative
   * @throws IllegalStateException if not called from a task of a running loop, if another task is
   *     waiting on this watcher, or if the watcher is closed and no change is queued
   * @throws CancellationException if the task is cancelled before or while it waits
   */
  public Optional<DigitalState> await(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout == null");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout < 0: " + timeout);
    }
    Task<?> self = requireTask();
    long now = self.loop().nanoTime();
    long nanos = saturatedNanos(timeout);
    long deadline = now + nanos < now ? Long.MAX_VALUE : now + nanos;
    return awaitUntil(deadline, /* timed= */ true);
  }

  private Optional<DigitalState> awaitUntil(long deadline, boolean timed) {
    Task<?> self = requireTask();
    link.bindTo(self.loop());
    // A wake-up without a change to take is possible (another task poll()ed it first): wait again,
    // with what is left of the timeout.
    for (;;) {
      Suspension s = Tasko.suspend("a change of input '" + input.id() + "'");
      if (!waiter.compareAndSet(null, s)) {
        throw new IllegalStateException("another task is waiting on the watcher of input '" + input.id()
            + "'; one waiting task per watcher (make one watcher per task)");
      }
      boolean resumed;
      try {
        // Published first, checked second: a change queued from now on resumes s; one queued
        // before is seen here. Resuming before await() is not lost: await() yields and returns.
        if (hasQueuedOrClosed()) {
          s.resume();
        }
        if (timed) {
          long left = deadline - self.loop().nanoTime();
          resumed = s.await(Duration.ofNanos(Math.max(0, left)));
        } else {
          s.await();
          resumed = true;
        }
      } finally {
        waiter.compareAndSet(s, null);
      }
      synchronized (this) {
        DigitalState edge = take();
        if (edge != null) {
          return Optional.of(edge); // also right after a timeout: it is here, so it is not lost
        }
        if (closed) {
          throw new IllegalStateException("the watcher of input '" + input.id() + "' is "
              + closedBecause);
        }
      }
      if (!resumed) {
        return Optional.empty();
      }
    }
  }

  /**
   * Takes the oldest queued change without waiting: for a task that reads the input on a schedule.
   * May be called from any thread.
   *
   * @return the level the input changed to, or null if no change is queued
   */
  public synchronized DigitalState poll() {
    return take();
  }

  /** The oldest queued change, remembered as the level the task saw last; null if none. */
  private DigitalState take() {
    DigitalState edge = edges.poll();
    if (edge != null) {
      lastTaken = edge;
    }
    return edge;
  }

  /** How many changes are queued, not yet taken. May be called from any thread. */
  public synchronized int pending() {
    return edges.size();
  }

  /** How many changes the input has made since watching began. May be called from any thread. */
  public synchronized long received() {
    return received;
  }

  /**
   * How many queued changes were dropped, oldest first, because the queue was full. May be called
   * from any thread.
   */
  public synchronized long dropped() {
    return dropped;
  }

  /**
   * Stops watching: removes the listener from the input. Changes already queued can still be taken;
   * after that, {@code await} throws {@link IllegalStateException}. A task waiting now is woken to
   * take a queued change or to throw. Idempotent; may be called from any thread.
   */
  @Override
  public void close() {
    closeBecause("closed");
  }

  /**
   * Whether the watcher is closed: by {@link #close()}, its loop's shutdown, or Pi4J's. May be
   * called from any thread.
   */
  public synchronized boolean isClosed() {
    return closed;
  }

  private void closeBecause(String why) {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      closedBecause = why;
    }
    link.detach();
    cleanable.clean(); // nothing left to warn about
    Suspension s = waiter.get();
    if (s != null) {
      s.resume();
    }
  }

  /** Pi4J's listener, on whichever thread Pi4J calls it. */
  private void changed(DigitalStateChangeEvent<?> event) {
    // Pi4J catches what a listener throws and only logs it (silently, with slf4j-nop): say it here.
    try {
      synchronized (this) {
        if (closed) {
          return;
        }
        received++;
        DigitalState level = event.state();
        if (edges.size() == capacity) {
          edges.poll();
          dropped++;
          // The task never saw the dropped change, so a change back to the level it saw last is no
          // change for it: drop that too, or await() would return the same level twice.
          while (!edges.isEmpty() && edges.peek() == lastTaken) {
            edges.poll();
            dropped++;
          }
          if (edges.isEmpty() && level == lastTaken) {
            dropped++;
            return;
          }
        }
        edges.add(level);
      }
      Suspension s = waiter.get();
      if (s != null) {
        s.resume(); // thread-safe; wakes the loop if it idles
      }
    } catch (RuntimeException | Error e) {
      LOG.log(Level.ERROR, "watcher of input '" + input.id() + "' failed to take a change", e);
      throw e;
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

  private synchronized boolean hasQueuedOrClosed() {
    return !edges.isEmpty() || closed;
  }

  private static Task<?> requireTask() {
    Task<?> t = Tasko.currentTask();
    if (t == null) {
      throw new IllegalStateException("await() must be called from a task of a running loop; current thread: "
          + Thread.currentThread());
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
  public synchronized String toString() {
    return "EdgeWatcher[input '" + input.id() + "', " + edges.size() + " queued, " + received + " received, "
        + dropped + " dropped" + (closed ? ", closed" : "") + "]";
  }
}
