package dev.tasko;

import java.util.concurrent.CancellationException;

/**
 * One device's way to a {@link ManagedResource}: acquiring through it passes the handle's context
 * (a chip-select pin, a device address) to the resource's callbacks. Made by
 * {@link ManagedResource#handle(Object)}; reusable, one acquisition at a time.
 *
 * <pre>{@code
 * try (Lease<Spi> lease = handle.acquire()) {
 *   lease.resource().transfer(out, in);
 * }
 * }</pre>
 *
 * @param <R> the resource type
 */
public final class Handle<R> {
  final ManagedResource<R, ?> resource;
  final Object context;
  final Runnable onAcquire;
  final Runnable onRelease;
  /** Written on the loop; volatile so that any thread may read isActive(). */
  volatile boolean active;

  Handle(ManagedResource<R, ?> resource, Object context, Runnable onAcquire, Runnable onRelease) {
    this.resource = resource;
    this.context = context;
    this.onAcquire = onAcquire;
    this.onRelease = onRelease;
  }

  /**
   * Takes the resource for the calling task, waiting first if another task holds it (first come,
   * first served), then runs {@code onAcquire} with this handle's context. Returns at once, without
   * yielding, if the resource is free; otherwise suspends the task until its turn — other tasks run
   * meanwhile. Close the lease (try-with-resources) to release.
   *
   * @return the lease: the resource, until it is closed
   * @throws IllegalStateException if not called from a task of a running loop, if the calling task
   *     already holds this resource (through any handle), or if the resource belongs to another loop
   * @throws CancellationException if the calling task is cancelled before or while it waits; it then
   *     neither holds nor waits for the resource
   * @throws RuntimeException whatever {@code onAcquire} throws; the resource then passes on
   */
  public Lease<R> acquire() {
    return resource.acquire(this);
  }

  /** Whether a task holds the resource through this handle right now. Any thread. */
  public boolean isActive() {
    return active;
  }

  /** The resource this handle gives access to. */
  public ManagedResource<R, ?> resource() {
    return resource;
  }

  /** The context passed to the resource's callbacks; may be null. */
  public Object context() {
    return context;
  }

  @Override
  public String toString() {
    return "handle(" + context + ") of " + resource.name();
  }
}
