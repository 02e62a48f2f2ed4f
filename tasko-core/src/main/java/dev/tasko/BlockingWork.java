package dev.tasko;

import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Executor;

/**
 * One {@link Tasko#blocking} call: the work, run on a thread outside the loop, and the suspension
 * its task waits on until the work has ended. Also what the task's {@code toString()} and
 * diagnostics say it waits for: {@code "blocking work"}.
 *
 * <p>Its lifecycle is guarded by {@code this}: the work's thread and the loop race to start,
 * finish, skip or interrupt it, and an interrupt must reach the work only while it runs (a pooled
 * thread goes on to other jobs afterwards).
 */
final class BlockingWork<T> implements Runnable {
  /** The default executor: a new virtual thread for each work. */
  static final Executor VIRTUAL_THREAD =
      r -> Thread.ofVirtual().name("tasko-blocking-work").start(r);

  /** The work the calling thread runs now, if any: see {@link #ofCaller()}. */
  private static final ThreadLocal<BlockingWork<?>> RUNNING_HERE = new ThreadLocal<>();

  private static final int QUEUED = 0;
  private static final int RUNNING = 1;
  private static final int ENDED = 2;

  final Task<?> task;
  private final Callable<T> work;
  private final Suspension done;
  // ---- guarded by this ----
  private int phase = QUEUED;
  private Thread runner;
  private boolean interrupted;
  // ---- written by the work's thread before done.resume(), read by the task after ----
  private T result;
  private Throwable failure;
  /**
   * The task this work waits for in {@link Task#join()}, or null: a join the loop's deadlock
   * check can see through (see {@link Runner#onlyStuckJoinsWait()}; for a task of another loop,
   * {@link CrossLoopDeadlocks}).
   */
  private volatile Task<?> joining;

  private BlockingWork(Task<?> task, Callable<T> work) {
    this.task = task;
    this.work = work;
    this.done = new Suspension(task, this, /* external= */ true);
  }

  static <T> T run(Task<?> self, Executor executor, Callable<T> work) {
    Loop loop = self.loop;
    Traps.checkCancelled(self);
    self.prepareBlockingWork();
    BlockingWork<T> w = new BlockingWork<>(self, work);
    Throwable lost = null;
    CancellationException cancelled = null;
    loop.runner.blockingWork++; // from here to the end, virtual time stands still
    try {
      executor.execute(w);
      try {
        w.done.await();
      } catch (CancellationException e) {
        if (w.stop()) {
          // Interrupted while it runs: wait, shielded, until it has ended.
          Suspension ended = new Suspension(self, w, /* external= */ true, /* shielded= */ true);
          w.whenEnded(ended);
          Traps.awaitShielded(ended);
        }
        lost = w.failureNobodyGets();
        if (lost == null) {
          throw e;
        }
        cancelled = e; // thrown below, once the work no longer counts
      }
    } finally {
      loop.runner.blockingWork--;
    }
    if (cancelled != null) {
      // Reported once the work no longer holds virtual time still: the handler may wait on the
      // clock. The task ends cancelled, and a cancellation's suppressed exceptions reach no one.
      loop.runner.reportFailure(self, lost);
      throw cancelled;
    }
    if (w.failure != null) {
      if (w.failure instanceof RuntimeException r) {
        throw r;
      }
      if (w.failure instanceof Error err) {
        throw err;
      }
      throw new TaskFailedException(self, w.failure);
    }
    return w.result;
  }

  /**
   * The task whose {@link Tasko#blocking} work the calling thread is running, or null: a thread
   * that task waits for, which must not itself wait for the task (see {@link Loop#shutdown()}).
   */
  static Task<?> taskOfCaller() {
    BlockingWork<?> w = RUNNING_HERE.get();
    return w == null ? null : w.task;
  }

  /** The work the calling thread is running, or null. */
  static BlockingWork<?> ofCaller() {
    return RUNNING_HERE.get();
  }

  /**
   * On the work's thread: it is about to wait in {@code target.join()}, {@code target} a task of
   * any loop but its own task. The loop is told, so that it looks again whether anything can still
   * run.
   */
  void joinBegan(Task<?> target) {
    joining = target;
    Runner r = task.loop.runner;
    r.joiningWorks.add(this);
    r.lookAgain(); // a loop idle already checks once more (see Runner.onlyStuckJoinsWait)
  }

  /** On the work's thread: the join has returned or thrown. */
  void joinEnded() {
    task.loop.runner.joiningWorks.remove(this);
    joining = null;
  }

