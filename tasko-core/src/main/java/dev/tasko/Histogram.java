package dev.tasko;

/**
 * A small log-linear histogram of non-negative longs (nanoseconds of lateness), about 6% precise:
 * values under 32 are counted exactly, larger ones in 16 sub-buckets per power of two, up to 2^40
 * (about 18 minutes; larger values count in the top bucket). 4.8 KiB, no allocation when recording.
 *
 * <p>Written by one thread (the loop's running task); may be read from another thread, in which
 * case a snapshot can be slightly inconsistent (a count may lag its bucket). Good enough for
 * diagnostics, which is all it is used for.
 */
final class Histogram {
  private static final int SUB_BITS = 4;
  private static final int SUB = 1 << SUB_BITS; // 16 sub-buckets per power of two
  private static final int LINEAR = 2 * SUB; // values below this are counted exactly
  private static final int MAX_BIT = 40;
  private static final int BUCKETS = LINEAR + (MAX_BIT - SUB_BITS) * SUB;

  /** Longs: at 10 kHz, an int count would wrap after 2.5 days; a long lasts 29 million years. */
  private final long[] counts = new long[BUCKETS];
  private volatile long total;
  private volatile long max;

  /** Creates an empty histogram. */
  public Histogram() {}

  /** Counts one value; negative values count as zero. */
  public void record(long value) {
    long v = Math.max(0, value);
    counts[index(v)]++;
    if (v > max) {
      max = v;
    }
    total = total + 1;
  }

  /** Counts {@code value} {@code times} times at once (no negative {@code times}). */
  public void record(long value, long times) {
    long v = Math.max(0, value);
    counts[index(v)] += times;
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
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(lowerBound(i), max);
      }
    }
    return max;
  }

  static int index(long v) {
    if (v < LINEAR) {
      return (int) v;
    }
    int msb = 63 - Long.numberOfLeadingZeros(v);
    if (msb >= MAX_BIT + 1) {
      return BUCKETS - 1;
    }
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
