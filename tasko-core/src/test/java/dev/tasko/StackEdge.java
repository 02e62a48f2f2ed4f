package dev.tasko;

/**
 * Runs an operation at a chosen depth near the end of a small thread stack, so that a stack
 * overflow strikes inside it: for the programs that {@link ChildJvm} runs with {@code -Xint},
 * where frames have the same size on every run and each depth tried makes the overflow strike at
 * the next call in turn.
 */
final class StackEdge {
  /** {@link #at}: the operation was not reached; the overflow struck on the way to it. */
  static final int NOT_REACHED = 0;
  /** {@link #at}: the operation returned. */
  static final int DONE = 1;
  /** {@link #at}: the operation was reached, and overflowed. */
  static final int OVERFLOWED_INSIDE = 2;

  private static boolean reached;

  private StackEdge() {}

  /** Runs {@code body} on a new thread with a stack of 256 KB, and waits for it to end. */
  static void onSmallStack(Runnable body) throws InterruptedException {
    Thread t = new Thread(null, body, "small-stack", 256 * 1024);
    t.start();
    t.join();
  }

  /** The deepest depth at which {@link #at} still reaches an operation that calls nothing. */
  static int deepestReachable() {
    int low = 0; // reached at this depth
    int high = 1 << 16; // not reached
    while (high - low > 1) {
      int mid = (low + high) >>> 1;
      if (at(mid, () -> {}) != NOT_REACHED) {
        low = mid;
      } else {
        high = mid;
      }
    }
    return low;
  }

  /**
   * Runs {@code op} {@code depth} frames down; returns {@link #NOT_REACHED}, {@link #DONE} or
   * {@link #OVERFLOWED_INSIDE}.
   */
  static int at(int depth, Runnable op) {
    reached = false;
    try {
      recurse(depth, op);
      return DONE;
    } catch (StackOverflowError e) {
      return reached ? OVERFLOWED_INSIDE : NOT_REACHED;
    }
  }

  private static void recurse(int depth, Runnable op) {
    if (depth > 0) {
      recurse(depth - 1, op);
      return;
    }
    reached = true;
    op.run();
  }
}
