package dev.tasko;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;

/**
 * Tasks that start together and end together, as trio's nurseries and asyncio's {@code TaskGroup}:
 * the task that opens a group cannot get past its {@link #close()} until every child has ended, and
 * a failure of one child stops the others and the opener's block, and reaches the opener.
 *
 * <pre>{@code
 * try (TaskGroup reads = TaskGroup.open("reads")) {
 *   Task<Double> t = reads.add("temperature", () -> thermometer.read());
 *   Task<Double> h = reads.add("humidity", () -> hygrometer.read());
 *   Task<Double> p = reads.add("pressure", () -> barometer.read());
 * }                                  // all three have ended here; if one threw, so does this
 * }</pre>
 *
 * <h2>Children</h2>
 * {@link #add} starts a child task on the opener's loop; it first runs at the loop's next pass.
 * Any task of that loop may add children while the group is open, children included, until
 * {@code close()} has returned; after that, {@code add} throws {@link IllegalStateException}.
 *
 * <h2>Failures</h2>
 * The first child that fails (ends by an exception other than its own cancellation) cancels its
 * siblings (children added later are cancelled before they start), and {@code close()} throws that
 * failure once all have ended, with the failures of the others {@linkplain
 * Throwable#getSuppressed() suppressed} in it; a checked exception is wrapped in a {@link
 * TaskFailedException} naming the child. Failures of children are reported by {@code close()} and
 * not to the loop's {@link FailureHandler} (unless the opener is cancelled, below), so always close
 * the group (try-with-resources). An opener that ends without closing it gets a warning, and its
 * children are cancelled; their failures then go to the failure handler, and one caught before
 * goes suppressed into the opener's own failure, if it failed, else to the handler.
 * Children cancelled by the group end {@link Task.State#CANCELLED}, which is not a failure; the
 * {@link CancellationException} they throw, and that a {@link Task#join()} of them throws, has the
 * failure that cancelled them as its {@linkplain Throwable#getCause() cause}.
 *
 * <p>The failure cancels the opener's block too, the code inside the try statement, as a
 * {@link Tasko#withTimeout} body is cut off when its time is up: the suspension point it waits at,
 * or its next one, throws a {@code CancellationException} ("the block of task group 'reads' was
 * cancelled: child 'temperature' failed") with the failure as its cause, so that a block waiting
 * for something only the children would give (a {@link Channel} they fill) does not wait for
 * ever. That exception leaves the block, {@code close()} waits for the children and throws the
 * failure, and the try statement, as any try-with-resources whose block threw, throws the block's
 * exception with {@code close()}'s {@linkplain Throwable#getSuppressed() suppressed} in it. So
 * what a failed child makes the try statement throw depends on where the opener was: its failure
 * (from {@code close()}) when the block had no wait left, or the block's cancellation caused by it;
 * unlike trio's nurseries and Kotlin's {@code coroutineScope}, a try-with-resources cannot put the
 * child's failure in place of the exception its block throws. Either way the failure is not lost:
 * a block that catches its cancellation and ends normally still gets it from {@code close()}, and
 * an opener that lets the cancellation through fails with it, as any task that throws. Code in the
 * block that does not suspend runs on until it does; a {@link Task#join()} of the failed child that
 * was waiting when it failed throws its failure, one called after that throws the block's
 * cancellation, as every suspension point in the block does.
 *
 * <p>Two things to keep in mind when handling it. {@code CancellationException} extends
 * {@link IllegalStateException}: a {@code catch (IllegalStateException e)} after the try
 * statement, meant for a child's failure, catches the block's cancellation too. And do not rethrow
 * the cause from inside the block: {@code close()} throws that same exception, which a
 * try-with-resources cannot add to itself as suppressed (it throws an
 * {@link IllegalArgumentException}, "Self-suppression not permitted", with the failure as its
 * cause); let the cancellation leave the block and look at its cause after the try statement.
 * Cleanup that must wait (acquire a bus to stop the motors) cannot run in the block once it is cut
 * off, as in a {@code withTimeout} body past its time: its waits throw too. Put it after the try
 * statement, which {@code close()} has left.
 *
 * <p>A loop that restarts a group when a child fails asks the group, with {@link #failed()},
 * whether the exception is its own: the cancellation of an enclosing group's block, a timeout or a
 * cancel of the task also end the block, and those must go on up.
 *
 * <pre>{@code
 * while (true) {
 *   TaskGroup readers = TaskGroup.open("readers");
 *   try (readers) {
 *     readers.add("imu", imu::run);
 *     for (Reading r : readings) {   // a Channel the readers fill
 *       steer(r);
 *     }
 *   } catch (RuntimeException e) {
 *     if (!readers.failed()) {
 *       throw e;                     // not the readers': a cancel, a timeout, an enclosing group
 *     }
 *     LOG.log(WARNING, "readers failed; restarting in 1 s", e);
 *     Tasko.sleep(Duration.ofSeconds(1));
 *   }
 * }
 * }</pre>
 *
 * <h2>Cancellation</h2>
 * When the opener is cancelled (or a {@link Tasko#withTimeout} or another group's block around the
 * group is), its {@code close()} cancels every child (and any child added meanwhile), waits until
 * all have ended, and then throws the {@link CancellationException}, with the failure of a child
 * that failed before the cancel {@linkplain Throwable#getSuppressed() suppressed} in it. The loop
 * reports nothing of a cancelled task, and a try-with-resources whose body the cancel ended keeps
 * {@code close()}'s exception only as a suppressed one of the body's, so that failure also goes to
 * the loop's {@link FailureHandler}, from {@code close()}, unless a task joined that child and was
 * thrown it; also when the block was thrown the cancellation that failure caused, as its cause,
 * so that a block that let that through sees it twice, there and in the handler. A failure in a
 * child's cleanup after the cancel is reported as any task's is: to the tasks that join that
 * child, else to the handler. Code inside the try block that throws does not cancel the
 * children: {@code close()} cannot see that exception and waits for them as usual; call
 * {@link #cancel()} first if they should stop.
 *
 * <h2>Deadlocks</h2>
 * Only children end a group, so an opener waiting in {@code close()} can be part of a deadlock:
 * {@link Loop#run()} reports it ({@code "task group 'reads' (2 children running)"}). The wait is
 * built, like every other, on the loop's one parking primitive, {@link Suspension}.
 *
 * <p>{@code toString()} may be called from any thread (a snapshot); everything else must be called
 * from a task of the group's loop.
 */
