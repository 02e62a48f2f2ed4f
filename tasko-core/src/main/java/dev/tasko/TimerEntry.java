package dev.tasko;

/**
 * Something the loop's {@link Timers} queue can hold: a task's own sleep timer (the task itself, so
 * a plain sleep allocates nothing) or a {@link CancelScope}'s deadline. The queue keeps its key
 * position and sequence number in these fields rather than in a node per timer; the deadline itself
 * it keeps only in its own array (see {@link Timers#deadlineOf}).
 *
 * <p>Guarded by the loop's baton, like the queue.
 */
abstract class TimerEntry {
  /** Position in the heap; -1 when not queued. */
  int heapIndex = -1;
  /** Insertion order, to break ties between equal deadlines first come, first served. */
  long timerSeq;
}
