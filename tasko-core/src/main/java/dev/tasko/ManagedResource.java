package dev.tasko;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * One resource — an SPI bus, an I2C bus, a serial port — shared by the tasks of a loop without any
 * coordination on their part: each device gets a {@link Handle}, and a task that wants the resource
 * {@linkplain Handle#acquire() acquires} it through its handle, waiting its turn if another task
 * holds it.
 *
 * <pre>{@code
 * ManagedResource<Spi, DigitalOutput> bus =
 *     ManagedResource.of(spi, cs -> cs.low(), cs -> cs.high());
 * Handle<Spi> sensor = bus.handle(sensorChipSelect);
 * try (Lease<Spi> lease = sensor.acquire()) {   // waits if the bus is busy
 *   lease.resource().transfer(command, reply);  // chip select is low in here
 * }                                             // and high again; the next waiter gets the bus
 * }</pre>
 *
 * <h2>Fairness</h2>
 * Strictly first come, first served. A free resource is taken at once, without yielding. When the
 * holder releases it, ownership passes straight to the task that has waited longest: the resource
 * is never free in between, so no task can barge in, and a task that releases and asks again at
 * once queues behind those already waiting. Waiting tasks are suspended, not polled: they cost
 * nothing.
 *
 * <h2>Callbacks</h2>
 * {@code onAcquire(context)} runs in the acquiring task, when its turn comes, before
 * {@code acquire()} returns; {@code onRelease(context)} runs in the releasing task, inside
 * {@link Lease#close()}. The context is the one given to {@link #handle(Object)}: a chip-select
 * pin, a device address. Neither callback may suspend.
 *
 * <h2>Failures</h2>
 * Nothing leaves the resource owned or a waiter stranded: if {@code onAcquire} throws,
 * {@code acquire()} rethrows and the resource passes to the next waiter ({@code onRelease} is not
 * called); if {@code onRelease} throws, {@code close()} rethrows after passing the resource on; a
 * task cancelled while it waits leaves the queue (or, if ownership had just been handed to it,
 * hands it on untouched); a task that ends while still holding a lease, or a run of a schedule
 * that ends holding one it acquired, has it closed for it, with a warning in the log, and if that
 * {@code onRelease} throws (even an {@link Error}), the task (the run) fails with it (or, if it had
 * already failed, it is added to that failure as suppressed), and the loop's
 * {@link FailureHandler} gets it.
 *
 * <p>A managed resource belongs to the loop of the first task that acquires it, until that loop
 * has ended ({@link Loop#run()} returned with no task left, or {@link Loop#shutdown()}) with the
 * resource free; a task of another loop then takes it over. Until then, tasks of other loops get an
 * {@link IllegalStateException}. The acquire and release paths are single-threaded by
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
  /** Numbers the handles made without a name or a context. */
  private final AtomicLong handleNames = new AtomicLong();
  /** Makes each lease's own view of the resource; null when leases hand out the resource itself. */
  private final BiFunction<? super C, ? super Lease<R>, ? extends R> viewOf;

  /** The hold limit in nanoseconds, 0 for none: see withHoldLimit. Written by any thread. */
  private volatile long holdLimitNanos;
  /** The longest hold of a lease so far, in loop nanoseconds: see longestHold(). */
  private volatile long longestHoldNanos;

  /** The loop whose tasks use this resource; set by the first acquire. */
  private volatile Loop loop;
  // ---- guarded by that loop's baton ----
  private Task<?> owner;
  private Handle<R> ownerHandle;
  /** The owner's lease, once its acquire has returned; null while free or being handed over. */
  private Lease<R> heldLease;
  private final ArrayDeque<Waiter<R>> waiters = new ArrayDeque<>();

  private ManagedResource(String name, R resource, Consumer<? super C> onAcquire,
      Consumer<? super C> onRelease, BiFunction<? super C, ? super Lease<R>, ? extends R> viewOf) {
    this.name = Names.require(name);
    this.resource = viewOf == null ? Objects.requireNonNull(resource, "resource == null") : null;
    this.onAcquire = Objects.requireNonNull(onAcquire, "onAcquire == null");
    this.onRelease = Objects.requireNonNull(onRelease, "onRelease == null");
    this.viewOf = viewOf;
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
    return new ManagedResource<>(nameOf(resource), resource, onAcquire, onRelease, null);
  }

  /**
   * Manages {@code resource} under {@code name}, which shows in deadlock reports and errors.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public static <R, C> ManagedResource<R, C> of(String name, R resource,
      Consumer<? super C> onAcquire, Consumer<? super C> onRelease) {
    return new ManagedResource<>(name, resource, onAcquire, onRelease, null);
  }

  /**
   * Manages a resource that only exists as views, under {@code name}: what
   * {@link Lease#resource()} returns is {@code viewOf.apply(context, lease)}, made once per lease,
   * in the acquiring task, right after {@code onAcquire}. A view is how a resource shared by
   * several devices hands each lease the one device it was acquired for, and how it refuses use
   * outside that lease: it can check {@link Lease#isOpen()} and the {@linkplain Tasko#currentTask()
   * calling task} (the acquiring task is the lease's only holder) on every call, and, to serve the
   * blocking work the holder runs meanwhile, {@link Task#isRunningBlockingWorkOn}. If
   * {@code viewOf} throws or returns null, {@code acquire()} runs {@code onRelease}, passes the
   * resource on, and throws.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public static <R, C> ManagedResource<R, C> withLeaseViews(String name,
      Consumer<? super C> onAcquire, Consumer<? super C> onRelease,
      BiFunction<? super C, ? super Lease<R>, ? extends R> viewOf) {
    return new ManagedResource<>(name, null, onAcquire, onRelease,
        Objects.requireNonNull(viewOf, "viewOf == null"));
  }

  /**
   * Manages {@code resource} with no callbacks: a fair, first-come-first-served lock around it,
   * named after its {@code toString()}.
   *
   * @throws NullPointerException if {@code resource} is null
   */
  public static <R> ManagedResource<R, Object> of(R resource) {
    return new ManagedResource<>(nameOf(resource), resource, c -> {}, c -> {}, null);
  }

  /**
   * Returns a new handle whose acquisitions pass {@code context} to the callbacks. Handles are
   * reusable: acquire and release through one as often as needed. The handle is named, in
   * deadlock reports and errors, by the context's {@code toString()}, or {@code "handle-1"},
   * {@code "handle-2"}, ... when the context is null; give a name with
   * {@link #handle(String, Object)} when that {@code toString()} would not say which device it is.
   * May be called from any thread.
   *
   * @param context passed to {@code onAcquire} and {@code onRelease}; may be null
   */
  public Handle<R> handle(C context) {
    String n = context == null ? "handle-" + handleNames.incrementAndGet() : null;
    return newHandle(n, context);
  }

  /**
   * Like {@link #handle(Object)}, named {@code name} in deadlock reports and errors: the device's
   * address or role, for instance {@code "0x44"} or {@code "display"}. May be called from any
   * thread.
   *
   * @param context passed to {@code onAcquire} and {@code onRelease}; may be null
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   */
  public Handle<R> handle(String name, C context) {
    return newHandle(Names.require(name), context);
  }

  private Handle<R> newHandle(String name, C context) {
    return new Handle<>(this, name, context, () -> onAcquire.accept(context),
        () -> onRelease.accept(context));
  }

  /**
   * The context {@code handle} passes to the callbacks, as given to {@link #handle(Object)}: with
   * {@link #holder()} and {@link #waiting()}, it tells which device holds or waits for the
   * resource. May be null. May be called from any thread.
   *
   * @throws NullPointerException if {@code handle} is null
   * @throws IllegalArgumentException if {@code handle} is a handle of another resource
   */
  @SuppressWarnings("unchecked") // handle(C) is the only way to make a handle of this resource
  public C contextOf(Handle<R> handle) {
    Objects.requireNonNull(handle, "handle == null");
    if (handle.resource != this) {
      throw new IllegalArgumentException("handle of another resource: " + handle);
    }
    return (C) handle.context;
  }

  /** The view a new lease hands out: the resource itself, or the view made for it. */
  @SuppressWarnings("unchecked")
  R viewFor(Lease<R> lease) {
    if (viewOf == null) {
      return resource;
    }
    R view = viewOf.apply((C) lease.handle.context, lease);
    return Objects.requireNonNull(view, () -> "viewOf of resource '" + name + "' returned null");
  }

  /** The resource's name. */
  public String name() {
    return name;
  }

  /**
   * The handle through which the resource is held, if it is. Before the first acquire, when the
   * resource belongs to no loop yet, it is empty, from any thread.
   *
   * @throws IllegalStateException if called outside a task of the loop the resource belongs to
   *     (also once that loop has ended, until a task of another loop takes the resource over)
   */
  public Optional<Handle<R>> holder() {
    checkOnLoop("holder");
    return Optional.ofNullable(ownerHandle);
  }

  /**
   * The handles waiting for the resource, first in line first. Before the first acquire, when the
   * resource belongs to no loop yet, it is empty, from any thread.
   *
   * @throws IllegalStateException if called outside a task of the loop the resource belongs to
   *     (also once that loop has ended, until a task of another loop takes the resource over)
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
    if (l != null && !l.runner.isOnLoop()) {
      throw new IllegalStateException(op + "() of resource '" + name
          + "' must be called from a task of loop '"
          + l.name() + "'; current thread: " + Thread.currentThread());
    }
  }

  // ---- the acquire and release paths, on the loop ----

  Lease<R> acquire(Handle<R> handle) {
    Task<?> me = DrivenLoops.requireCurrentTask("acquire");
    bindTo(me);
    Traps.checkCancelled(me);
    Lease<?> unfinished = me.unfinishedLease(this);
    if (unfinished != null) {
      @SuppressWarnings("unchecked") // a lease of this resource
      Lease<R> mine = (Lease<R>) unfinished;
      abandon(mine, null); // an earlier acquire() failed, and so did its clean-up
    }
    if (owner == me) {
      throw new IllegalStateException("task '" + me.name() + "' already holds resource '" + name
          + "' through " + ownerHandle + "; acquiring it again would wait forever");
    }
    // Listed by the task before the resource can be its: should anything below fail, and its
    // clean-up fail too (a task deep in a recursion, out of stack), the lease is there for the
    // loop to give the resource back when the task ends, or for the task's next acquire.
    Lease<R> lease = new Lease<>(handle, me);
    me.holding(lease);
    try {
      if (owner == null) {
        owner = me; // free: charge right on through, no yield
        ownerHandle = handle;
      } else {
        Waiter<R> w = new Waiter<>(this, handle, me);
        lease.waiter = w;
        waiters.add(w);
        Object waitEvent = Flight.beginLeaseWait();
        try {
          w.suspension.await(); // a cancel, or an error here: abandon() withdraws the wait
        } finally {
          // However it ended: a wait a timeout or a cancel cut off is the one to look into.
          Flight.endLeaseWait(waitEvent, me.loop.name(), name, handle.name(), me.name());
        }
        // Ownership was handed to us by the releasing task.
      }
      handle.active = true;
      handle.onAcquire.run();
      lease.stage = Lease.ACTIVE; // from here, giving the resource back runs onRelease
      lease.view = viewFor(lease);
      if (lease.isClosed()) {
        // The view's maker closed the lease it was given, which gave the resource back already:
        // refused, rather than a closed lease returned with a hold timer running for it.
        throw new IllegalStateException("viewOf of resource '" + name + "' closed the lease it "
            + "was making a view for");
      }
      long limit = holdLimitNanos;
      if (limit == 0) {
        // no clock read: the dump needs no more precision
        lease.acquiredAt = me.loop.runner.passTime();
      } else {
        lease.acquiredAt = me.loop.nanoTime();
        lease.holdLimitNanos = limit;
        me.loop.runner.startHoldTimer(lease, Durations.saturatedAdd(lease.acquiredAt, limit));
      }
      lease.holdEvent = Flight.beginLeaseHold();
    } catch (Throwable e) {
      lease.failed = true; // a store first: the next acquire() finds it even if abandon() fails
      abandon(lease, e);
      throw e;
    }
    lease.waiter = null; // the wait is over: keep nothing of it through the hold
    heldLease = lease; // stores only, from the last call to the return
    lease.stage = Lease.HELD;
    return lease;
  }

  /**
   * Undoes an acquire that failed part way, by its task, on the loop: withdraws its wait, or, if
   * the resource became its, runs {@code onRelease} (once {@code onAcquire} has returned) and
   * passes the resource on; then unlists the lease. What {@code onRelease} throws is added to
   * {@code failure} as suppressed, or thrown when there is none. Calling it again (it failed part
   * way itself) does only what is left.
   */
  private void abandon(Lease<R> lease, Throwable failure) {
    @SuppressWarnings("unchecked") // set by acquire() of this resource
    Waiter<R> w = (Waiter<R>) lease.waiter;
    if (w != null) {
      w.suspension.cancel(); // never to be handed the resource now
    }
    if (owner == lease.holder) {
      try {
        if (lease.stage == Lease.ACTIVE && !lease.isClosed()) {
          lease.holder.loop.runner.stopHoldTimer(lease);
          lease.markClosed();
          lease.handle.onRelease.run();
        }
      } catch (Throwable e) {
        if (failure == null) {
          throw e;
        }
        if (e != failure) { // the task goes on: logged if the acquire's failure cannot carry it
          Failures.suppressOrLog(failure, e, "resource '" + name + "': onRelease threw while an "
              + "acquire that failed gave the resource back");
        }
      } finally {
        finishRelease(lease); // handed to us just before a cancel: handed on untouched
      }
    } else {
      if (w != null) {
        waiters.remove(w);
      }
      unlist(lease);
    }
  }

  /**
   * Releases {@code lease} for {@link Lease#close()}. A call that fails part way (a stack overflow
   * in a task deep in a recursion) leaves the lease listed by its task, so that calling again, or
   * the loop at the task's end, finishes the release: {@code onRelease} runs once, and the
   * resource is passed on once.
   */
  void release(Lease<R> lease) {
    Handle<R> handle = lease.handle;
    if (lease.stage != Lease.HELD) { // its acquire failed part way: the loop's sweep, or a retry
      abandon(lease, null);
      return;
    }
    if (lease.isClosed()) {
      if (!lease.inOnRelease) { // onRelease has run: only the rest is left
        finishRelease(lease);
      }
      return;
    }
    Loop l = lease.holder.loop;
    long now = holdLimitNanos != 0 ? l.nanoTime() : l.runner.passTime(); // precise when limited
    l.runner.stopHoldTimer(lease);
    noteHold(now - lease.acquiredAt);
    Flight.endLeaseHold(lease.holdEvent, l.name(), name, handle.name(), lease.holder.name());
    lease.markClosed();
    lease.inOnRelease = true;
    try {
      handle.onRelease.run();
    } finally {
      lease.inOnRelease = false;
      finishRelease(lease);
    }
  }

  /** Passes the resource on from {@code lease}, unless done before, and unlists the lease. */
  private void finishRelease(Lease<R> lease) {
    if (!lease.passedOn) { // else the handle may be active again, for the task it went to
      lease.handle.active = false;
      passOn(lease);
    }
    unlist(lease); // last: until here, the task's end would finish the release
  }

  /** Takes {@code lease} off its task's list: close() and the loop's sweep are done with it. */
  private static void unlist(Lease<?> lease) {
    lease.holder.released(lease);
    lease.released = true;
  }

  /**
   * Gives the resource to the longest waiter still waiting, or frees it, then marks {@code from}
   * passed on. A waiter stays first in line until it has been woken: a wake-up that fails (a
   * stack overflow; {@link Suspension#resume()} takes it back) changes nothing, so the call can be
   * made again.
   */
  private void passOn(Lease<R> from) {
    for (Waiter<R> w; (w = waiters.peek()) != null; ) {
      if (w.suspension.isPending() && w.suspension.resume()) {
        owner = w.task; // it runs only once woken, after these stores
        ownerHandle = w.handle;
        heldLease = null;
        from.passedOn = true;
        waiters.poll(); // should it throw, the next call skips that waiter: it is woken already
        return;
      }
      waiters.poll(); // that waiter was cancelled and is on its way out: skip it
    }
    owner = null;
    ownerHandle = null;
    heldLease = null;
    from.passedOn = true;
  }

  /**
   * A resource's name after its {@code toString()}, control characters escaped (see Names); its
   * class's name if that returns null (as it must not, but may), or an empty or blank string,
   * which Names refuses as naming nothing. For no resource, a name all the same: the constructor
   * refuses it then, naming the resource.
   */
  private static String nameOf(Object resource) {
    if (resource == null) {
      return "null";
    }
    String s = resource.toString();
    return Names.printable(s != null && !s.isBlank() ? s : resource.getClass().getName());
  }

  /** Whether the resource belongs to {@code l} now (see bindTo). Any thread. */
  boolean isBoundTo(Loop l) {
    return loop == l;
  }

  private void bindTo(Task<?> me) {
    Loop l = me.loop;
    Loop bound = loop;
    if (bound == l) {
      return;
    }
    synchronized (this) {
      bound = loop;
      // A loop that has ended (or been shut down) leaves nothing behind in a free resource: the
      // next loop may have it. hasEnded() first: its read of the old driver makes the old loop's
      // last writes to owner and waiters visible here.
      if (bound == null || (bound.runner.hasEnded() && owner == null && waiters.isEmpty())) {
        loop = l;
        l.runner.resourceUsed(this); // we hold l's baton: me is its running task
        return;
      }
      if (bound == l) {
        return;
      }
    }
    throw new IllegalStateException("resource '" + name + "' belongs to loop '" + bound.name()
        + "', which has not ended (" + describeOwner() + "); it cannot be acquired from task '"
        + me.name() + "' of " + l.nameBeside(bound));
  }

  private void noteHold(long nanos) {
    if (nanos > longestHoldNanos) {
      longestHoldNanos = nanos; // only the loop writes it
    }
  }

  /**
   * Sets a hold limit: a lease held longer than {@code limit} is reported, once per lease — a
   * {@code WARNING} (logger {@code dev.tasko.Loop}) naming the resource, the holder, how long it
   * has held it, the tasks waiting, and the holder's stack, where it is stuck; and a JFR event
   * {@code dev.tasko.LeaseHoldLimit} when a recording runs. The lease is never broken by force:
   * the holder keeps the resource until it closes its lease. Measured on the loop's clock. The
   * report names the limit the lease was acquired under.
   *
   * <p>The limit is checked by the loop's timer queue, as a sleep's deadline is: the lease itself
   * is the timer, so no thread wakes for it and nothing is allocated; a limited lease costs two
   * clock reads and a timer added and removed (a few tens of nanoseconds). A resource without a
   * limit pays none of it. The limit's timer wakes no task: a loop stuck while a lease is held
   * throws its {@link DeadlockException} at once, not once the limit has passed. Applies to
   * leases acquired after this call. May be called from any thread.
   *
   * @return this resource, for chaining after a factory
   * @throws NullPointerException if {@code limit} is null
   * @throws IllegalArgumentException if {@code limit} is zero, negative, or overflows a long of
   *     nanoseconds
   */
  public ManagedResource<R, C> withHoldLimit(Duration limit) {
    holdLimitNanos = Durations.positiveNanos(limit, "limit");
    return this;
  }

  /** The hold limit set by {@link #withHoldLimit}, if any. May be called from any thread. */
  public Optional<Duration> holdLimit() {
    long l = holdLimitNanos;
    return l == 0 ? Optional.empty() : Optional.of(Duration.ofNanos(l));
  }

  /**
   * The longest any lease has held the resource so far, on the loop's clock: of the leases
   * closed, and of one still held once it has passed the hold limit. To within one pass of the
   * loop for a resource without a hold limit (the loop's clock is not read for it), exact with
   * one. May be called from any thread.
   */
  public Duration longestHold() {
    return Duration.ofNanos(longestHoldNanos);
  }

  /**
   * Reports {@code lease}, held past the hold limit; called by the loop when the lease's timer is
   * due, on the loop. The lease goes on.
   */
  void holdLimitPassed(Lease<?> lease, long now) {
    long held = now - lease.acquiredAt;
    noteHold(held);
    List<String> queue = waiterNames();
    StackTraceElement[] stack = lease.holder.stackTrace();
    StringBuilder m = new StringBuilder()
        .append("loop '").append(lease.holder.loop.name()).append("': task '")
        .append(lease.holder.name()).append("' has held resource '").append(name)
        .append("' through ").append(lease.handle.name()).append(" for ")
        .append(DurationText.approximate(held)).append(", over its hold limit of ")
        .append(DurationText.approximate(lease.holdLimitNanos)).append("; ")
        .append(queue.isEmpty() ? "no task waits for it" : "waiting: " + String.join(", ", queue))
        .append(". The lease is not broken: the task keeps the resource until it closes it."
            + " Its stack:");
    for (StackTraceElement f : stack) {
      m.append("\n\tat ").append(f);
    }
    Loop.LOG.log(System.Logger.Level.WARNING, m.toString());
    Flight.leaseHoldLimit(lease.holder.loop.name(), name, lease.handle.name(),
        lease.holder.name(), held, lease.holdLimitNanos, String.join(", ", queue));
  }

  private List<String> waiterNames() {
    List<String> queue = new ArrayList<>(waiters.size());
    for (Waiter<R> w : waiters) {
      if (w.suspension.isPending()) {
        queue.add("task '" + w.task.name() + "' through " + w.handle.name());
      }
    }
    return queue;
  }

  /** What {@link Loop#dump()} shows of this resource at loop time {@code now}. On the loop. */
  LoopDump.ResourceEntry dumpEntry(long now) {
    List<String> queue = waiterNames();
    Lease<R> l = heldLease;
    String holder = owner == null ? null : "task '" + owner.name() + "' through "
        + ownerHandle.name();
    Duration held = l == null ? null : Duration.ofNanos(Math.max(0, now - l.acquiredAt));
    return new LoopDump.ResourceEntry(name, Optional.ofNullable(holder),
        Optional.ofNullable(held), queue);
  }

  String describeOwner() {
    return owner == null ? "free"
        : "held by task '" + owner.name() + "' through " + ownerHandle.name();
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
      return Traps.cancelPending(task); // cancelled, or its timeout passed: on its way out
    }

    @Override
    public String toString() {
      return "resource '" + resource.name + "' through " + handle.name() + " ("
          + resource.describeOwner() + ")";
    }
  }
}