public final class TaskGroup implements AutoCloseable {
  private final String name;
  private final Task<?> owner;
  /** The owner's block, from open() to close(): cancelled when a child fails. */
  private final CancelScope block;

  // ---- guarded by the loop's baton ----
  private final List<Task<?>> children = new ArrayList<>();
  private boolean closed;
  /** Set once close() cancels the children for the owner's cancellation: later ones never start. */
  private boolean cancelling;
  private Throwable failure;
  private Task<?> failedChild;
  /**
   * Later children's failures suppressed in {@link #failure}: they reach whoever {@code failure}
   * reaches, but a joiner of the first child may have been thrown it before they were added (see
   * {@link #reportCarried}). Null until there is one.
   */
  private List<Carried> carried;
  /**
   * Set when a child, ending while the group cancels for its owner, failed with the very object
   * {@link #failure} is: its own end delivered it (to its joiners or the handler).
   */
  private boolean failureDelivered;
  /** The owner's wait in close(), while it waits. */
  private Suspension closing;

  private TaskGroup(String name, Task<?> owner) {
    this.name = name;
    this.owner = owner;
    this.block = new CancelScope(owner, this);
    Traps.openScope(block);
  }

  /**
   * Opens a group owned by the calling task: only it may {@link #close()} the group.
   *
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   */
  public static TaskGroup open() {
    return new TaskGroup(null, DrivenLoops.requireCurrentTask("open"));
  }

  /**
   * Like {@link #open()}, named for diagnostics ({@code "task group 'reads' (2 children
   * running)"}).
   *
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   * @throws IllegalStateException if not called from a task of a running loop, or
   *     from the body of a {@linkplain Loop#scheduleCallback callback schedule}
   */
  public static TaskGroup open(String name) {
    Names.require(name);
    return new TaskGroup(name, DrivenLoops.requireCurrentTask("open"));
  }

  /**
   * Starts a child task that computes a value; {@link Task#join()} returns it.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   * @throws IllegalStateException if not called from a task of the group's loop, if the group
   *     is closed, or if the loop is {@linkplain Loop#shutdown() shut down}
   */
  public <T> Task<T> add(String name, Callable<T> body) {
    return add0(name, body);
  }

  /**
   * Starts a child task that returns nothing.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break)
   * @throws IllegalStateException if not called from a task of the group's loop, if the group
   *     is closed, or if the loop is {@linkplain Loop#shutdown() shut down}
   */
  public Task<Void> add(String name, TaskBody body) {
    return add0(name, body);
  }

  private <T> Task<T> add0(String name, Object body) {
    Names.require(name);
    Objects.requireNonNull(body, "body == null");
    checkOnLoop("add");
    if (closed) {
      throw new IllegalStateException("add(\"" + name + "\"): " + this + " is closed");
    }
    Loop loop = owner.loop;
    // As addTask: a child added after shutdown() has cancelled every task would run uncancelled.
    loop.shutdownControl.checkOpen("it takes no new task (add(\"" + name + "\") to " + this + ")");
    Task<T> child = loop.newTask(name, body);
    child.addFailureFlag(Task.GROUP_REPORTS); // close() rethrows it
    child.onEnd(() -> childEnded(child));
    children.add(child);
    loop.runner.enqueue(child, Runner.START_NOW);
    if (failure != null || cancelling) {
      if (failure != null) {
        child.cancelledBecause(failure);
      }
      Traps.cancel(child); // the group is failing, or its owner cancelled: it never starts
    }
    return child;
  }

