package dev.tasko;

/**
 * One permit of a {@link Semaphore}, from {@link Semaphore#acquire()} until {@link #close()}. Meant
 * for try-with-resources.
 */
public final class Permit implements AutoCloseable {
  private final Semaphore semaphore;
  final Task<?> holder;
  /**
   * Set once the permit has passed on (see Semaphore.release), not before: a close() that throws
   * on the way (a task with no stack left) leaves it open, for the next close(). Guarded by the
   * loop's baton.
   */
  boolean closed;

  Permit(Semaphore semaphore, Task<?> holder) {
    this.semaphore = semaphore;
    this.holder = holder;
  }

  /** The semaphore this permit belongs to. */
  public Semaphore semaphore() {
    return semaphore;
  }

  /**
   * Releases the permit: it passes to the task that has waited longest for one (which runs at the
   * loop's next pass), or becomes free. Releases once: closing again does nothing. Never suspends;
   * works in a cancelled task. Any task of the semaphore's loop may close it, not only its holder.
   *
   * @throws IllegalStateException if not called from a task of the semaphore's loop
   */
  @Override
  public void close() {
    semaphore.checkOnLoop("close");
    if (closed) {
      return;
    }
    semaphore.release(this);
  }

  @Override
  public String toString() {
    return "permit of " + semaphore
        + (closed ? ", closed" : ", held by task '" + holder.name() + "'");
  }
}
