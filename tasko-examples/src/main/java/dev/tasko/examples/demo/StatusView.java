package dev.tasko.examples.demo;

import com.pi4j.io.spi.Spi;
import dev.tasko.Handle;
import dev.tasko.Loop;
import dev.tasko.ScheduledTask;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntSupplier;

/**
 * The demo's live view, itself a scheduled task of the loop: each schedule's target and achieved
 * rate and its lateness, who holds the SPI bus and who waits for it, the devices, and how much of
 * the time the loop idled. On a terminal it redraws itself in place (ANSI); otherwise it prints a
 * plain block each time. {@link #summary} is the closing report.
 *
 * <p>Achieved rates and the idle share are measured over the last {@link #WINDOW} (or since the
 * start, if shorter): the difference in {@code stats().runs()} and {@code Loop.stats().idleTime()}
 * between now and the oldest redraw in that window.
 */
final class StatusView {
  static final Duration WINDOW = Duration.ofSeconds(5);
  private static final String ESC = "\u001b[";

  private final DemoApp app;
  private final PrintStream out;
  private final boolean ansi;
  private final String title;
  private final String help;
  /** The terminal's width, 0 if unknown: redrawn lines are cut to fit, so that none wraps. */
  private final IntSupplier columns;
  /** The width of the last redraw: when it changes, the screen is cleared and drawn afresh. */
  private int lastColumns = -1;
  /** Past redraws within the window, oldest first. Only the status task touches it. */
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();
  private int linesOnScreen;
  private long redraws;
  /** Set by the keyboard's thread ('d'): the next redraw prints a dump of the loop first. */
  private volatile boolean dumpRequested;

  /**
   * @param ansi redraw in place with ANSI escapes; otherwise print plain blocks
   * @param title what runs where, e.g. "on the Pi4J mock platform"
   * @param help what the keys do, or empty
   * @param columns the terminal's width, or 0 if unknown
   */
  StatusView(DemoApp app, PrintStream out, boolean ansi, String title, String help, int columns) {
    this(app, out, ansi, title, help, () -> columns);
  }

  /**
   * @param columns reads the terminal's width (0 if unknown) at each redraw, so that the view
   *     follows a resize
   */
  StatusView(DemoApp app, PrintStream out, boolean ansi, String title, String help,
      IntSupplier columns) {
    this.app = app;
    this.out = out;
    this.ansi = ansi;
    this.title = title;
    this.help = help;
    this.columns = columns;
  }

  /** Asks for a dump of the loop, printed at the next redraw. Any thread. */
  void requestDump() {
    dumpRequested = true;
  }

  /** One redraw. Runs as a task of the app's loop (it asks the bus who holds it). */
  void render() {
    if (dumpRequested) {
      dumpRequested = false;
      // Taken on the loop, by this task: a snapshot of one moment. Printed below the view, which
      // then starts afresh under it rather than redrawing over it.
      out.println();
      out.println(app.loop().dump());
      out.println();
      linesOnScreen = 0;
    }
    Sample now = sample();
    // The first redraw comes after the other schedules' first runs, later ones before the runs due
    // at the same instant: a window from the first would count one run too few. It is left out.
    if (redraws++ > 0) {
      samples.addLast(now);
    }
    while (samples.size() > 1 && now.nanos - samples.peekFirst().nanos > WINDOW.toNanos()) {
      samples.removeFirst();
    }
    Sample base = samples.isEmpty() ? now : samples.peekFirst();
    List<String> lines = lines(now, base);
    if (ansi) {
      StringBuilder screen = new StringBuilder();
      int width = columns.getAsInt();
      if (linesOnScreen == 0) {
        screen.append(ESC).append("?25l"); // hide the cursor while drawing
      } else if (width != lastColumns) {
        // Resized: the terminal may have rewrapped the old lines, so counting them back up is no
        // longer safe. Start again from a clear screen.
        screen.append(ESC).append('H').append(ESC).append("2J");
      } else {
        screen.append(ESC).append(linesOnScreen).append('F'); // back to the first line drawn
      }
      lastColumns = width;
      for (String line : lines) {
        String fitted = width > 1 && line.length() >= width ? line.substring(0, width - 1) : line;
        screen.append(fitted).append(ESC).append('K').append('\n');
      }
      screen.append(ESC).append('J'); // anything below, from a longer previous view
      out.print(screen);
      linesOnScreen = lines.size();
    } else {
      for (String line : lines) {
        out.println(line);
      }
    }
    out.flush();
  }

