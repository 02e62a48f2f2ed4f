package dev.tasko.bench;

import java.util.Locale;
import java.util.Optional;

/**
 * One measured figure, printed as a machine line {@code name metric value unit}, where {@code name}
 * is {@code <impl>.<workload>} — the same shape as the Python peers print, so one parser reads
 * both.
 */
record Result(String impl, String workload, String metric, double value, String unit) {

  String name() {
    return impl + "." + workload;
  }

  /** The machine line. */
  String line() {
    return name() + " " + metric + " " + format(value) + " " + unit;
  }

  static String format(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.1f" : "%.4g", v);
  }

  /** Parses a machine line; empty for any other line (tables, headings, logs). */
  static Optional<Result> parse(String line) {
    String[] f = line.strip().split(" ");
    if (f.length != 4 || line.startsWith(" ") || !f[0].contains(".")) {
      return Optional.empty();
    }
    double v;
    try {
      v = Double.parseDouble(f[2]);
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    int dot = f[0].lastIndexOf('.');
    return Optional.of(new Result(f[0].substring(0, dot), f[0].substring(dot + 1), f[1], v, f[3]));
  }
}
