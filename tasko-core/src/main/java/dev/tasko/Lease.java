package dev.tasko;

/**
 * The right to use a {@link ManagedResource}, from {@link Handle#acquire()} until {@link #close()}.
 * Meant for try-with-resources: tasko's {@code async with handle as bus}.
 *
 * <p>A lease of a resource with a {@linkplain ManagedResource#withHoldLimit hold limit} is also
 * the loop's timer for that limit (see {@code TimerEntry}), so checking the limit allocates
 * nothing.
 *
 * @param <R> the resource type
 */
public final class Lease<R> extends TimerEntry implements AutoCloseable {
  final Handle<R> handle;
  final Task<?> holder;
  /**
   * Set once the release has begun ({@code onRelease} runs at most once). Written by the holder on
   * the loop; volatile so that any thread may ask isOpen().
   */
  private volatile boolean closed;
  /** Listed by its task, in acquire(), before the resource was its (see stage). */
  static final int LISTED = 0;
  /** acquire() has run onAcquire: giving the resource back runs onRelease. */
  static final int ACTIVE = 1;
  /** acquire() has returned the lease. */
  static final int HELD = 2;
  /** How far acquire() got: LISTED, ACTIVE or HELD. On the loop. */
  int stage;
  /** The lease's place in the resource's queue while its acquire() waits, or null. */
  Object waiter;
  /** Set when its acquire() threw: what it took is given back, by it or by the task's next. */
  boolean failed;
  /** Set while {@code onRelease} runs: a close() from inside it does nothing, as before. */
  boolean inOnRelease;
  /** Whether the release has passed the resource on: set by the resource, on the loop. */
  boolean passedOn;
  /**
   * Whether the release is over and the lease unlisted from its task: close() does nothing.
   * Volatile, as close() reads it first, from any thread.
   */
  volatile boolean released;
  /** What resource() returns: the resource, or this lease's own view of it. Set at acquire. */
  R view;
  /** Loop time, to within a pass, at which acquire() returned it: for dumps and hold limits. */
  long acquiredAt;
  /**
   * The hold limit, in nanoseconds, in force when acquire() took it (0 for none): the one its
   * timer runs for, and so the one a report of it names, whatever the resource's limit is since.
   */
  long holdLimitNanos;
  /** The JFR hold event begun at acquire, or null: see {@code Flight}. */
  Object holdEvent;

  Lease(Handle<R> handle, Task<?> holder) {
    this.handle = handle;
    this.holder = holder;
  }

  /**
   * The resource: the managed object itself or, for a resource made with
   * {@link ManagedResource#withLeaseViews}, this lease's own view of it (the same object at every
   * call).
   *
   * @throws IllegalStateException if the lease is closed
   */
  public R resource() {
    if (closed) {
      throw new IllegalStateException("lease of " + handle + " is closed");
    }
    return view;
  }

  /** Whether the lease is still held: not yet closed. May be called from any thread. */
  public boolean isOpen() {
    return !closed;
  }

  /**
   * Releases the resource: runs {@code onRelease} with the handle's context, then passes the
   * resource to the next waiting task, if any (which runs at the loop's next pass). Never suspends;
   * works in a cancelled task. Idempotent. If a call fails part way (a {@link StackOverflowError}
   * in a task deep in a recursion), calling again, or the loop when the task ends, finishes the
   * release without running {@code onRelease} twice.
   *
   * @throws IllegalStateException if not called by the task that acquired it: by another task, or
   *     by a thread that is not a task, the holder's {@link Tasko#blocking} work included (once the
   *     release is over, a further call does nothing, from anywhere)
   * @throws RuntimeException whatever {@code onRelease} throws; the resource has been passed on
   */
  @Override
  public void close() {
    if (released) {
      return;
    }
    Task<?> current = DrivenLoops.currentTask();
    if (current != holder) {
      throw new IllegalStateException("lease of " + handle + " belongs to task '" + holder.name()
          + "' and must be closed by it; current: "
          + (current == null ? Thread.currentThread() : current));
    }
    handle.resource.release(this);
  }

  boolean isClosed() {
    return closed;
  }

  void markClosed() {
    closed = true;
  }

  @Override
  public String toString() {
    return "Lease[" + handle + (closed ? ", closed" : ", held by '" + holder.name() + "'") + "]";
  }
}