  /**
   * Whether this work waits in a join, for a task that has not ended, while its task waits for
   * the work: on the loop, once nothing else can run, neither can ever go on.
   */
  boolean stuckInJoin() {
    Task<?> target = stuckJoinTarget();
    return target != null && target.loop == task.loop;
  }

  /**
   * The task, of any loop, this work waits for in a join, if it has not ended and the work's task
   * waits for the work; else null. On the loop of the work's task.
   */
  Task<?> stuckJoinTarget() {
    Task<?> target = joining;
    Suspension s = task.waitingOn;
    return target != null && !target.isDone() && s != null && s.blocker == this ? target : null;
  }

  /** On the work's thread. */
  @Override
  public void run() {
    synchronized (this) {
      if (phase != QUEUED) {
        return; // its task was cancelled while it was queued: skip it
      }
      phase = RUNNING;
      runner = Thread.currentThread();
      // Task.isRunningBlockingWorkOn: from here until the work has ended, before its task resumes.
      task.runsBlockingWorkOn(runner);
    }
    // An executor that runs the work on the calling thread (a CallerRunsPolicy) runs it in the
    // task's turn: the loop waits for it as for any code of the task, and its clock may move
    // meanwhile. The work may suspend there, being on the task's thread; on virtual time, a sleep
    // would else never end.
    boolean inline = Thread.currentThread() == task.thread;
    if (inline) {
      task.loop.runner.blockingWork--;
    }
    // Work run in place may itself call blocking() (it runs on the task's thread): the inner
    // work's end hands the thread back to this one, which Tasko.currentBlockingWorkTask() names.
    BlockingWork<?> outer = RUNNING_HERE.get();
    try {
      RUNNING_HERE.set(this);
      result = work.call();
    } catch (Throwable t) {
      failure = t;
    } finally {
      if (inline) {
        task.loop.runner.blockingWork++;
      }
      if (outer == null) {
        RUNNING_HERE.remove();
      } else {
        RUNNING_HERE.set(outer);
      }
      Suspension waiting;
      synchronized (this) {
        phase = ENDED;
        runner = null;
        task.runsBlockingWorkOn(null); // before done.resume(): the task never sees it set
        waiting = endWaiter;
        if (interrupted) {
          Thread.interrupted(); // an interrupt meant for the work must not outlive it
        }
      }
      done.resume();
      if (waiting != null) {
        waiting.resume();
      }
    }
  }

  private Suspension endWaiter;

  /**
   * After its task was cancelled, once the work has ended or was skipped: what the work failed
   * with, which the task, ending cancelled, will not throw; null if it did not fail, ended with a
   * cancellation, or failed as work does when interrupted (an {@link InterruptedException}, an
   * interrupted I/O call) when the task's cancel interrupted it. Else the failure would be
   * lost: an assertion in the work's cleanup, or the failure of a task the work joined, which that
   * task counted on the join to deliver.
   */
  private synchronized Throwable failureNobodyGets() {
    if (phase != ENDED || failure == null || failure instanceof CancellationException
        || (interrupted && isInterruptEcho(failure))) {
      return null;
    }
    return failure;
  }

  private static boolean isInterruptEcho(Throwable failure) {
    int depth = 0;
    for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
      if (t instanceof InterruptedException || t instanceof java.io.InterruptedIOException
          || t instanceof java.nio.channels.ClosedByInterruptException
          || t instanceof CancellationException) {
        return true;
      }
    }
    return false;
  }

  /**
   * On the loop, when the task is cancelled: skips the work if it has not started, else interrupts
   * it. Returns whether it is still running, so the task must wait for its end.
   */
  private synchronized boolean stop() {
    if (phase == QUEUED) {
      phase = ENDED;
      return false;
    }
    if (phase == RUNNING) {
      interrupted = true;
      runner.interrupt();
      return true;
    }
    return false;
  }

  /** Resumes {@code s} when the work ends (at once if it has). */
  private void whenEnded(Suspension s) {
    synchronized (this) {
      if (phase != ENDED) {
        endWaiter = s;
        return;
      }
    }
    s.resume();
  }

  @Override
  public synchronized String toString() {
    Task<?> target = joining;
    String what = target == null ? "blocking work"
        : "blocking work, which waits for " + DeadlockException.joinOf(task, target);
    return interrupted ? what + " (interrupted; waiting for it to end)" : what;
  }
}
