package dev.tasko;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * How one failure travels inside another: as its cause, or suppressed in it. The loop adds a
 * failure to another only where it can tell whether it landed, so that none is lost.
 */
final class Failures {
  private Failures() {}

  /**
   * Adds {@code extra} to {@code target}'s suppressed exceptions, and returns whether it is there
   * now: an exception made without suppression ({@code enableSuppression == false}, as some
   * libraries make them for speed) drops it, and the caller must then report it another way.
   */
  static boolean suppressInto(Throwable target, Throwable extra) {
    target.addSuppressed(extra);
    for (Throwable s : target.getSuppressed()) {
      if (s == extra) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@link #suppressInto}, or, when {@code target} takes no suppressed exception, logs {@code
   * extra} at {@code WARNING} with {@code message}: where no other way to report it is at hand,
   * a failure is logged rather than lost.
   */
  static void suppressOrLog(Throwable target, Throwable extra, String message) {
    if (!suppressInto(target, extra)) {
      Loop.LOG.log(System.Logger.Level.WARNING, message, extra);
    }
  }

  /**
   * {@code o}'s {@code toString()}, or, should that throw, its class name and identity hash: for a
   * message about a user's object, which must not fail because that object cannot be printed.
   */
  static String describe(Object o) {
    try {
      return String.valueOf(o);
    } catch (Throwable e) {
      return o.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(o))
          + " (its toString() threw " + e.getClass().getName() + ")";
    }
  }

  /**
   * The name of {@code t}'s class as a user should see it: that of the public type it is thrown
   * as, for the package's own private kinds ({@code java.util.concurrent.CancellationException}
   * for a cancelled task group block or timeout, not {@code dev.tasko.CancelScope$Cancelled}).
   */
  static String typeName(Throwable t) {
    return t instanceof CancelScope.Cancelled
        ? java.util.concurrent.CancellationException.class.getName() : t.getClass().getName();
  }

  /** Whether {@code f} is {@code t}, or its cause or a suppressed one, at any depth. */
  static boolean carries(Throwable t, Throwable f) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    ArrayDeque<Throwable> todo = new ArrayDeque<>();
    todo.add(t);
    while (!todo.isEmpty()) {
      Throwable x = todo.poll();
      if (x == f) {
        return true;
      }
      if (seen.add(x)) {
        if (x.getCause() != null) {
          todo.add(x.getCause());
        }
        todo.addAll(Arrays.asList(x.getSuppressed()));
      }
    }
    return false;
  }
}