  private List<String> lines(Sample now, Sample base) {
    double windowSeconds = (now.nanos - base.nanos) / 1e9;
    List<String> lines = new ArrayList<>();
    String clock = String.format("%.1f s", app.seconds());
    lines.add(ansi
        ? "tasko demo " + title + "   " + clock + (help.isEmpty() ? "" : "   [" + help + "]")
        : "---- " + clock + " ----");
    lines.add(String.format("%-12s %7s %9s %9s %9s %9s %9s %7s",
        "task", "every", "target", "achieved", "late p50", "p99", "max", "runs"));
    List<ScheduledTask> schedules = app.schedules();
    for (int i = 0; i < schedules.size(); i++) {
      ScheduledTask s = schedules.get(i);
      ScheduledTask.Stats st = s.stats();
      double achieved = windowSeconds > 0 ? (now.runs[i] - base.runs[i]) / windowSeconds
          : Double.NaN;
      lines.add(String.format("%-12s %7s %9s %9s %9s %9s %9s %7d",
          s.name(), Format.interval(s.interval()),
          Format.hertz(1e9 / s.interval().toNanos()), Format.hertz(achieved),
          Format.latency(st.latenessP50()), Format.latency(st.latenessP99()),
          Format.latency(st.latenessMax()), st.runs()));
    }
    Sensor sensor = app.sensor();
    lines.add(String.format("beach ball  %c  %-22s sensor: %s", app.ball().glyph(),
        sensor.busy() ? "reading the sensor..." : app.readPending() ? "read in 1 s" : "at rest",
        sensor.reads() == 0 ? "no reading yet"
            : String.format("%.2f C, %s", sensor.lastCelsius(),
                Format.count(sensor.reads(), "read", "reads"))));
    lines.add("spi bus     " + busState());
    SdLogger sd = app.logger();
    lines.add(String.format("sd card     %s (%d bytes), %s queued, %d dropped",
        Format.count(sd.blocks(), "block", "blocks"), sd.bytes(),
        Format.count(sd.queued(), "line", "lines"), sd.dropped()));
    lines.add(String.format("button      %s: %s triggered, %d ignored",
        Format.count(app.presses(), "press", "presses"),
        Format.count(app.pressReads(), "read", "reads"), app.pressesIgnored()));
    lines.add(String.format("3d printer  %.1f %% printed", app.printer().progress()));
    double idle = windowSeconds > 0
        ? (now.idleNanos - base.idleNanos) / (double) (now.nanos - base.nanos) : Double.NaN;
    lines.add(String.format("loop        idle %s of the last %.1f s", Format.percent(idle),
        windowSeconds));
    return lines;
  }

  private String busState() {
    Optional<Handle<Spi>> holder = app.bus().resource().holder();
    List<Handle<Spi>> waiting = app.bus().resource().waiting();
    StringBuilder s =
        new StringBuilder(holder.map(h -> "held by " + app.deviceName(h)).orElse("free"));
    if (!waiting.isEmpty()) {
      s.append("; waiting:");
      for (Handle<Spi> h : waiting) {
        s.append(' ').append(app.deviceName(h));
      }
    }
    s.append("; longest hold ").append(Format.latency(app.bus().resource().longestHold()))
        .append(" (limit ").append(Format.interval(DemoApp.BUS_HOLD_LIMIT)).append(')');
    return s.toString();
  }

  private Sample sample() {
    List<ScheduledTask> schedules = app.schedules();
    long[] runs = new long[schedules.size()];
    for (int i = 0; i < runs.length; i++) {
      runs[i] = schedules.get(i).stats().runs();
    }
    return new Sample(app.loop().nanoTime(), runs, app.loop().stats().idleTime().toNanos());
  }

  /** Puts the cursor back, if the view hid it. Call once the loop has stopped. */
  void close() {
    if (ansi && linesOnScreen > 0) {
      out.print(ESC + "?25h");
      out.flush();
    }
  }

  /**
   * The closing report: every schedule's runs, average rate and lateness, the devices, and the
   * loop's counters. Safe to call from any thread once the loop has stopped.
   */
  void summary(String endedBy) {
    double seconds = app.seconds();
    Loop.Stats loopStats = app.loop().stats();
    out.printf("%ntasko demo: %.1f s %s, ended by %s%n", seconds, title, endedBy);
    out.println(String.format("%-12s %7s %7s %9s %9s %9s %9s %7s", "task", "every", "runs",
        "runs/s", "late p50", "p99", "max", "skipped"));
    for (ScheduledTask s : app.schedules()) {
      ScheduledTask.Stats st = s.stats();
      out.println(String.format("%-12s %7s %7d %9s %9s %9s %9s %7d",
          s.name(), Format.interval(s.interval()),
          st.runs(), seconds > 0 ? String.format("%.2f", st.runs() / seconds) : "-",
          Format.latency(st.latenessP50()), Format.latency(st.latenessP99()),
          Format.latency(st.latenessMax()), st.skippedRuns()));
    }
    Sensor sensor = app.sensor();
    out.printf("sensor      %s%s, %d scheduled skipped, found the bus taken %s "
        + "(waited at most %s)%n", Format.count(sensor.reads(), "read", "reads"),
        sensor.reads() == 0 ? "" : String.format(" (last %.2f C)", sensor.lastCelsius()),
        app.scheduledReadsSkipped(),
        Format.count(sensor.busWaits(), "time", "times"), Format.latency(sensor.maxBusWait()));
    out.printf("beach ball  %d frames, all while a read was in flight%n", app.ball().frames());
    SdLogger sd = app.logger();
    out.printf("sd card     %s (%d bytes), %s queued at the end, %d dropped%n",
        Format.count(sd.blocks(), "block", "blocks"), sd.bytes(),
        Format.count(sd.queued(), "line", "lines"), sd.dropped());
    out.printf("button      %s: %s triggered, %d ignored%n",
        Format.count(app.presses(), "press", "presses"),
        Format.count(app.pressReads(), "read", "reads"), app.pressesIgnored());
    long idleNanos = loopStats.idleTime().toNanos();
    long elapsed = app.loop().nanoTime() - app.startNanos();
    out.printf("loop        %,d passes, %,d task switches, idle %s of the time%n",
        loopStats.passes(), loopStats.switches(),
        Format.percent(elapsed > 0 ? idleNanos / (double) elapsed : Double.NaN));
    out.flush();
  }

  /** What a redraw saw: the loop's time, each schedule's runs, the loop's idle time. */
  private record Sample(long nanos, long[] runs, long idleNanos) {}
}
