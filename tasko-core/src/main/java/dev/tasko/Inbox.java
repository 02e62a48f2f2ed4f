package dev.tasko;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The way into a loop from other threads: commands (a resume, a cancel, a dump, a schedule or a
 * delayed task to add) that the loop runs at the start of its next pass, new tasks that it takes in
 * then, and the driving thread to wake when it sleeps. A new task to start at once is queued as
 * itself, not inside a command, so that a program that adds a million before {@code run()} keeps
 * no more alive than it must; commands and tasks keep their order.
 *
 * <p>No wake-up is lost: the driver publishes itself as the sleeper before it looks at the queue a
 * last time and parks; a sender adds its entry before it reads the sleeper. So either the driver
 * sees the entry, or the sender sees the driver and unparks it (an unpark before the park makes
 * the park return at once). The sleeper is set while the driver idles, and by a task that hands the
 * baton back to a driver left asleep (see {@code Runner.handBack}); while tasks run it is null, and
 * the tasks take entries in at their next pass.
 *
 * <p>Lock-free; any thread may send.
 */
final class Inbox {
  /** Each a {@link Runnable} command or a {@link Task} to take in. */
  private final ConcurrentLinkedQueue<Object> entries = new ConcurrentLinkedQueue<>();
  /** The driving thread while it sleeps and must be woken for an entry; else null. */
  private volatile Thread sleeper;

  /** Queues {@code command} for the next pass and wakes a sleeping driver. Any thread. */
  void send(Runnable command) {
    entries.add(command);
    wake();
  }

  /** Queues the new task {@code t} for the next pass and wakes a sleeping driver. Any thread. */
  void sendTask(Task<?> t) {
    entries.add(t);
    wake();
  }

  /** Wakes the driver if it sleeps (for an entry, or for stop()). Any thread. */
  void wake() {
    Thread t = sleeper;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  /** Takes {@code command} back if it has not run yet. Any thread. */
  boolean withdraw(Runnable command) {
    return entries.remove(command);
  }

  /**
   * The next entry, a {@link Runnable} command or a {@link Task} to take in, or null. On the loop.
   */
  Object poll() {
    return entries.poll();
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  /** Publishes (or, with null, withdraws) the driver as the thread to wake. */
  void sleeper(Thread driver) {
    sleeper = driver;
  }
}