  /**
   * Whether a child has failed: the failure that cancels the other children and the owner's block,
   * and that {@link #close()} throws. What tells a group's own failure from anything else that
   * ends its block (a cancel, a timeout, an enclosing group's failure), for a loop that restarts
   * the group (see the class comment). Does not suspend.
   *
   * @throws IllegalStateException if not called from a task of the group's loop
   */
  public boolean failed() {
    checkOnLoop("failed");
    return failure != null;
  }

  /**
   * Cancels every child still running; {@link #close()} still waits for them to end. Does not
   * suspend.
   *
   * @throws IllegalStateException if not called from a task of the group's loop
   */
  public void cancel() {
    checkOnLoop("cancel");
    cancelChildren();
  }

  /**
   * Waits until every child has ended, then closes the group. Suspends the owner while children
   * run (other tasks run meanwhile); returns at once, without yielding, if none does. Idempotent:
   * a second call does nothing.
   *
   * @throws RuntimeException or {@link Error}: the first child's failure, others suppressed in it
   *     (a {@link CancellationException} if that child let through the cancellation of a task
   *     group block of its own, cut off by a failed child of that group)
   * @throws TaskFailedException if that failure is a checked exception
   * @throws CancellationException if the owner is cancelled (or an enclosing timeout passes, or an
   *     enclosing group's block is cancelled) before or while it waits: every child has then been
   *     cancelled and has ended; a child's failure from before the cancel is suppressed in it and,
   *     unless a joiner of that child was thrown it, given to the loop's {@link FailureHandler};
   *     one in a child's cleanup after the cancel has been reported as any task's is (to its
   *     joiners, else the handler)
   * @throws IllegalStateException if not called by the task that opened the group
   */
  @Override
  public void close() {
    Task<?> self = DrivenLoops.currentTask();
    if (self != owner) {
      throw new IllegalStateException("close() of " + this + " must be called by task '"
          + owner.name() + "', which opened it; current: "
          + (self == null ? Thread.currentThread() : self));
    }
    if (closed) {
      return;
    }
    // The block is over: a child's failure from now on is close()'s to throw, and one that
    // cancelled the block has been thrown there (or is thrown from here, below).
    Traps.leaveScope(block);
    CancellationException cancelled = null;
    try {
      Traps.checkCancelled(owner); // a cancellation point even with no child left
      while (!children.isEmpty()) {
        closing = new Suspension(owner, this, /* external= */ false);
        Traps.await(closing, -1);
      }
    } catch (CancellationException e) {
      cancelled = e;
      // The owner throws its cancellation, not a child's failure.
      cancelChildrenReportingThemselves();
      while (!children.isEmpty()) { // the owner cannot outlive its children
        closing = new Suspension(owner, this, /* external= */ false, /* shielded= */ true);
        Traps.awaitShielded(closing);
      }
    } finally {
      closing = null;
      closed = true;
    }
    if (cancelled != null) {
      if (failure != null) {
        // A child failed before the cancel. The cancellation carries it, but the loop reports
        // nothing of a cancelled task, and a try-with-resources whose body the cancel ended keeps
        // close()'s exception only as a suppressed one: unless a task joined that child and was
        // thrown its failure, the handler gets it, from here, the child having ended. Even if the
        // block was thrown the cancellation the failure caused: nothing tells whether that is
        // what leaves the try statement, or whether the block caught it and ended normally, and
        // a failure reported twice is better than one lost.
        cancelled.addSuppressed(failure);
        if (!failedChild.hasFailureFlag(Task.HANDED_OVER) && !failureDelivered) {
          owner.loop.runner.reportFailure(failedChild, failure);
        } else {
          reportCarried();
        }
      }
      throw cancelled;
    }
    if (failure instanceof RuntimeException r) {
      throw r;
    }
    if (failure instanceof Error err) {
      throw err;
    }
    if (failure != null) {
      throw new TaskFailedException(failedChild, failure);
    }
  }

