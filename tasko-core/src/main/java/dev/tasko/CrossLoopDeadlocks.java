package dev.tasko;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Deadlocks across loops: tasks of several loops, each run on a thread of its own, that join each
 * other in a cycle ({@code a} of loop A joins {@code b} of loop B, which joins {@code a}), or join
 * a task of a loop that is deadlocked in itself. Each loop alone cannot tell: a join of a task of
 * another loop is a wait another thread may end, so it would idle for ever.
 *
 * <p>A loop that would idle with no timer, nothing in its inbox and no task ready, while every wait
 * of its tasks that another thread could end is a join of a task of another loop that has not
 * ended (the task's own, or its {@link Tasko#blocking} work's), publishes the tasks it waits for
 * here: the loop can only go on once one of them ends. A loop deadlocked in itself publishes that
 * it waits for nothing. A published loop runs nothing until it has taken its word back: it does,
 * under the same lock, before it runs anything again (at its next pass), or when its
 * {@code run()} returns other than by reporting a deadlock.
 *
 * <p>A loop that publishes then looks, under the lock, at the loops whose tasks it waits for, and
 * at theirs in turn. If every one has published, none has work in its inbox, and none of the
 * tasks waited for has ended, then at this moment no task of any of them can run: each could only
 * be woken by another thread (its inbox), or by a task of one of these loops, which is stuck as
 * well. That is a deadlock, as sure as one inside a loop, whatever the order in which the loops
 * came to it: the last one to publish sees all the others. Its {@code run()} throws a
 * {@link DeadlockException}, and it asks every other published loop to look again (see
 * {@link Runner#lookAgain()}), so that each of them reports it too. A loop that has reported keeps
 * its word published, so that the others still see it; nothing the loops themselves do leaves
 * work in its inbox (blocking work that begins a join asks its loop to look again, not through
 * the inbox), so only another thread's cancel, resume or new task hides it.
 *
 * <p>What it cannot see, it does not report: a loop that runs, sleeps, waits on a channel, an
 * event or a raw suspension, or has not been run yet has not published, and the loops that wait
 * for it keep waiting. A join inside a {@link Tasko#withTimeout} is on a timer: its loop does not
 * publish. As inside one loop, a cancel from another thread that comes after the report is not
 * foreseen: the loops are left as they were, and may be run again.
 *
 * <p>Costs nothing to a loop that never idles in such a state; one that does takes a global lock
 * each time it idles so and each time it wakes from it.
 */
final class CrossLoopDeadlocks {
  /** Guards every runner's {@link Runner#stuckOn} and {@link #published}. */
  private static final Object LOCK = new Object();
  /** The loops that have published, weakly: a loop dropped after its report is not kept. */
  private static final Set<Runner> published = Collections.newSetFromMap(new WeakHashMap<>());
  private static final Task<?>[] NOTHING = new Task<?>[0];

  private CrossLoopDeadlocks() {}

  /**
   * Publishes that {@code r}, idle, can only go on once one of {@code targets} ends (tasks of other
   * loops its tasks wait for in joins), then looks whether the loops those tasks belong to are as
   * stuck. On the driver of {@code r}.
   *
   * @return the report to throw if they all are; null if something may still end one of the joins
   */
  static DeadlockException idleInJoins(Runner r, Task<?>[] targets) {
    List<Runner> loops;
    synchronized (LOCK) {
      publish(r, targets);
      loops = deadlockedWith(r);
      if (loops == null) {
        return null;
      }
      wakeOthers(r);
      // Built under the lock: the other loops' tasks are theirs to change, and none of them
      // changes anything before it has taken its word back here.
      return DeadlockException.across(loops);
    }
  }

  /**
   * Publishes that {@code r} is deadlocked in itself, so that a loop whose tasks join its tasks
   * can report that too. On the driver of {@code r}, which is about to throw its own report.
   */
  static void deadlockedInItself(Runner r) {
    synchronized (LOCK) {
      publish(r, NOTHING);
      wakeOthers(r);
    }
  }

  /** Takes back what {@code r} published, if anything. On the driver of {@code r}. */
  static void retract(Runner r) {
    synchronized (LOCK) {
      r.stuckOn = null;
      published.remove(r);
    }
  }

  /**
   * A command was taken back, unread, from the inbox of {@code r} ({@link Loop#dump()} does, once
   * the driver it sent it to has left): a loop that looked at {@code r} meanwhile took it for a
   * loop with work to come, and waits. If {@code r} has published, every published loop looks
   * again. Any thread.
   */
  static void inboxWithdrawn(Runner r) {
    synchronized (LOCK) {
      if (r.stuckOn != null) {
        wakeOthers(r);
      }
    }
  }

  /** Whether {@code r} has published and not taken it back: for tests. */
  static boolean isPublished(Runner r) {
    synchronized (LOCK) {
      return r.stuckOn != null;
    }
  }

  private static void publish(Runner r, Task<?>[] targets) {
    r.stuckOn = targets;
    published.add(r);
  }

  /**
   * The loops {@code r} is deadlocked with, {@code r} first, then in the order the joins reach
   * them; null if any of them may still go on. Under the lock.
   */
  private static List<Runner> deadlockedWith(Runner r) {
    List<Runner> loops = new ArrayList<>(2);
    loops.add(r);
    for (int i = 0; i < loops.size(); i++) {
      Runner loop = loops.get(i);
      // Work another thread sent (a cancel, a resume, a new task) may end a wait: not stuck. The
      // driver of r has looked at its own inbox, but looks again here.
      if (loop.stuckOn == null || loop.hasInboxWork()) {
        return null;
      }
      for (Task<?> target : loop.stuckOn) {
        if (target.isDone()) {
          return null; // its joiner is being resumed
        }
        Runner other = target.loop.runner;
        if (!loops.contains(other)) {
          loops.add(other);
        }
      }
    }
    return loops.size() > 1 ? loops : null;
  }

  /**
   * Has every other published loop look again: each may be deadlocked with {@code r}, and have
   * looked before {@code r} published. Under the lock.
   */
  private static void wakeOthers(Runner r) {
    for (Runner other : published) {
      if (other != r) {
        other.lookAgain();
      }
    }
  }
}
