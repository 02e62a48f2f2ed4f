package dev.tasko.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * What a switch between virtual threads costs on standard JDK APIs, with no library on top: a
 * ring of plain virtual threads passing one turn, measured in rounds of a fixed length, three
 * ways.
 *
 * <ul>
 *   <li>{@code park}: each thread waits for its turn in {@link LockSupport#park()}; the holder
 *       sets the next one's turn and unparks it (what {@link Baton} does, and tasko's loop under
 *       its own code).
 *   <li>{@code spin-ahead}: on taking its turn, the holder first unparks the thread {@code ahead}
 *       places on, so that it is mounted and spinning by the time its turn comes; a thread at most
 *       {@code ahead} places from the turn spins ({@link Thread#onSpinWait()}) for at most 50 µs
 *       before it parks; a thread further away parks. The hand-off is then a store the next
 *       thread, already running on the other carrier, sees; the holder unparks it only if it has
 *       parked. This keeps a second core busy while the ring turns.
 *   <li>{@code park-held}: {@code park}, beside one more virtual thread that spins while the ring
 *       turns ({@link Thread#onSpinWait()}, and a {@link Thread#yield()} every 50 µs so that
 *       other virtual threads still get a carrier). On two carriers it holds the one the ring is
 *       not on: a thread the holder unparks goes to the holder's carrier's queue, and no idle
 *       carrier is there to take it over, so the ring turns on one carrier as with {@code
 *       -Djdk.virtualThreadScheduler.parallelism=1}. With more than two carriers an idle one
 *       still takes the woken threads over.
 *   <li>{@code yield}: no thread parks; each calls {@link Thread#yield()} until its turn comes,
 *       and the holder only sets the turn. On one carrier the carrier's queue holds the threads
 *       in the ring's order, so each yield unmounts one thread and mounts the next: the other
 *       standard way to pass a carrier from one virtual thread to another.
 * </ul>
 *
 * <p>Per round it prints the time per switch, the process's CPU time per switch (every thread,
 * from {@code /proc}) and its voluntary context switches per switch (a thread that went to sleep
 * and had to be woken); then the medians. The first round is a warm-up and is not printed.
 *
 * <pre>
 * java -cp benchmarks.jar dev.tasko.bench.SwitchFloor park|park-held|spin-ahead|yield \
 *     [threads] [round-ms] [rounds] [ahead]
 * </pre>
 *
 * <p>Defaults: 100 threads, rounds of 300 ms, 5 rounds, {@code ahead} 2. Run each variant in a JVM
 * of its own, with nothing else running. With {@code -Djdk.virtualThreadScheduler.parallelism=1}
 * (one carrier for every virtual thread), {@code park} and {@code yield} show what a switch costs
 * on one core.
 */
public final class SwitchFloor {
  static final List<String> VARIANTS = List.of("park", "park-held", "spin-ahead", "yield");
  private static final String WORKLOAD = "switch-floor";
  /** How long a thread near its turn spins before it parks. */
  private static final long SPIN_LIMIT_NANOS = 50_000;
  /** How long {@code park-held}'s extra thread spins between two yields. */
  private static final long HOLD_YIELD_NANOS = 50_000;

  private SwitchFloor() {}

  /** Runs it; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 5 || !VARIANTS.contains(args[0])) {
      System.err.println("usage: SwitchFloor " + String.join("|", VARIANTS)
          + " [threads] [round-ms] [rounds] [ahead]");
      System.exit(2);
      return;
    }
    Ring ring;
    try {
      int threads = args.length > 1 ? WakeFloor.number("threads", args[1]) : 100;
      int roundMillis = args.length > 2 ? WakeFloor.number("round-ms", args[2]) : 300;
      int rounds = args.length > 3 ? WakeFloor.number("rounds", args[3]) : 5;
      int ahead = args.length > 4 ? WakeFloor.number("ahead", args[4]) : 2;
      ring = new Ring(args[0], threads, ahead);
      List<Result> results = ring.measure(roundMillis, rounds);
      for (Result r : results) {
        System.out.println(r.line());
      }
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    }
  }

  /** The ring: {@code threads} virtual threads passing one turn. Not reusable once stopped. */
  static final class Ring {
    private final String variant;
    private final int ahead;
    private final Waiter[] waiters;
    /** {@code park-held}'s extra thread, which spins while the ring turns; else null. */
    private final Thread holder;
    /** The count of turns taken so far; the holder is {@code turn % threads}. */
    private volatile long turn;
    private volatile boolean stop;

    Ring(String variant, int threads, int ahead) {
      if (!VARIANTS.contains(variant)) {
        throw new IllegalArgumentException("unknown variant: " + variant);
      }
      if (threads < 2) {
        throw new IllegalArgumentException("threads < 2: " + threads);
      }
      if (ahead < 1 || ahead >= threads) {
        throw new IllegalArgumentException("ahead not in [1, threads - 1]: " + ahead);
      }
      this.variant = variant;
      this.ahead = ahead;
      waiters = new Waiter[threads];
      for (int i = 0; i < threads; i++) {
        waiters[i] = new Waiter(i);
      }
      for (Waiter w : waiters) {
        w.thread = Thread.ofVirtual().unstarted(w);
      }
      holder = variant.equals("park-held") ? Thread.ofVirtual().unstarted(this::hold) : null;
    }

    /** {@code park-held}'s extra thread: spins until the ring stops, yielding now and then. */
    private void hold() {
      long yieldAt = System.nanoTime() + HOLD_YIELD_NANOS;
      while (!stop) {
        Thread.onSpinWait();
        if (System.nanoTime() - yieldAt > 0) {
          Thread.yield();
          yieldAt = System.nanoTime() + HOLD_YIELD_NANOS;
        }
      }
    }

    /**
     * Starts the ring, lets it turn for a warm-up round and {@code rounds} measured rounds of
     * {@code roundMillis} each, stops it and returns the figures.
     */
    List<Result> measure(int roundMillis, int rounds) throws InterruptedException {
      if (roundMillis <= 0) {
        throw new IllegalArgumentException("round-ms <= 0: " + roundMillis);
      }
      if (rounds <= 0) {
        throw new IllegalArgumentException("rounds <= 0: " + rounds);
      }
      Measure.contextSwitches(); // loads and runs the reading code once, before any round
      Measure.processCpuPreciseNanos();
      double[] nanos = new double[rounds];
      double[] cpu = new double[rounds];
      double[] voluntary = new double[rounds];
      boolean switchesRead = true;
      start();
      try {
        Thread.sleep(roundMillis); // warm-up, not measured
        for (int r = 0; r < rounds; r++) {
          long[] ctx0 = Measure.contextSwitches();
          long cpu0 = Measure.processCpuPreciseNanos();
          long turn0 = turn;
          long t0 = System.nanoTime();
          Thread.sleep(roundMillis);
          long t1 = System.nanoTime();
          long turn1 = turn;
          long cpu1 = Measure.processCpuPreciseNanos();
          long[] ctx1 = Measure.contextSwitches();
          double switches = Math.max(1, turn1 - turn0);
          nanos[r] = (t1 - t0) / switches;
          cpu[r] = (cpu1 - cpu0) / switches;
          voluntary[r] = (ctx1[0] - ctx0[0]) / switches;
          switchesRead &= ctx0[0] >= 0;
        }
      } finally {
        stopAndJoin();
      }
      List<Result> out = new ArrayList<>();
      out.add(new Result(variant, WORKLOAD, "threads", waiters.length, "count"));
      for (int r = 0; r < rounds; r++) {
        out.add(new Result(variant, WORKLOAD, "round" + (r + 1) + "_switch", nanos[r], "ns"));
        out.add(new Result(variant, WORKLOAD, "round" + (r + 1) + "_cpu_per_switch", cpu[r],
            "ns"));
        if (switchesRead) {
          out.add(new Result(variant, WORKLOAD, "round" + (r + 1) + "_voluntary_per_switch",
              voluntary[r], "count"));
        }
      }
      out.add(new Result(variant, WORKLOAD, "switch", median(nanos), "ns"));
      out.add(new Result(variant, WORKLOAD, "cpu_per_switch", median(cpu), "ns"));
      if (switchesRead) {
        out.add(new Result(variant, WORKLOAD, "voluntary_per_switch", median(voluntary),
            "count"));
      }
      return out;
    }

    /** Stops the ring and waits for every thread; returns each thread's count of turns. */
    long[] stopAndJoin() throws InterruptedException {
      stop = true;
      for (Waiter w : waiters) {
        LockSupport.unpark(w.thread);
      }
      if (holder != null) {
        holder.join();
      }
      long[] turns = new long[waiters.length];
      for (int i = 0; i < waiters.length; i++) {
        waiters[i].thread.join(); // orders the thread's count before the read below
        turns[i] = waiters[i].turns;
      }
      return turns;
    }

    /** Starts the ring turning, until {@link #stopAndJoin}. */
    void start() {
      if (holder != null) {
        holder.start(); // first, so that it holds a carrier before the ring turns
      }
      for (Waiter w : waiters) {
        w.thread.start();
      }
    }

    /** Turns taken so far by the whole ring. */
    long turns() {
      return turn;
    }

    private static double median(double[] values) {
      double[] v = values.clone();
      Arrays.sort(v);
      int n = v.length;
      return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** One thread of the ring. */
    private final class Waiter implements Runnable {
      private final int index;
      Thread thread;
      /** Written before this thread parks and read by the holder after it sets the turn. */
      private volatile boolean parked;
      /** Turns this thread took: written only by it. */
      long turns;

      Waiter(int index) {
        this.index = index;
      }

      @Override
      public void run() {
        int n = waiters.length;
        boolean spin = variant.equals("spin-ahead");
        boolean yield = variant.equals("yield");
        while (yield ? yieldForTurn(n) : awaitTurn(n, spin)) {
          turns++;
          if (spin) {
            LockSupport.unpark(waiters[(index + ahead) % n].thread); // mounted before its turn
          }
          Waiter next = waiters[(index + 1) % n];
          turn = turn + 1; // only the holder writes it
          // Read after the write of the turn, as the waiter writes parked before it reads the
          // turn: one of the two sees the other's write, so no waiter parks with no unpark coming.
          if (!yield && (!spin || next.parked)) {
            LockSupport.unpark(next.thread);
          }
        }
      }

      /** Yields until this thread holds the turn; false once the ring is stopped. */
      private boolean yieldForTurn(int n) {
        while (!stop) {
          if (turn % n == index) {
            return true;
          }
          Thread.yield();
        }
        return false;
      }

      /** Waits until this thread holds the turn; false once the ring is stopped. */
      private boolean awaitTurn(int n, boolean spin) {
        long spinUntil = 0;
        boolean spinning = false;
        while (true) {
          if (stop) {
            return false;
          }
          long t = turn;
          if (t % n == index) {
            return true;
          }
          if (spin && Math.floorMod(index - t, n) <= ahead) {
            long now = System.nanoTime();
            if (!spinning) {
              spinning = true;
              spinUntil = now + SPIN_LIMIT_NANOS;
            }
            if (now - spinUntil < 0) {
              Thread.onSpinWait();
              continue;
            }
          }
          spinning = false;
          parked = true;
          t = turn;
          if (t % n != index && !stop) {
            LockSupport.park(this);
          }
          parked = false;
        }
      }
    }
  }
}