  /** On the loop, as the child's last act. */
  private void childEnded(Task<?> child) {
    children.remove(child);
    if (child.state() == Task.State.FAILED && cancelling) {
      failureDelivered |= child.failure() == failure; // reported at its end, as any task's
    } else if (child.state() == Task.State.FAILED) {
      Throwable f = child.failure();
      if (failure == null) {
        failure = f;
        failedChild = child;
        for (Task<?> c : children) {
          c.cancelledBecause(f);
        }
        cancelChildren();
        if (block.isOpen()) { // the owner is still in its block: it stops there too
          block.reason = f;
          Traps.cancelScope(block);
        }
      } else if (f != failure) {
        if (Failures.suppressInto(failure, f)) {
          if (carried == null) {
            carried = new ArrayList<>(4);
          }
          carried.add(new Carried(child, f));
        } else {
          owner.loop.runner.reportFailure(child, f); // the first takes no suppressed one: not lost
        }
      }
    }
    Suspension s = closing;
    if (s != null && children.isEmpty()) {
      s.resume();
    }
  }

  /**
   * Its owner is ending without having called {@code close()} (no try-with-resources): as the
   * loop closes a lease its task forgot, it closes the group as far as an ended task can, without
   * waiting. Warns, cancels the children, and has each one's failure reported as any task's is,
   * from now on, to its joiners or the failure handler. A failure caught before, which only
   * {@code close()} was to throw, {@link #handOverFailure} places once the owner's outcome is
   * final. On the loop, as the owner ends.
   */
  void ownerEnded() {
    if (closed) {
      return;
    }
    String open = toString(); // with its children, before it reads "(closed)"
    closed = true;
    Loop.LOG.log(System.Logger.Level.WARNING, "loop ''{0}'': task ''{1}'' ended with {2} open: "
        + "open a task group with try-with-resources, so that close() waits for its children and"
        + " throws their failure; its children are cancelled", owner.loop.name(), owner.name(),
        open);
    cancelChildrenReportingThemselves();
  }

  /**
   * After {@link #ownerEnded}: the failure of a child caught before, which only {@code close()}
   * was to throw, goes where a try-with-resources would have put it: suppressed in the owner's
   * failure ({@code ownerFailure}, null if it did not fail), unless that already carries it (the
   * block's cancellation it caused, let through). Else, or if that failure takes no suppressed
   * exception, to the failure handler.
   */
  void handOverFailure(Throwable ownerFailure) {
    if (failure == null) {
      return;
    }
    if (failedChild.hasFailureFlag(Task.HANDED_OVER) || failureDelivered) {
      reportCarried();
      return;
    }
    if (ownerFailure == null || !(Failures.carries(ownerFailure, failure)
        || Failures.suppressInto(ownerFailure, failure))) {
      owner.loop.runner.reportFailure(failedChild, failure);
    }
  }

  /**
   * When {@link #failure} goes to no one from here, having been delivered already (thrown to a
   * joiner of its child, or reported by that child's own end): the later children's failures
   * suppressed in it since, which that delivery may have come before, go to the handler, each
   * unless its own child was joined. A failure reported twice is better than one lost.
   */
  private void reportCarried() {
    if (carried == null) {
      return;
    }
    for (Carried c : carried) {
      if (!c.child.hasFailureFlag(Task.HANDED_OVER)) {
        owner.loop.runner.reportFailure(c.child, c.failure);
      }
    }
    carried = null;
  }

  /** A later child's failure, suppressed in the first: see {@link #carried}. */
  private record Carried(Task<?> child, Throwable failure) {}

  /**
   * Cancels every child, the group throwing none of their failures from now on: a child's failure
   * (in its cleanup, say) is reported by the child's own end, to its joiners or the handler.
   */
  private void cancelChildrenReportingThemselves() {
    cancelling = true;
    for (Task<?> c : children) {
      c.clearFailureFlag(Task.GROUP_REPORTS);
    }
    cancelChildren();
  }

  private void cancelChildren() {
    for (Task<?> c : List.copyOf(children)) {
      Traps.cancel(c);
    }
  }

  private void checkOnLoop(String op) {
    Task<?> t = DrivenLoops.currentTask();
    if (t == null || t.loop != owner.loop) {
      throw new IllegalStateException(op + "() of " + this + " must be called from a task of loop '"
          + owner.loop.name() + "'; current thread: " + Thread.currentThread());
    }
  }

  /**
   * Why the owner's block throws: {@code "the block of task group 'reads' was cancelled: child
   * 'temperature' failed"}.
   */
  String whyBlockCancelled() {
    return "the block of " + describe() + " was cancelled: child '" + failedChild.name()
        + "' failed";
  }

  private String describe() {
    return name == null ? "task group" : "task group '" + name + "'";
  }

  /**
   * {@code "task group 'reads' (2 children running)"}: what the owner waiting in {@code close()}
   * shows in diagnostics. A snapshot from another thread.
   */
  @Override
  public String toString() {
    String what = describe();
    if (closed) {
      return what + " (closed)";
    }
    int n = children.size();
    return what + " (" + n + (n == 1 ? " child" : " children") + " running)";
  }
}
