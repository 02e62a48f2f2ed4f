package dev.tasko;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
 * <p><b>The queue.</b> Entries wait in arrays of {@value #SEGMENT_SLOTS} slots, chained in the
 * order they were made, rather than one node each. A garbage collector copies a chain of a million
 * nodes one after another, since each is found only through the one before it; a chain of arrays
 * gives each of its threads a thousand entries to copy at every step. (Event loops that take work
 * from other threads, such as Netty's, queue it in chained arrays for the same reasons.) Each array
 * stays far below the size at which a region-based collector (G1) allocates an object as
 * "humongous", which can start a marking cycle at once.
 *
 * <p>A sender claims the first empty slot with a compare-and-set, so slots fill strictly in order
 * and the entries form an unbroken run: the loop stops at the first empty slot, and nothing is ever
 * waiting behind it. A slot never becomes empty again: a taken entry leaves a marker, a withdrawn
 * one another. Each array keeps two counts that only serve as starting points: how far senders have
 * filled it and how far the loop has taken from it. Any value either count ever held is a slot
 * before which every slot is filled (or taken), so a stale read of one costs a longer search,
 * never a wrong answer. A call that throws (a stack overflow on a nearly exhausted stack) throws
 * before the one atomic step that adds, takes or withdraws an entry, never after it: an entry is
 * never half added or taken and lost.
 *
 * <p>Lock-free; any thread may send.
 */
final class Inbox {
  /** Slots per array: 4 KB or so with compressed references, 8 KB without. */
  static final int SEGMENT_SLOTS = 1024;
  /** Left in a slot whose entry the loop has taken. */
  private static final Object TAKEN = new Object();
  /** Left in a slot whose command was taken back before the loop ran it. */
  private static final Object WITHDRAWN = new Object();
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
  private static final VarHandle NEXT;

  static {
    try {
      NEXT = MethodHandles.lookup().findVarHandle(Segment.class, "next", Segment.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** One array of slots in the chain. */
  private static final class Segment {
    /**
     * Each null (empty), an entry ({@link Runnable} command or {@link Task} to take in),
     * {@link #TAKEN} or {@link #WITHDRAWN}. Read and written only through {@link #SLOT}, except
     * slot 0 of a new array, written before the array is published.
     */
    final Object[] slots = new Object[SEGMENT_SLOTS];
    /** Where senders start looking for an empty slot: every slot before it is filled. Racy. */
    int filled;
    /**
     * Where the loop takes the next entry: every slot before it is taken or withdrawn. Written
     * only by the loop; read by any thread (see the class comment).
     */
    int taken;
    /** The array after this one, set once by the sender that finds this one full. */
    volatile Segment next;
  }

  /** The array the loop takes from. Written by the loop only. */
  private volatile Segment head = new Segment();
  /**
   * The array senders start from: the last one, or one before it (a sender that appended an array
   * may store it here after another sender has appended the next).
   */
  private volatile Segment tail = head;
  /** The driving thread while it sleeps and must be woken for an entry; else null. */
  private volatile Thread sleeper;

  /** Queues {@code command} for the next pass and wakes a sleeping driver. Any thread. */
  void send(Runnable command) {
    add(command);
    wake();
  }

  /** Queues the new task {@code t} for the next pass and wakes a sleeping driver. Any thread. */
  void sendTask(Task<?> t) {
    add(t);
    wake();
  }

  /** Puts {@code entry} in the first empty slot. If it throws, nothing was added. */
  private void add(Object entry) {
    Segment s = tail;
    for (;;) {
      Object[] slots = s.slots;
      for (int i = s.filled; i < SEGMENT_SLOTS; i++) {
        // A plain read first: a slot never empties again, so one seen filled is skipped for good,
        // and one seen empty may have been filled since, which the compare-and-set finds out.
        if (slots[i] == null && SLOT.compareAndSet(slots, i, null, entry)) {
          s.filled = i + 1; // a plain store: no call between the add and the return
          return;
        }
      }
      Segment next = s.next;
      if (next == null) {
        Segment fresh = new Segment();
        fresh.slots[0] = entry;
        fresh.filled = 1;
        if (NEXT.compareAndSet(s, null, fresh)) { // publishes the entry with the array
          tail = fresh;
          return;
        }
        next = s.next;
      }
      s = next;
    }
  }

  /** Wakes the driver if it sleeps (for an entry, or for stop()). Any thread. */
  void wake() {
    Thread t = sleeper;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  /**
   * Takes {@code command} back if it has not been taken yet, so that the loop will not run it.
   * Any thread.
   */
  boolean withdraw(Runnable command) {
    for (Segment s = head; s != null; s = s.next) {
      for (int i = s.taken; i < SEGMENT_SLOTS; i++) {
        Object entry = SLOT.getVolatile(s.slots, i);
        if (entry == null) {
          return false; // the end of the queue
        }
        if (entry == command && SLOT.compareAndSet(s.slots, i, command, WITHDRAWN)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * The next entry, a {@link Runnable} command or a {@link Task} to take in, or null. On the loop.
   */
  Object poll() {
    Segment s = head;
    int i = s.taken;
    for (;;) {
      if (i == SEGMENT_SLOTS) {
        Segment next = s.next;
        if (next == null) {
          return null;
        }
        head = next; // the one taken from is garbage now
        s = next;
        i = 0;
        continue;
      }
      if (SLOT.getAcquire(s.slots, i) == null) {
        return null;
      }
      Object entry = SLOT.getAndSet(s.slots, i, TAKEN); // atomic: withdraw() may race for it
      s.taken = ++i;
      if (entry != WITHDRAWN) {
        return entry;
      }
    }
  }

  /**
   * Whether no entry waits. Any thread; an answer read on another thread may be stale by the time
   * it returns, as any answer is.
   */
  boolean isEmpty() {
    Segment s = head;
    int i = s.taken;
    for (;;) {
      for (; i < SEGMENT_SLOTS; i++) {
        Object entry = SLOT.getVolatile(s.slots, i);
        if (entry == null) {
          return true;
        }
        if (entry != TAKEN && entry != WITHDRAWN) {
          return false;
        }
      }
      s = s.next;
      if (s == null) {
        return true;
      }
      i = 0;
    }
  }

  /** Publishes (or, with null, withdraws) the driver as the thread to wake. */
  void sleeper(Thread driver) {
    sleeper = driver;
  }
}
