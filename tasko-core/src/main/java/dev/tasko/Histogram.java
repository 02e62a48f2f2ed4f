package dev.tasko;

/**
 * A small log-linear histogram of non-negative longs (nanoseconds of lateness), about 6% precise
 * over the whole range of a long: values under 32 are counted exactly, larger ones in 16
 * sub-buckets per power of two. 4.8 KiB for the values under 2^41 (about 36 minutes), and 2.8 KiB
 * more, once, when a larger one is recorded; no allocation when recording otherwise.
 *
 * <p>Written by one thread (the loop's running task); may be read from another thread, in which
 * case a snapshot can be slightly inconsistent (a count may lag its bucket). Good enough for
 * diagnostics, which is all it is used for.
 */
final class Histogram {
  private static final int SUB_BITS = 4;
  private static final int SUB = 1 << SUB_BITS; // 16 sub-buckets per power of two
  private static final int LINEAR = 2 * SUB; // values below this are counted exactly
  /** The highest bit of the values counted in {@link #low}: a lateness of up to 36 minutes. */
  private static final int LOW_MAX_BIT = 40;
  private static final int LOW_BUCKETS = LINEAR + (LOW_MAX_BIT - SUB_BITS) * SUB;
  /** Every non-negative long: its highest bit is bit 62. */
  private static final int BUCKETS = LINEAR + (62 - SUB_BITS) * SUB;

  /** Longs: at 10 kHz, an int count would wrap after 2.5 days; a long lasts 29 million years. */
  private final long[] low = new long[LOW_BUCKETS];
  /**
   * The buckets from {@code LOW_BUCKETS} on, made by the first value that needs them: a schedule
   * whose runs are never half an hour late does not pay for them. Read by other threads without
   * a lock, as the counts are: one that sees null sees no such value yet.
   */
  private long[] high;
  private volatile long total;
  private volatile long max;

  /** Creates an empty histogram. */
  public Histogram() {}

  /** Counts one value; negative values count as zero. */
  public void record(long value) {
    long v = Math.max(0, value);
    int i = index(v);
    if (i < LOW_BUCKETS) {
      low[i]++;
    } else {
      high()[i - LOW_BUCKETS]++;
    }
    if (v > max) {
      max = v;
    }
    total = total + 1;
  }

  /** Counts {@code value} {@code times} times at once (no negative {@code times}). */
  public void record(long value, long times) {
    long v = Math.max(0, value);
    int i = index(v);
    if (i < LOW_BUCKETS) {
      low[i] += times;
    } else {
      high()[i - LOW_BUCKETS] += times;
    }
    if (v > max) {
      max = v;
    }
    total = total + times;
  }

  /** Number of values recorded. */
  public long count() {
    return total;
  }

  /** The largest value recorded, exactly; zero when empty. */
  public long max() {
    return max;
  }

  /**
   * The value at quantile {@code q} (0..1): the lower bound of the bucket holding it, so within
   * about 6% below the true value, and never above {@link #max()}. Zero when empty.
   */
  public long quantile(double q) {
    long n = total;
    if (n == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(q * n));
    long seen = 0;
    long[] h = high;
    int buckets = h == null ? LOW_BUCKETS : BUCKETS;
    for (int i = 0; i < buckets; i++) {
      seen += i < LOW_BUCKETS ? low[i] : h[i - LOW_BUCKETS];
      if (seen >= rank) {
        return Math.min(lowerBound(i), max);
      }
    }
    return max;
  }

  private long[] high() {
    long[] h = high;
    if (h == null) {
      h = new long[BUCKETS - LOW_BUCKETS];
      high = h;
    }
    return h;
  }

  static int index(long v) {
    if (v < LINEAR) {
      return (int) v;
    }
    int msb = 63 - Long.numberOfLeadingZeros(v);
    int shift = msb - SUB_BITS; // keep the top bit and SUB_BITS bits below it
    return LINEAR + (shift - 1) * SUB + (int) ((v >>> shift) & (SUB - 1));
  }

  static long lowerBound(int index) {
    if (index < LINEAR) {
      return index;
    }
    int shift = (index - LINEAR) / SUB + 1;
    int sub = (index - LINEAR) % SUB;
    return (long) (SUB + sub) << shift;
  }
}
