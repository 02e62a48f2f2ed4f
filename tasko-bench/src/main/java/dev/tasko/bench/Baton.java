package dev.tasko.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * The JDK reference for a task switch: a ring of plain virtual threads passing one baton, each
 * parked in {@link LockSupport#park()} until the previous one sets its volatile flag and unparks
 * it. This is the mechanism under tasko's loop with nothing else on top.
 */
final class Baton {
  private Baton() {}

  /** Passes the baton {@code switches} times round a ring of {@code threads}; returns the count. */
  static long run(int threads, int switches) throws InterruptedException {
    Runner[] ring = new Runner[threads];
    int each = switches / threads;
    for (int i = 0; i < threads; i++) {
      ring[i] = new Runner(each);
    }
    for (int i = 0; i < threads; i++) {
      ring[i].next = ring[(i + 1) % threads];
    }
    for (Runner r : ring) {
      r.thread = Thread.ofVirtual().unstarted(r);
    }
    for (Runner r : ring) {
      r.thread.start();
    }
    ring[0].pass(); // the first hand-off
    for (Runner r : ring) {
      r.thread.join();
    }
    return (long) each * threads;
  }

  private static final class Runner implements Runnable {
    private final int rounds;
    Runner next;
    Thread thread;
    private volatile boolean turn;

    Runner(int rounds) {
      this.rounds = rounds;
    }

    void pass() {
      turn = true;
      LockSupport.unpark(thread);
    }

    @Override
    public void run() {
      for (int i = 0; i < rounds; i++) {
        while (!turn) {
          LockSupport.park(this);
        }
        turn = false;
        next.pass(); // the last pass of the last round lands on a finished thread: harmless
      }
    }
  }
}
