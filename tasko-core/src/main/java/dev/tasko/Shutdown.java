package dev.tasko;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How a loop ends for good ({@link Loop#shutdown()}): it refuses new work, cancels its tasks,
 * drives them until their cleanup has run, and closes what was registered with
 * {@link Loop#closeOnShutdown(AutoCloseable)}.
 */
final class Shutdown {
  private final Loop loop;

  // ---- Guarded by 'this': threads outside the loop add work and registrations concurrently. ----
  /** Set by shutdown(): no new task, schedule or registration from now on. */
  private volatile boolean requested;
  /** Set once the registrations are being closed: none can be added any more. */
  private boolean closing;
  /**
   * What to close on shutdown, with the order it was registered in (closed newest first); each is
   * taken off just before it is closed.
   */
  private final Map<AutoCloseable, Long> toClose = new IdentityHashMap<>();
  private long registrations;
  /** Opened when the shutdown has returned or thrown: see {@link Loop#awaitShutdown}. */
  private final CountDownLatch done = new CountDownLatch(1);

  Shutdown(Loop loop) {
    this.loop = loop;
  }

  boolean isRequested() {
    return requested;
  }

  /** Throws if the loop is shut down; {@code what} says what is refused. */
  void checkOpen(String what) {
    if (requested) {
      throw refused(what);
    }
  }

  /**
   * Sends {@code command} (new work) to the loop from a thread outside it, unless the loop is shut
   * down, then wakes the loop. Queued under the lock, so that shutdown() either refuses it or finds
   * it in the inbox, where its cancel-everything command comes after it: no task slips past a
   * shutdown unstarted forever.
   */
  void submit(String what, Runnable command) {
    queue(what, command);
    loop.runner.wake();
  }

  /**
   * Like {@link #submit}, without waking the loop: for a caller that counts the work in before it
   * is queued, takes the count back if this throws (then nothing was queued), and wakes the loop
   * after.
   */
  synchronized void queue(String what, Runnable command) {
    checkOpen(what);
    loop.runner.queue(command);
  }

  /** Like {@link #queue}, for a new task to start at the loop's next pass. */
  synchronized void queueTask(String what, Task<?> task) {
    checkOpen(what);
    loop.runner.queueTask(task);
  }

  synchronized void register(AutoCloseable resource) {
    if (closing) {
      throw refused("it closes nothing more (closeOnShutdown)");
    }
    toClose.putIfAbsent(resource, registrations++);
  }

  synchronized boolean unregister(AutoCloseable resource) {
    return toClose.remove(resource) != null;
  }

  private IllegalStateException refused(String what) {
    return new IllegalStateException("loop '" + loop.name() + "' is shut down: " + what);
  }

  /**
   * Waits until a shutdown has returned or thrown, for at most {@code nanos}; returns whether it
   * has. See {@link Loop#awaitShutdown}.
   */
  boolean await(long nanos) throws InterruptedException {
    return done.await(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * The body of {@link Loop#shutdown()}, on a thread that is not a task: the shutdown, unless
   * another call has begun it (then it returns at once: waiting for it here could wait for ever
   * for a thread that the shutdown itself waits for).
   */
  void run() {
    if (!begin()) {
      return;
    }
    try {
      shutDown();
    } finally {
      done.countDown();
    }
  }

  /** Requests the shutdown, unless another call has; returns whether this one did. */
  private synchronized boolean begin() {
    if (requested) {
      return false;
    }
    // After everything already in the inbox: tasks added before now are enqueued first, then
    // cancelled (a task that has not started never starts). Sent first: should it throw, nothing
    // has been requested, and a later call can still shut the loop down.
    loop.runner.submit(loop.runner::cancelAll);
    requested = true;
    return true;
  }

  private void shutDown() {
    Throwable failure = null;
    // Drive the cancelled tasks until each has ended: their finally blocks and try-with-resources
    // run, and Task closes the leases they forgot. Failures in cleanup do not stop the shutdown.
    // Driven by run(), which idles while no task can go on (a task waiting, shielded, for blocking
    // work to end; a task that swallowed its cancellation, waiting to have it thrown again) and
    // keeps the loop driven throughout; it returns once no task is left, or early after a
    // failure, a stop() or an interrupt, and then drives again. An interrupt is kept for after the
    // registered resources are closed too.
    boolean interrupted = Thread.interrupted();
    Runner runner = loop.runner;
    long switchesAtDeadlock = -1; // the loop's switch count at the last deadlock, or -1
    while (runner.hasWorkLeft()) {
      if (runner.driver() != null) {
        // Misuse: another thread called run() or step() meanwhile, and drives the cancelled
        // tasks itself. Wait for it to let go rather than count its refusals as failures.
        interrupted |= Thread.interrupted(); // else the park returns at once, again and again
        LockSupport.parkNanos(this, 1_000_000);
        continue;
      }
      try {
        runner.run();
        switchesAtDeadlock = -1;
      } catch (DeadlockException e) {
        // Cancelled tasks that wait for each other: a failure handler that runs for a cancelled
        // task waits with the cancellation held back (for a bus that a task waiting in a task
        // group's close() holds, say). Cancelling again lifts that; a deadlock that outlasts it
        // is thrown rather than driven again and again: one where no task has run since the last.
        long switches = loop.stats().switches();
        if (switches == switchesAtDeadlock) {
          failure = chain(failure, e);
          break;
        }
        switchesAtDeadlock = switches;
        runner.submit(runner::cancelAll);
      } catch (RuntimeException | Error e) {
        switchesAtDeadlock = -1;
        Thread other = runner.driver();
        if (other == null || other == Thread.currentThread()) { // not a refusal: see above
          failure = chain(failure, e);
        }
      }
      interrupted |= Thread.interrupted();
    }
    List<Map.Entry<AutoCloseable, Long>> order;
    synchronized (this) {
      closing = true;
      order = new ArrayList<>(toClose.entrySet());
    }
    order.sort(Map.Entry.<AutoCloseable, Long>comparingByValue().reversed());
    // Closed with the interrupt still kept for after, as the tasks' cleanup ran: a close() that
    // waits (a flush, a thread's end) would otherwise throw at once, and use the interrupt up. One
    // that comes during a close() is kept the same way, so that it cannot cut the next one short.
    for (Map.Entry<AutoCloseable, Long> e : order) {
      // Each stays registered until its turn: a newer one's close() may close it itself and take
      // it back (cancelCloseOnShutdown), and it is not closed a second time then.
      if (!unregister(e.getKey())) {
        continue;
      }
      try {
        e.getKey().close();
      } catch (Exception | Error x) {
        interrupted |= x instanceof InterruptedException; // its interrupt status, used up
        failure = chain(failure, x instanceof RuntimeException || x instanceof Error ? x
            : new IllegalStateException("shutdown(): closing " + Failures.describe(e.getKey())
                + " threw", x));
      }
      interrupted |= Thread.interrupted();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (failure instanceof RuntimeException r) {
      throw r;
    }
    if (failure instanceof Error err) {
      throw err;
    }
  }

  /**
   * The failure shutdown() throws: the first, carrying the later ones as suppressed. One object
   * thrown twice (a library's shared exception) is kept once, as it cannot suppress itself; a
   * later failure that the first cannot carry (made without suppression) is logged, not lost.
   */
  private Throwable chain(Throwable first, Throwable next) {
    if (first == null || first == next) {
      return next;
    }
    Failures.suppressOrLog(first, next, "loop '" + loop.name() + "': shutdown(): a failure after "
        + "the one it throws, which takes no suppressed exception");
    return first;
  }
}
