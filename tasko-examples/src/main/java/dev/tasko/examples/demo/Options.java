package dev.tasko.examples.demo;

import dev.tasko.examples.OutputFile;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo's command line.
 *
 * @param duration how long to run, or null for "until Ctrl-C or q"
 * @param plain plain periodic lines even on a terminal
 * @param real Pi4J's detected platform and providers (a real Raspberry Pi) instead of the mock
 * @param help print the usage and exit
 * @param timelines files to write the loop's timeline to when it ends ({@code .json}: Chrome
 *     trace events; {@code .svg}: a picture); empty for none
 */
record Options(Duration duration, boolean plain, boolean real, boolean help,
    List<Path> timelines) {
  static final String USAGE = """
      usage: demo [--duration <time>] [--plain] [--real] [--timeline <file>] [--help]
             demo --example <name> [<argument>...]
        --duration <time>  stop after this long, e.g. 500ms, 5s, 2m, 1h (default: until Ctrl-C or q)
        --plain            print plain status lines every second, even on a terminal
        --real             use Pi4J's detected platform: a real Raspberry Pi's GPIO and SPI
                           (SPI 0, chip selects on GPIO 5 and 6, a button on GPIO 17)
        --timeline <file>  record what ran when, and write it when the demo ends: out.json
                           (Perfetto, chrome://tracing) or out.svg (a picture); may be repeated
        --help             print this and exit
        --example <name>   first on the command line: run another example instead, with the
                           arguments after its name; one of
                           %s""".formatted(String.join(", ", Examples.NAMES));

  /** The options without a timeline. */
  Options(Duration duration, boolean plain, boolean real, boolean help) {
    this(duration, plain, real, help, List.of());
  }

  Options {
    timelines = List.copyOf(timelines);
  }

  /** A number as people type it: 5, 1.5, .5 or 5. (the last two as in most programs). */
  private static final String NUMBER = "\\d+(?:\\.\\d*)?|\\.\\d+";
  /** With a sign, so that "-1s" is refused as not positive rather than as a bad form. */
  private static final Pattern SIMPLE_DURATION =
      Pattern.compile("(-?(?:" + NUMBER + "))\\s*(ms|s|m|h)");

  /**
   * Parses {@code args}.
   *
   * @throws IllegalArgumentException for an unknown option, a missing value or a bad duration, with
   *     the offending text in the message
   */
  static Options parse(String... args) {
    Duration duration = null;
    boolean plain = false;
    boolean real = false;
    boolean help = false;
    List<Path> timelines = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.isBlank()) {
        continue; // an empty -Ddemo.args
      }
      if (arg.equals("--duration")) {
        if (i + 1 == args.length) {
          throw new IllegalArgumentException("--duration needs a value, e.g. --duration 5s");
        }
        duration = parseDuration(args[++i]);
      } else if (arg.startsWith("--duration=")) {
        duration = parseDuration(arg.substring("--duration=".length()));
      } else if (arg.equals("--timeline")) {
        if (i + 1 == args.length) {
          throw new IllegalArgumentException("--timeline needs a file, e.g. --timeline out.svg");
        }
        timelines.add(timelineFile(args[++i]));
      } else if (arg.startsWith("--timeline=")) {
        timelines.add(timelineFile(arg.substring("--timeline=".length())));
      } else if (arg.equals("--plain")) {
        plain = true;
      } else if (arg.equals("--real")) {
        real = true;
      } else if (arg.equals("--help") || arg.equals("-h")) {
        help = true;
      } else if (arg.equals("--example") || arg.startsWith("--example=")) {
        throw new IllegalArgumentException("--example comes first on the command line, its "
            + "arguments after its name: --example ToyApp");
      } else {
        throw new IllegalArgumentException("unknown option: '" + arg + "'");
      }
    }
    return new Options(duration, plain, real, help, timelines);
  }

  /**
   * A file to write the timeline to, checked now rather than when the demo ends: its name ends in
   * .json or .svg, and it can be written (see {@link OutputFile#check}).
   */
  static Path timelineFile(String text) {
    String name = text.toLowerCase(Locale.ROOT);
    if (!name.endsWith(".json") && !name.endsWith(".svg")) {
      throw new IllegalArgumentException("--timeline: '" + text + "' ends in neither .json nor"
          + " .svg");
    }
    try {
      return OutputFile.check(text, /* what= */ ""); // named by the prefix below
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--timeline: " + e.getMessage(), e);
    }
  }

  /**
   * Parses "500ms", "5s", "1.5s", ".5s", "2m", "1h", or ISO-8601 ("PT5S"), from 1 ms up to about
   * 292 years.
   *
   * @throws IllegalArgumentException if {@code text} is none of those, not positive, under 1 ms
   *     (shown as 0 ms) or too long for a long of nanoseconds
   */
  static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    Duration d;
    Matcher m = SIMPLE_DURATION.matcher(t);
    if (m.matches()) {
      double amount = Double.parseDouble(m.group(1));
      long unitNanos = switch (m.group(2)) {
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        default -> 3_600_000_000_000L;
      };
      double nanos = amount * unitNanos;
      if (nanos >= Long.MAX_VALUE) {
        throw new IllegalArgumentException("duration too long: '" + text + "'");
      }
      d = Duration.ofNanos(Math.round(nanos));
    } else {
      try {
        d = Duration.parse(text.trim());
        d.toNanos(); // the demo counts in nanoseconds
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException("duration too long: '" + text + "'");
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("bad duration: '" + text + "' ("
            + (t.matches(NUMBER) ? "a number needs a unit: " : "")
            + "use e.g. 500ms, 5s, 2m, 1h or PT5S)");
      }
    }
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("duration <= 0: '" + text + "'");
    }
    if (d.compareTo(Duration.ofMillis(1)) < 0) {
      throw new IllegalArgumentException("duration < 1 ms: '" + text + "'");
    }
    return d;
  }
}
