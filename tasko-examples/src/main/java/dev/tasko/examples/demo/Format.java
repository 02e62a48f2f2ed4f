package dev.tasko.examples.demo;

import java.time.Duration;

/** How the demo writes times and rates: short, aligned, ASCII only (any terminal shows it). */
final class Format {
  private Format() {}

  /** An interval: "10 ms", "100 ms", "3.7 s", "10 s". */
  static String interval(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + " ms";
    }
    return ms % 1000 == 0 ? ms / 1000 + " s" : String.format("%.1f s", ms / 1000.0);
  }

  /** A rate in hertz with about three significant digits: "100 Hz", "10.0 Hz", "0.20 Hz". */
  static String hertz(double hz) {
    if (Double.isNaN(hz)) {
      return "-";
    }
    if (hz >= 99.5) {
      return String.format("%.0f Hz", hz);
    }
    return hz >= 9.95 ? String.format("%.1f Hz", hz) : String.format("%.2f Hz", hz);
  }

  /** A short duration, for lateness: "0.08 ms", "12.3 ms", "1.25 s". */
  static String latency(Duration d) {
    long nanos = d.toNanos();
    if (nanos < 10_000_000) {
      return String.format("%.2f ms", nanos / 1e6);
    }
    if (nanos < 1_000_000_000) {
      return String.format("%.1f ms", nanos / 1e6);
    }
    return String.format("%.2f s", nanos / 1e9);
  }

  /** A count and its noun: "1 press", "3 presses", "0 lines". */
  static String count(long n, String singular, String plural) {
    return n + " " + (n == 1 ? singular : plural);
  }

  /** A share, in percent: "97.3 %". */
  static String percent(double share) {
    return Double.isNaN(share) ? "-" : String.format("%.1f %%", share * 100);
  }
}
