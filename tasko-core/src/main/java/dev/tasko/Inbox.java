package dev.tasko;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The way into a loop from other threads: commands (a new task, a resume, a cancel, a dump) that
 * the loop runs at the start of its next pass, and the driving thread to wake when it sleeps.
 *
 * <p>No wake-up is lost: the driver publishes itself as the sleeper before it looks at the queue a
 * last time and parks; a sender adds its command before it reads the sleeper. So either the driver
 * sees the command, or the sender sees the driver and unparks it (an unpark before the park makes
 * the park return at once). The sleeper is set while the driver idles, and by a task that hands the
 * baton back to a driver left asleep (see {@code Runner.handBack}); while tasks run it is null, and
 * the tasks take commands in at their next pass.
 *
 * <p>Lock-free; any thread may send.
 */
final class Inbox {
  private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
  /** The driving thread while it sleeps and must be woken for a command; else null. */
  private volatile Thread sleeper;

  /** Queues {@code command} for the next pass and wakes a sleeping driver. Any thread. */
  void send(Runnable command) {
    commands.add(command);
    wake();
  }

  /** Wakes the driver if it sleeps (for a command, or for stop()). Any thread. */
  void wake() {
    Thread t = sleeper;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  /** Takes {@code command} back if it has not run yet. Any thread. */
  boolean withdraw(Runnable command) {
    return commands.remove(command);
  }

  /** The next command, or null. On the loop. */
  Runnable poll() {
    return commands.poll();
  }

  boolean isEmpty() {
    return commands.isEmpty();
  }

  /** Publishes (or, with null, withdraws) the driver as the thread to wake. */
  void sleeper(Thread driver) {
    sleeper = driver;
  }
}
