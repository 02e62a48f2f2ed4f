package dev.tasko;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One resource — an SPI bus, an I2C bus, a serial port — shared by the tasks of a loop without any
 * coordination on their part: each device gets a {@link Handle}, and a task that wants the resource
 * {@linkplain Handle#acquire() acquires} it through its handle, waiting its turn if another task
 * holds it.
 *
 * <pre>{@code
 * ManagedResource<Spi, DigitalOutput> bus = ManagedResource.of(spi, cs -> cs.low(), cs -> cs.high());
 * Handle<Spi> sensor = bus.handle(sensorChipSelect);
 * try (Lease<Spi> lease = sensor.acquire()) {      // waits if the bus is busy
 *   lease.resource().transfer(command, reply);     // chip select is low in here
 * }                                                 // and high again here; the next waiter gets the bus
 * }</pre>
 *
 * <h2>Fairness</h2>
 * Strictly first come, first served. A free resource is taken at once, without yielding. When the
 * holder releases it, ownership passes straight to the task that has waited longest: the resource is
 * never free in between, so no task can barge in, and a task that releases and asks again at once
 * queues behind those already waiting. Waiting tasks are suspended, not polled: they cost nothing.
 *
 * <h2>Callbacks</h2>
 * {@code onAcquire(context)} runs in the acquiring task, when its turn comes, before
 * {@code acquire()} returns; {@code onRelease(context)} runs in the releasing task, inside
 * {@link Lease#close()}. The context is the one given to {@link #handle(Object)}: a chip-select pin,
 * a device address. Neither callback may suspend.
 *
 * <h2>Failures</h2>
 * Nothing leaves the resource owned or a waiter stranded: if {@code onAcquire} throws,
 * {@code acquire()} rethrows and the resource passes to the next waiter ({@code onRelease} is not
 * called); if {@code onRelease} throws, {@code close()} rethrows after passing the resource on; a
 * task cancelled while it waits leaves the queue (or, if ownership had just been handed to it, hands
 * it on untouched); a task that ends while still holding a lease has it closed for it, with a
 * warning in the log, and if that {@code onRelease} throws (even an {@link Error}), the task fails
 * with it (or, if the task had already failed, it is added to that failure as suppressed), and the
 * loop's {@link FailureHandler} gets it.
 *
 * <p>A managed resource belongs to the loop of the first task that acquires it; tasks of other
 * loops get an {@link IllegalStateException}. The acquire and release paths are single-threaded by
 * construction (they run on the loop) and take no locks.
 *
 * @param <R> the resource type
 * @param <C> the type of the context passed to the callbacks
 */
public final class ManagedResource<R, C> {
  private final String name;
  private final R resource;
  private final Consumer<? super C> onAcquire;
  private final Consumer<? super C> onRelease;

  /** The loop whose tasks use this resource; set by the first acquire. */
  private volatile Loop loop;
  // ---- guarded by that loop's baton ----
  private Task<?> owner;
  private Handle<R> ownerHandle;
  private final ArrayDeque<Waiter<R>> waiters = new ArrayDeque<>();

  private ManagedResource(String name, R resource, Consumer<? super C> onAcquire, Consumer<? super C> onRelease) {
    this.name = Objects.requireNonNull(name, "name == null");
    this.resource = Objects.requireNonNull(resource, "resource == null");
    this.onAcquire = Objects.requireNonNull(onAcquire, "onAcquire == null");
    this.onRelease = Objects.requireNonNull(onRelease, "onRelease == null");
  }

  /**
   * Manages {@code resource}, named after its {@code toString()}.
   *
   * @param onAcquire called with a handle's context when a task acquires the resource through it
   * @param onRelease called with a handle's context when that task releases it
   * @throws NullPointerException if an argument is null
   */
  public static <R, C> ManagedResource<R, C> of(R resource, Consumer<? super C> onAcquire,
      Consumer<? super C> onRelease) {
    return new ManagedResource<>(String.valueOf(resource), resource, onAcquire, onRelease);
  }

  /**
   * Manages {@code resource} under {@code name}, which shows in deadlock reports and errors.
   *
   * @throws NullPointerException if an argument is null
   */
  public static <R, C> ManagedResource<R, C> of(String name, R resource, Consumer<? super C> onAcquire,
      Consumer<? super C> onRelease) {
    return new ManagedResource<>(name, resource, onAcquire, onRelease);
  }

  /** Manages {@code resource} with no callbacks: a fair, first-come-first-served lock around it. */
  public static <R> ManagedResource<R, Object> of(R resource) {
    return new ManagedResource<>(String.valueOf(resource), resource, c -> {}, c -> {});
  }

  /**
   * Returns a new handle whose acquisitions pass {@code context} to the callbacks. Handles are
   * reusable: acquire and release through one as often as needed. May be called from any thread.
   *
   * @param context passed to {@code onAcquire} and {@code onRelease}; may be null
   */
  public Handle<R> handle(C context) {
    return new Handle<>(this, context, () -> onAcquire.accept(context), () -> onRelease.accept(context));
  }

  R raw() {
    return resource;
  }

  /** The resource's name. */
  public String name() {
    return name;
  }

  /**
   * The handle through which the resource is held, if it is.
   *
   * @throws IllegalStateException if called outside a task of the resource's loop
   */
  public Optional<Handle<R>> holder() {
    checkOnLoop("holder");
    return Optional.ofNullable(ownerHandle);
  }

  /**
   * The handles waiting for the resource, first in line first.
   *
   * @throws IllegalStateException if called outside a task of the resource's loop
   */
  public List<Handle<R>> waiting() {
    checkOnLoop("waiting");
    List<Handle<R>> list = new ArrayList<>(waiters.size());
    for (Waiter<R> w : waiters) {
      if (!w.cancelled()) {
        list.add(w.handle);
      }
    }
    return list;
  }

  private void checkOnLoop(String op) {
    Loop l = loop;
    if (l != null && !l.isOnLoop()) {
      throw new IllegalStateException(op + "() of resource '" + name + "' must be called from a task of loop '"
          + l.name() + "'; current thread: " + Thread.currentThread());
    }
  }

  // ---- the acquire and release paths, on the loop ----

  Lease<R> acquire(Handle<R> handle) {
    Task<?> me = Loop.currentTask();
    if (me == null) {
      throw new IllegalStateException("acquire() must be called from a task of a running loop; current thread: "
          + Thread.currentThread());
    }
    bindTo(me.loop);
    me.loop.checkCancelled(me);
    if (owner == me) {
      throw new IllegalStateException("task '" + me.name() + "' already holds resource '" + name + "' through "
          + ownerHandle + "; acquiring it again would wait forever");
    }
    if (owner == null) {
      owner = me; // free: charge right on through, no yield
      ownerHandle = handle;
    } else {
      Waiter<R> w = new Waiter<>(this, handle, me);
      waiters.add(w);
      try {
        w.suspension.await();
      } catch (Throwable e) { // a cancel, or an error (a stack overflow) at the suspension point
        w.suspension.cancel(); // never to be handed the resource now
        if (owner == me) {
          passOn(); // handed to us just before the cancel: hand it on untouched
        } else {
          waiters.remove(w);
        }
        throw e;
      }
      // Ownership was handed to us by the releasing task.
    }
    handle.active = true;
    try {
      handle.onAcquire.run();
    } catch (RuntimeException | Error e) {
      handle.active = false;
      passOn();
      throw e;
    }
    Lease<R> lease = new Lease<>(handle, me);
    me.holding(lease);
    return lease;
  }

  void release(Lease<R> lease) {
    Handle<R> handle = lease.handle;
    try {
      handle.onRelease.run();
    } finally {
      handle.active = false;
      lease.holder.released(lease);
      passOn();
    }
  }

  /** Gives the resource to the longest waiter still waiting, or frees it. */
  private void passOn() {
    for (;;) {
      Waiter<R> w = waiters.poll();
      if (w == null) {
        owner = null;
        ownerHandle = null;
        return;
      }
      owner = w.task;
      ownerHandle = w.handle;
      if (w.suspension.resume()) {
        return;
      }
      // That waiter was cancelled and is on its way out: skip it.
    }
  }

  private void bindTo(Loop l) {
    Loop bound = loop;
    if (bound == null) {
      synchronized (this) {
        if (loop == null) {
          loop = l;
        }
        bound = loop;
      }
    }
    if (bound != l) {
      throw new IllegalStateException("resource '" + name + "' belongs to loop '" + bound.name()
          + "'; it cannot be acquired from a task of loop '" + l.name() + "'");
    }
  }

  String describeOwner() {
    return owner == null ? "free" : "held by task '" + owner.name() + "' through " + ownerHandle;
  }

  @Override
  public String toString() {
    return "ManagedResource[" + name + "]";
  }

  /** A task in the queue; also what a deadlock report says the task waits for. */
  private static final class Waiter<R> {
    final ManagedResource<R, ?> resource;
    final Handle<R> handle;
    final Task<?> task;
    final Suspension suspension;

    Waiter(ManagedResource<R, ?> resource, Handle<R> handle, Task<?> task) {
      this.resource = resource;
      this.handle = handle;
      this.task = task;
      this.suspension = new Suspension(task, this, /* external= */ false);
    }

    boolean cancelled() {
      return task.cancelRequested;
    }

    @Override
    public String toString() {
      return "resource '" + resource.name + "' through " + handle + " (" + resource.describeOwner() + ")";
    }
  }
}
