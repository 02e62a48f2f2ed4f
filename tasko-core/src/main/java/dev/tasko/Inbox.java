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
 * from other threads, such as Netty's, also queue it in chained arrays.) Each array
 * stays far below the size at which a region-based collector (G1) allocates an object as
 * "humongous", which can start a marking cycle at once.
 *
 * <p>A sender claims the first empty slot with a compare-and-set, so slots fill strictly in order
 * and the entries form an unbroken run: the loop stops at the first empty slot, and nothing is ever
 * waiting behind it. A slot never becomes empty again: a taken entry leaves a marker, a withdrawn
 * one another, each set by a compare-and-set, so a take and a withdrawal cannot both have the same
 * entry. Each array keeps two counts that only serve as starting points: how far senders have
 * filled it and how far the loop has taken from it. Any value either count ever held is a slot
 * before which every slot is filled (or taken), so a stale read of one costs a longer search,
 * never a wrong answer. Adding, taking and withdrawing each change the queue in one
 * compare-and-set, which returns a boolean: nothing is called after it, so a call that throws (a
 * stack overflow on a nearly exhausted stack) throws before it, and an entry is never half added,
 * or taken and lost. (A swap that returns the old entry would not do: the JDK checks the type of
 * the reference it returns in a call made after the swap.)
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
  private static final VarHandle TAIL;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      NEXT = lookup.findVarHandle(Segment.class, "next", Segment.class);
      TAIL = lookup.findVarHandle(Inbox.class, "tail", Segment.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** One array of slots in the chain. */
  private static final class Segment {
    /**
     * Each null (empty), an entry ({@link Runnable} command or {@link Task} to take in),
     * {@link #TAKEN} or {@link #WITHDRAWN}. Changed only through {@link #SLOT}, except slot 0 of a
     * new array, written before the array is published; read plainly by {@link #poll} and
     * {@link #isEmpty} (see {@link #added}).
     */
    final Object[] slots;
    /** Where senders start looking for an empty slot: every slot before it is filled. Racy. */
    int filled;
    /**
     * Where the loop takes the next entry: every slot before it is taken or withdrawn. Written
     * only by the loop; read by any thread (see the class comment).
     */
    int taken;
    /** The array after this one, set once by the sender that finds this one full. */
    volatile Segment next;

    Segment(int slots) {
      this.slots = new Object[slots];
    }
  }

  /** The array the loop takes from. Written by the loop only. */
  private volatile Segment head;
  /**
   * The array senders start from: the last one, or one before it. It only moves forward, by a
   * compare-and-set of a sender that found it full (not by the sender that appends the next one,
   * which has added its entry by then and must call nothing more).
   */
  private volatile Segment tail;
  /** The driving thread while it sleeps and must be woken for an entry; else null. */
  private volatile Thread sleeper;
  /**
   * Written after every add, and read before {@link #isEmpty} and {@link #poll} look at any slot:
   * every add whose write comes before that read is then seen by plain reads of the slots, and
   * the loop's idle path, which asks several times per wake-up, runs no VarHandle call on an
   * empty inbox (in code the JIT has not compiled yet, such a call costs several times a field
   * read). False only until the first add.
   */
  private volatile boolean added;

  Inbox() {
    this(SEGMENT_SLOTS);
  }

  /** An inbox whose arrays have {@code segmentSlots} slots: small ones, for tests. */
  Inbox(int segmentSlots) {
    head = new Segment(segmentSlots);
    tail = head;
  }

  /** Queues {@code command} for the next pass and wakes a sleeping driver. Any thread. */
  void send(Runnable command) {
    add(command);
    wake();
  }

  /**
   * Queues {@code command} for the next pass without waking the driver: the caller wakes it. If it
   * throws, nothing was queued. Any thread.
   */
  void queue(Runnable command) {
    add(command);
  }

  /**
   * Queues the new task {@code t} for the next pass without waking the driver: the caller wakes it.
   * If it throws, nothing was queued. Any thread.
   */
  void queueTask(Task<?> t) {
    add(t);
  }

  /** Puts {@code entry} in the first empty slot. If it throws, nothing was added. */
  private void add(Object entry) {
    Segment s = tail;
    for (;;) {
      Object[] slots = s.slots;
      for (int i = s.filled; i < slots.length; i++) {
        // A read first: a slot never empties again, so one seen filled is skipped for good, and
        // one seen empty may have been filled since, which the compare-and-set finds out. An
        // acquire read, so that a send that follows one seen filled is ordered after that one.
        if (SLOT.getAcquire(slots, i) == null && SLOT.compareAndSet(slots, i, null, entry)) {
          s.filled = i + 1; // stores only: no call between the add and the return
          added = true;
          return;
        }
      }
      Segment next = s.next;
      if (next == null) {
        Segment fresh = new Segment(slots.length); // every array as long as the first
        fresh.slots[0] = entry;
        fresh.filled = 1;
        if (NEXT.compareAndSet(s, null, fresh)) { // publishes the entry with the array
          added = true;
          return;
        }
        next = s.next;
      }
      TAIL.compareAndSet(this, s, next); // only forward: from the array found full
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
      for (int i = s.taken; i < s.slots.length; i++) {
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
    if (!added) { // as in isEmpty(): read before the slots, so that no add stays unseen for long
      return null;
    }
    Segment s = head;
    int i = s.taken;
    for (;;) {
      if (i == s.slots.length) {
        Segment next = s.next;
        if (next == null) {
          return null;
        }
        head = next; // the one taken from is garbage now
        s = next;
        i = 0;
        continue;
      }
      // A plain read: an entry it misses is taken at the next pass (a sender wakes the loop after
      // it adds, and isEmpty() reads in order); one it sees is taken by the compare-and-set, which
      // also makes what the sender wrote before adding it visible here.
      Object entry = s.slots[i];
      if (entry == null) {
        return null;
      }
      if (entry != WITHDRAWN && !SLOT.compareAndSet(s.slots, i, entry, TAKEN)) {
        continue; // withdrawn meanwhile: read it again
      }
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
    if (!added) { // read first: the plain reads below see every add whose write of it came before
      return true; // nothing was ever added
    }
    Segment s = head;
    int i = s.taken;
    for (;;) {
      for (; i < s.slots.length; i++) {
        Object entry = s.slots[i];
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
