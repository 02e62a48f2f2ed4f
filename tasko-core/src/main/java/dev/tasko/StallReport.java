package dev.tasko;

import java.util.Locale;

/**
 * What a stall warning says: which task holds the processor and for how long, the line of the
 * program it is on, what it is most likely doing there, and how to fix it. Built from a stack
 * trace taken by the loop's watchdog (see {@link Loop.Builder#stallWarning}).
 */
final class StallReport {
  /** The fix for a task blocked in a call. */
  private static final String MOVE_OFF_THE_LOOP = "move blocking work off the loop: run the call"
      + " in Tasko.blocking(() -> ...), which the task awaits while the other tasks run";
  /** The fix for a callback schedule blocked in a call: it may not call Tasko.blocking. */
  private static final String CALLBACK_MOVE_OFF_THE_LOOP = "move blocking work off the loop: make"
      + " it a schedule (Loop.schedule), whose body may run the call in Tasko.blocking(() -> ...)"
      + " (a callback schedule may not wait)";
  /** The fix for a callback schedule found waiting: it may not, so not Tasko.sleep. */
  private static final String CALLBACK_MAY_NOT_WAIT = "a callback schedule may not wait"
      + " (Tasko.sleep and Tasko.yieldNow throw in it): make it a schedule (Loop.schedule), whose"
      + " body may wait with Tasko.sleep, or move the waiting off the loop.";
  /** The fix for a callback schedule found computing long. */
  private static final String KEEP_RUNS_SHORT = "keep each run of a callback schedule short: make"
      + " it a schedule (Loop.schedule), whose body may call Tasko.yieldNow() now and then, or"
      + " move the work off the loop.";

  private StallReport() {}

  /**
   * The warning for task {@code task} of loop {@code loop}, which has held the processor for
   * {@code heldNanos} and is at {@code stack} (innermost frame first; not empty).
   */
  static String message(String loop, String task, long heldNanos, StackTraceElement[] stack) {
    return message(loop, task, heldNanos, stack, Thread.State.RUNNABLE);
  }

  /**
   * {@link #message(String, String, long, StackTraceElement[])}, knowing the state its thread was
   * in when the stack was taken: BLOCKED or WAITING, it waits, whatever frame it is in (a virtual
   * thread blocked entering a monitor shows the frame of the monitor's code).
   */
  static String message(String loop, String task, long heldNanos, StackTraceElement[] stack,
      Thread.State state) {
    return message(loop, task, heldNanos, stack, state, false);
  }

  /**
   * {@link #message(String, String, long, StackTraceElement[], Thread.State)}, for the task of a
   * callback schedule when {@code callback}: its body may not wait, so the fix offered is not a
   * call of Tasko's that waits.
   */
  static String message(String loop, String task, long heldNanos, StackTraceElement[] stack,
      Thread.State state, boolean callback) {
    int line = firstProgramFrame(stack);
    StringBuilder m = new StringBuilder()
        .append("loop '").append(loop).append("': task '").append(task)
        .append("' has held the processor for ").append(DurationText.approximate(heldNanos))
        .append(" without reaching a suspension point, so every other task of the loop waits. ");
    if (line >= 0 && isParkedInSwitch(stack[line])) {
      m.append(waitEnded(stack, line)).append(": its turn came, but no carrier thread has run it"
          + " since. The JVM's virtual threads share a few carrier threads (one per processor by"
          + " default), and they are all busy: other virtual threads computing for long, or"
          + " pinned while they block (in native code, say). Run such work on platform threads"
          + " or an executor of its own, or give the JVM more carriers with"
          + " -Djdk.virtualThreadScheduler.parallelism.");
    } else {
      if (line >= 0) {
        m.append("It is at ").append(where(stack[line])).append(", ");
      } else {
        m.append("It is ");
      }
      m.append(diagnosis(stack, line, state, callback));
    }
    m.append(" (Loop.builder().stallWarning(threshold) sets when this warning comes; "
        + "noStallWarning() turns it off.) Stack:");
    for (StackTraceElement frame : stack) {
      m.append("\n\tat ").append(frame);
    }
    return m.toString();
  }

