package dev.tasko;

import java.util.concurrent.CancellationException;

/**
 * One device's way to a {@link ManagedResource}: acquiring through it passes the handle's context
 * (a chip-select pin, a device address) to the resource's callbacks. Made by
 * {@link ManagedResource#handle(Object)} or {@link ManagedResource#handle(String, Object)}, which
 * names it for reports and errors; reusable, one acquisition at a time.
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
  /** The name given at creation; null to use the context's toString(). */
  private final String name;
  /**
   * What {@link ManagedResource#contextOf} returns: typed there, where the context type is known.
   */
  final Object context;
  final Runnable onAcquire;
  final Runnable onRelease;
  /** Written on the loop; volatile so that any thread may read isActive(). */
  volatile boolean active;

  Handle(ManagedResource<R, ?> resource, String name, Object context, Runnable onAcquire,
      Runnable onRelease) {
    this.resource = resource;
    this.name = name;
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
   * @throws IllegalStateException if not called from a task of a running loop (a callback
   *     schedule's body may not wait: see {@link Loop#scheduleCallback}), if the calling task
   *     already holds this resource (through any handle), or if the resource belongs to another
   *     loop
   * @throws CancellationException if the calling task is cancelled before or while it waits; it
   *     then neither holds nor waits for the resource
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

  /**
   * The device's name in reports and errors: the name given to
   * {@link ManagedResource#handle(String, Object)}, else the context's {@code toString()} (read
   * now, control characters written as escapes such as {@code \n}), else {@code "handle-N"}.
   */
  public String name() {
    return name != null ? name : Names.printable(String.valueOf(context));
  }

  /** The device and its resource, as reports print them: {@code "0x44 on i2c-1"}. */
  @Override
  public String toString() {
    return name() + " on " + resource.name();
  }
}