  /**
   * Whether the task is loading or initialising classes: a one-off cost of a first call (the
   * locale data behind the first {@code printf}, say), slow on a busy machine but not the program's
   * doing and not recurring, so not worth a warning.
   */
  static boolean isWarmingUp(StackTraceElement[] stack) {
    for (StackTraceElement f : stack) {
      String c = f.getClassName();
      if (f.getMethodName().equals("<clinit>") || c.startsWith("jdk.internal.loader.")
          || (c.equals("java.lang.ClassLoader") && f.getMethodName().equals("loadClass"))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The likely cause, from the frames above the program's own line and the thread's state, and its
   * fix.
   */
  private static String diagnosis(StackTraceElement[] stack, int line, Thread.State state,
      boolean callback) {
    boolean waiting = state != Thread.State.RUNNABLE || isWaiting(stack[0]);
    int end = line >= 0 ? line : stack.length;
    for (int i = 0; i < end; i++) {
      if (stack[i].getClassName().equals("java.lang.Thread")
          && stack[i].getMethodName().startsWith("sleep")) {
        return "in Thread.sleep, which holds the loop: " + (callback ? CALLBACK_MAY_NOT_WAIT
            : "use Tasko.sleep instead, which lets the other tasks run meanwhile.");
      }
    }
    if (line != 0) {
      // The JDK frame the program called, not the innermost one (a park deep in the JDK).
      StackTraceElement called = stack[end - 1];
      String call = "in a call that has not returned (" + called.getClassName() + "."
          + called.getMethodName() + "), ";
      if (!waiting) {
        return call + "which is working, not waiting: a long computation, much work asked for in"
            + " one turn (an array grown to hold it, say), or the machine holding the loop up"
            + " (garbage collection, a busy processor); " + (callback ? KEEP_RUNS_SHORT
            : "call Tasko.yieldNow() now and then, or move the work off the loop.");
      }
      return call + "most likely a blocking call such as I/O or a lock: " + (callback
          ? CALLBACK_MOVE_OFF_THE_LOOP + "." : MOVE_OFF_THE_LOOP + ", or use Tasko.sleep to wait.");
    }
    if (state == Thread.State.BLOCKED) {
      // Its own line on top, yet blocked: entering a synchronized block or method (a virtual
      // thread blocked on a monitor shows no JDK frame above the program's).
      return "waiting for a lock (a synchronized block or method that another thread holds). If"
          + " another task of this loop holds it, having suspended inside it (a Tasko.sleep in a"
          + " synchronized block), this never ends: that task cannot run to leave it while this"
          + " one waits. Tasks of one loop need no lock between them; share nothing with other"
          + " threads under a lock the loop's tasks take, or " + (callback
              ? CALLBACK_MOVE_OFF_THE_LOOP : MOVE_OFF_THE_LOOP) + ".";
    }
    if (waiting) {
      // Its own native method (a library's, through JNI), or a state read a moment after the
      // stack: most likely blocked in there.
      String where = stack[0].isNativeMethod() ? "in native code that has not returned"
          : "waiting (its thread was " + state.toString().toLowerCase(Locale.ROOT)
              + " a moment after this stack was taken)";
      return where + ", most likely a blocking call (I/O, a device): " + (callback
          ? CALLBACK_MOVE_OFF_THE_LOOP : MOVE_OFF_THE_LOOP) + ".";
    }
    return "computing: a long computation or a busy-wait loop holds the loop; " + (callback
        ? KEEP_RUNS_SHORT
        : "wait with Tasko.sleep, call Tasko.yieldNow() now and then, or move the work off the "
            + "loop.");
  }

  /**
   * Whether the innermost frame is one a thread waits in: native code (a read, a pinned wait), or
   * where a virtual thread parks (a lock, a blocking call it unmounts in) or an object's monitor
   * waits. A task caught anywhere else is working, not blocked (a copy growing an array).
   */
  private static boolean isWaiting(StackTraceElement top) {
    String c = top.getClassName();
    return top.isNativeMethod() || c.equals("java.lang.VirtualThread")
        || c.equals("jdk.internal.vm.Continuation") || c.equals("jdk.internal.misc.Unsafe")
        || c.equals("java.util.concurrent.locks.LockSupport")
        || (c.equals("java.lang.Object") && top.getMethodName().startsWith("wait"));
  }

  /** The line of the program the task is on, as {@link #where} prints it, or its innermost. */
  static String programLine(StackTraceElement[] stack) {
    int line = firstProgramFrame(stack);
    return stack.length == 0 ? "" : where(stack[Math.max(line, 0)]);
  }

  /** {@code "greenhouse.Fan.check(Fan.java:42)"}: the frame without its module, for people. */
  private static String where(StackTraceElement f) {
    String file = f.getFileName() == null ? "Unknown Source"
        : f.getLineNumber() >= 0 ? f.getFileName() + ":" + f.getLineNumber() : f.getFileName();
    return f.getClassName() + "." + f.getMethodName() + "(" + file + ")";
  }

  /**
   * The innermost frame of the program itself, outside the JDK: the line the task is on. Tasko's
   * own frames lie below the program's (a task's body is called by the loop), so they need no
   * filter. Returns -1 if every frame is the JDK's.
   */
  private static int firstProgramFrame(StackTraceElement[] stack) {
    for (int i = 0; i < stack.length; i++) {
      if (!isJdk(stack[i].getClassName())) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Whether the task is still parked in the loop's switch ({@code Runner.park} and the waits it
   * calls, or the wait for a first turn): handed the processor, but its thread has not run since.
   */
  private static boolean isParkedInSwitch(StackTraceElement f) {
    return f.getClassName().equals(Runner.class.getName())
        && (f.getMethodName().equals("park") || f.getMethodName().startsWith("await"));
  }

  /**
   * Which wait of the task's has ended, from the frames below the switch at {@code own}: {@code
   * "It is at greenhouse.Fan.check(Fan.java:42), in Tasko.sleep, whose wait has ended"}.
   */
  private static String waitEnded(StackTraceElement[] stack, int own) {
    int call = own;
    while (call < stack.length && (isJdk(stack[call].getClassName())
        || stack[call].getClassName().equals(Runner.class.getName())
        || stack[call].getClassName().equals(Traps.class.getName()))) {
      call++;
    }
    if (call == stack.length) {
      return "It is in the loop's switch, its wait ended";
    }
    String c = stack[call].getClassName();
    if (c.equals(ScheduledTask.class.getName())) {
      return "It is between two runs of its schedule, and the next one is due";
    }
    if (c.startsWith(Task.class.getName() + "$")) {
      return "It has not started yet, and its first turn has come";
    }
    int program = call + 1;
    while (program < stack.length && (isJdk(stack[program].getClassName())
        || isLoops(stack[program].getClassName()))) {
      program++;
    }
    return (program < stack.length ? "It is at " + where(stack[program]) + ", in " : "It is in ")
        + c.substring(c.lastIndexOf('.') + 1) + "." + stack[call].getMethodName()
        + ", whose wait has ended";
  }

  /**
   * A class of the loop's package, {@code dev.tasko}, not of a program's package below it: a
   * program never puts classes in the library's own package (its tests aside).
   */
  private static boolean isLoops(String className) {
    return className.startsWith("dev.tasko.") && className.indexOf('.', "dev.tasko.".length()) < 0;
  }

  private static boolean isJdk(String className) {
    return className.startsWith("java.") || className.startsWith("javax.")
        || className.startsWith("jdk.") || className.startsWith("sun.")
        || className.startsWith("com.sun.");
  }
}
