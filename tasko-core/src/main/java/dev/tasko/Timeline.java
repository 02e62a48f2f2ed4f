package dev.tasko;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * A recorder of what a loop ran when, keeping the last events in a ring of fixed size: each
 * task's turns on the processor, its waits and what ended them, the loop's idle periods, and the
 * lateness of each run of a schedule. Written out as Chrome trace-event JSON (opened by the
 * Perfetto UI, ui.perfetto.dev, and {@code chrome://tracing}) or as a self-contained SVG picture
 * with one lane per task.
 *
 * <pre>{@code
 * Timeline timeline = Timeline.ofLast(100_000);
 * Loop loop = Loop.builder().timeline(timeline).build();
 * ...
 * loop.run();
 * timeline.write(Path.of("loop.json"));   // or "loop.svg"
 * }</pre>
 *
 * <h2>What it shows</h2>
 * One lane per task name (tasks of the same name, such as the runs of a {@code runLater} made
 * again and again, share a lane), and a lane {@code "(idle)"} for the loop (a task of that name has
 * a lane of its own). On a task's lane a
 * slice {@code "run"} is a turn: from the moment it was handed the processor until it gave it up;
 * the slice that follows, until its next turn, is named after what it waited for ({@code
 * "sleep"}, {@code "yield"}, or what a deadlock report would say: a resource and its holder, a
 * channel, an event...) and says what ended it ({@code "endedBy"}: its timer, a resume, a
 * cancellation, a timeout, its turn in the ready queue, or, for a schedule stopped or started
 * while it waited for its next run, {@code "woken early"}). Each run of a schedule adds an instant
 * {@code "scheduled run"} with its lateness. Times are the loop's clock: on virtual time, turns
 * take no time at all.
 *
 * <h2>Cost</h2>
 * Memory: a fixed ring of {@code capacity} events (about 40 bytes each, plus the strings waits are
 * described with and the name of each task in it), taken at {@link #ofLast}; the oldest events are
 * overwritten. It keeps no task reachable: a task that has ended, and its result, go as soon as
 * nothing else holds them. Time: while a loop
 * records, each switch reads the loop's clock once and takes this recorder's lock (uncontended),
 * and describes the wait of the task giving up the processor. A loop without a timeline pays one
 * field read per switch.
 *
 * <p>Its methods may be called from any thread; writing it out while the loop runs gives the
 * events recorded so far.
 */
public final class Timeline {
  private static final byte TURN_BEGIN = 1;
  private static final byte TURN_END = 2;
  private static final byte IDLE = 3;
  private static final byte RUN = 4;
  /** What a task asleep on its own timer waits for; compared by identity (see turnEnded). */
  private static final String SLEEP = "sleep";
  /** A {@link #TURN_END}'s value when the task is not asleep on a timer. */
  private static final long NO_DEADLINE = Long.MIN_VALUE;
  /**
   * The least an event takes in the ring: a byte, three longs and two references of 4 bytes (on a
   * heap with compressed references; 8 without).
   */
  private static final int MIN_BYTES_PER_EVENT = 1 + 3 * 8 + 2 * 4;
  /** The longest array a JVM is sure to make: some refuse the last few lengths below 2^31. */
  private static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

  private final int capacity;
  // The ring, guarded by this. Event i: kind, time (loop nanos), task (its number here and its
  // name: not the task, which would keep its result reachable), text, value.
  private final byte[] kinds;
  private final long[] times;
  private final long[] taskIds;
  private final String[] taskNames;
  private final String[] texts;
  private final long[] values;
  private long count;
  /** A number for each task recorded, from 1: how events of one task are told apart. */
  private final Map<Task<?>, TaskId> ids = new WeakHashMap<>();
  private long nextId = 1;

  /** A task's number in this timeline, and its name (made once, for a task not given one). */
  private record TaskId(long id, String name) {}

  private Timeline(int capacity) {
    this.capacity = capacity;
    kinds = new byte[capacity];
    times = new long[capacity];
    taskIds = new long[capacity];
    taskNames = new String[capacity];
    texts = new String[capacity];
    values = new long[capacity];
  }

  /**
   * A timeline that keeps the last {@code capacity} events. Its arrays are made at once: 33 bytes
   * an event on a heap with compressed references, 41 without (a million events: 33 or 41 MB),
   * besides the texts the events refer to. The largest capacity is what this JVM's heap could hold
   * at its largest ({@link Runtime#maxMemory()}) at 33 bytes an event, and at most {@code
   * Integer.MAX_VALUE - 8}, the longest array a JVM is sure to make: a larger one throws {@link
   * IllegalArgumentException}. A capacity within that limit that the heap cannot hold beside what
   * it holds already throws {@link OutOfMemoryError} here, not later, while recording.
   *
   * @throws IllegalArgumentException if {@code capacity} is not positive, or more than this JVM
   *     could ever hold
   * @throws OutOfMemoryError if the heap cannot hold the ring now
   */
  public static Timeline ofLast(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity <= 0: " + capacity);
    }
    long heap = Runtime.getRuntime().maxMemory(); // Long.MAX_VALUE when unlimited
    long max = Math.min(MAX_ARRAY_LENGTH, heap / MIN_BYTES_PER_EVENT);
    if (capacity > max) {
      throw new IllegalArgumentException("capacity > " + max + " (" + (max == MAX_ARRAY_LENGTH
          ? "the longest array a JVM is sure to make"
          : "what a heap of at most " + heap + " bytes holds at " + MIN_BYTES_PER_EVENT
              + " bytes an event") + "): " + capacity);
    }
    return new Timeline(capacity);
  }

  /** How many events it has recorded in all, including those the ring no longer holds. */
  public synchronized long recorded() {
    return count;
  }

  // ---- recording, by the loop's baton holder ----

  /** {@code task} gives up the processor at {@code now}: it waits, or it has ended. */
  void turnEnded(Task<?> task, long now) {
    String waitsFor = waitOf(task);
    // A sleep's deadline, to tell a timer's wake-up from an earlier one (a stopped schedule's).
    long due = waitsFor == SLEEP && task.heapIndex >= 0
        ? task.loop.runner.timers.deadlineOf(task) : NO_DEADLINE;
    synchronized (this) {
      add(TURN_END, now, task, waitsFor, due);
    }
  }

  /** {@code task} is handed the processor at {@code now}. */
  void turnBegan(Task<?> task, long now) {
    String endedBy = endOf(task);
    synchronized (this) {
      add(TURN_BEGIN, now, task, endedBy, 0);
    }
  }

  synchronized void idled(long from, long to) {
    if (to > from) {
      add(IDLE, from, null, null, to);
    }
  }

  synchronized void scheduledRun(Task<?> task, long now, long latenessNanos) {
    add(RUN, now, task, null, latenessNanos);
  }

  private void add(byte kind, long time, Task<?> task, String text, long value) {
    TaskId id = null;
    if (task != null) {
      id = ids.get(task);
      if (id == null) {
        id = new TaskId(nextId++, task.name());
        ids.put(task, id);
      }
    }
    int i = (int) (count++ % capacity);
    kinds[i] = kind;
    times[i] = time;
    taskIds[i] = id == null ? 0 : id.id();
    taskNames[i] = id == null ? null : id.name();
    texts[i] = text;
    values[i] = value;
  }

  /** What a task giving up the processor waits for; null once it has ended. */
  private static String waitOf(Task<?> t) {
    return switch (t.state()) {
      case READY -> "yield";
      case WAITING -> t.waitingOn != null ? DeadlockException.describe(t.waitingOn) : SLEEP;
      case NEW, RUNNING -> "turn";
      default -> null;
    };
  }

  /**
   * What ended the wait of a task given the processor, when more than its timer or its turn: an
   * outside cancel, or a scope's (a {@code withTimeout}'s timeout, a task group's cancel), comes
   * before the timeout of the wait itself.
   */
  private static String endOf(Task<?> t) {
    Suspension s = t.waitingOn;
    if (s != null && s.isResumed()) {
      return "resume";
    }
    if (Traps.cancelRequested(t)) {
      return "cancellation";
    }
    CancelScope scope = t.scopes == null ? null : t.loop.runner.cancelledScope(t);
    if (scope != null) {
      return scope.group == null ? "timeout" : "cancellation";
    }
    return s != null ? "timeout" : null;
  }

  // ---- writing out ----

  /**
   * A slice of a lane (a task's name; null for the loop's idle lane, which a task named
   * {@code "(idle)"} does not share): a turn, a wait or an idle period; or an instant (end ==
   * start).
   */
  record Slice(String lane, String name, long start, long end, String endedBy, long lateness) {}

  /** What a lane is called in the output. */
  static String label(String lane) {
    return lane == null ? "(idle)" : lane;
  }

  /**
   * The slices the events make, in the order they end, and the lanes in the order they first
   * appear (the idle lane, null, first). Events whose start fell out of the ring are left out.
   * The lock is held only to copy the ring: the loop records each switch under it, so a writer
   * that worked out the slices under it would hold the loop up for as long as that takes.
   */
  List<Slice> slices(List<String> lanes) {
    byte[] kind;
    long[] time;
    long[] task;
    String[] name;
    String[] text;
    long[] value;
    synchronized (this) {
      long first = Math.max(0, count - capacity);
      int n = (int) (count - first);
      int from = (int) (first % capacity);
      kind = inOrder(kinds, new byte[n], from);
      time = inOrder(times, new long[n], from);
      task = inOrder(taskIds, new long[n], from);
      name = inOrder(taskNames, new String[n], from);
      text = inOrder(texts, new String[n], from);
      value = inOrder(values, new long[n], from);
    }
    Set<String> seen = new HashSet<>();
    lanes.add(null);
    List<Slice> out = new ArrayList<>();
    Map<Long, long[]> turnStart = new HashMap<>();
    Map<Long, Object[]> waitStart = new HashMap<>(); // {Long start, String what, Long due}
    for (int i = 0; i < kind.length; i++) {
      Long t = task[i];
      if (name[i] != null && seen.add(name[i])) {
        lanes.add(name[i]);
      }
      switch (kind[i]) {
        case TURN_BEGIN -> {
          Object[] w = waitStart.remove(t);
          if (w != null) {
            String what = (String) w[1];
            long due = (Long) w[2];
            String endedBy = text[i] != null ? text[i]
                : !what.equals(SLEEP) ? "turn"
                : due != NO_DEADLINE && due > time[i] ? "woken early" : "timer";
            out.add(new Slice(name[i], what, (Long) w[0], time[i], endedBy, 0));
          }
          turnStart.put(t, new long[] {time[i]});
        }
        case TURN_END -> {
          long[] s = turnStart.remove(t);
          if (s != null) {
            out.add(new Slice(name[i], "run", s[0], time[i], null, 0));
          }
          if (text[i] != null) {
            waitStart.put(t, new Object[] {time[i], text[i], value[i]});
          }
        }
        case IDLE -> out.add(new Slice(null, "idle", time[i], value[i], null, 0));
        case RUN -> out.add(new Slice(name[i], "scheduled run", time[i], time[i], null, value[i]));
        default -> throw new AssertionError(kind[i]);
      }
    }
    return out;
  }

  /**
   * Fills {@code into} with the ring array {@code ring}'s events, oldest first, the oldest in slot
   * {@code from}: from there to the ring's end, then from its start. Returns {@code into}.
   */
  private <A> A inOrder(A ring, A into, int from) {
    int n = java.lang.reflect.Array.getLength(into);
    int head = Math.min(n, capacity - from);
    System.arraycopy(ring, from, into, 0, head);
    System.arraycopy(ring, 0, into, head, n - head);
    return into;
  }


  /**
   * Writes the timeline to {@code file}: SVG if its name ends in {@code .svg}, else Chrome
   * trace-event JSON.
   *
   * @throws IOException if the file cannot be written
   * @throws NullPointerException if {@code file} is null
   */
  public void write(Path file) throws IOException {
    Objects.requireNonNull(file, "file == null");
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".svg")) {
        writeSvg(w);
      } else {
        writeTraceJson(w);
      }
    }
  }

  /**
   * Writes the timeline as Chrome trace-event JSON: one thread per lane (named after it), one
   * complete event ({@code "ph":"X"}) per turn, wait and idle period, one instant event
   * ({@code "ph":"i"}) per scheduled run; times in microseconds of the loop's clock.
   *
   * @throws IOException if {@code out} throws
   * @throws NullPointerException if {@code out} is null
   */
  public void writeTraceJson(Writer out) throws IOException {
    Objects.requireNonNull(out, "out == null");
    List<String> lanes = new ArrayList<>();
    List<Slice> slices = slices(lanes);
    Map<String, Integer> tid = lanes(lanes);
    out.write("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    out.write("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
        + "\"args\":{\"name\":\"tasko loop\"}}");
    for (String lane : lanes) {
      out.write(",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" + tid.get(lane)
          + ",\"args\":{\"name\":" + json(label(lane)) + "}}");
    }
    for (Slice s : slices) {
      out.write(",\n{\"name\":" + json(s.name()) + ",\"cat\":\""
          + (s.lane() == null ? "idle" : s.name().equals("run") ? "turn"
              : s.name().equals("scheduled run") ? "schedule" : "wait")
          + "\",\"pid\":1,\"tid\":" + tid.get(s.lane()) + ",\"ts\":" + micros(s.start()));
      if (s.name().equals("scheduled run")) {
        out.write(",\"ph\":\"i\",\"s\":\"t\",\"args\":{\"latenessMicros\":"
            + micros(s.lateness()) + "}}");
      } else {
        out.write(",\"ph\":\"X\",\"dur\":" + micros(s.end() - s.start()));
        out.write(s.endedBy() == null ? "}" : ",\"args\":{\"endedBy\":" + json(s.endedBy())
            + "}}");
      }
    }
    out.write("\n]}\n");
    out.flush();
  }

  /**
   * Writes the timeline as a self-contained SVG picture: one lane per task, turns as dark bars,
   * waits as light bars (hover for what the task waited for and what ended the wait), idle periods
   * on the first lane, scheduled runs as ticks, and a time axis.
   *
   * @throws IOException if {@code out} throws
   * @throws NullPointerException if {@code out} is null
   */
  public void writeSvg(Writer out) throws IOException {
    Objects.requireNonNull(out, "out == null");
    List<String> lanes = new ArrayList<>();
    List<Slice> slices = slices(lanes);
    Map<String, Integer> row = lanes(lanes);
    long t0 = Long.MAX_VALUE;
    long t1 = Long.MIN_VALUE;
    for (Slice s : slices) {
      t0 = Math.min(t0, s.start());
      t1 = Math.max(t1, s.end());
    }
    if (slices.isEmpty()) {
      t0 = 0;
      t1 = 1;
    }
    long span = Math.max(1, t1 - t0);
    int label = 150;
    int plot = 1000;
    int laneHeight = 22;
    int top = 10;
    int height = top + lanes.size() * laneHeight + 40;
    int width = label + plot + 20;
    StringBuilder b = new StringBuilder();
    b.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width)
        .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(width)
        .append(' ').append(height).append("\" font-family=\"sans-serif\" font-size=\"12\">\n")
        .append("<title>tasko timeline: ").append(lanes.size() - 1).append(" task lane(s), ")
        .append(xml(DurationText.approximate(span))).append("</title>\n")
        .append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    for (String lane : lanes) {
      int y = top + (row.get(lane) - 1) * laneHeight;
      b.append("<g class=\"lane\" data-lane=\"").append(xml(label(lane))).append("\">")
          .append("<text x=\"4\" y=\"").append(y + 15).append("\">").append(xml(label(lane)))
          .append("</text><line x1=\"").append(label).append("\" x2=\"").append(label + plot)
          .append("\" y1=\"").append(y + laneHeight - 1).append("\" y2=\"")
          .append(y + laneHeight - 1).append("\" stroke=\"#eee\"/></g>\n");
    }
    for (Slice s : slices) {
      int y = top + (row.get(s.lane()) - 1) * laneHeight;
      double x = label + (s.start() - t0) * (double) plot / span;
      double w = Math.max(0.5, (s.end() - s.start()) * (double) plot / span);
      String tip = s.name() + " " + DurationText.approximate(s.end() - s.start())
          + (s.endedBy() == null ? "" : ", ended by " + s.endedBy());
      if (s.name().equals("scheduled run")) {
        b.append("<line x1=\"").append(fmt(x)).append("\" x2=\"").append(fmt(x))
            .append("\" y1=\"").append(y + 1).append("\" y2=\"").append(y + 5)
            .append("\" stroke=\"").append(s.lateness() > 0 ? "#d32f2f" : "#555")
            .append("\"><title>scheduled run, late by ")
            .append(xml(DurationText.approximate(s.lateness()))).append("</title></line>\n");
        continue;
      }
      String fill = s.lane() == null ? "#cfd8dc" : s.name().equals("run") ? "#1b5e20"
          : s.name().equals("sleep") ? "#e0e0e0" : s.name().equals("yield") ? "#fff9c4"
          : s.name().startsWith("resource") ? "#ffcc80" : "#bbdefb";
      int h = s.name().equals("run") ? laneHeight - 6 : laneHeight - 12;
      int dy = s.name().equals("run") ? 3 : 6;
      b.append("<rect x=\"").append(fmt(x)).append("\" y=\"").append(y + dy)
          .append("\" width=\"").append(fmt(w)).append("\" height=\"").append(h)
          .append("\" fill=\"").append(fill).append("\"><title>").append(xml(tip))
          .append("</title></rect>\n");
    }
    int axis = top + lanes.size() * laneHeight + 5;
    b.append("<line x1=\"").append(label).append("\" x2=\"").append(label + plot)
        .append("\" y1=\"").append(axis).append("\" y2=\"").append(axis)
        .append("\" stroke=\"black\"/>\n");
    long step = niceStep(span / 8);
    // t + step may pass Long.MAX_VALUE on a span of centuries (virtual time): stop before.
    for (long t = 0; ; t += step) {
      double x = label + t * (double) plot / span;
      b.append("<line x1=\"").append(fmt(x)).append("\" x2=\"").append(fmt(x)).append("\" y1=\"")
          .append(axis).append("\" y2=\"").append(axis + 5).append("\" stroke=\"black\"/>")
          .append("<text x=\"").append(fmt(x)).append("\" y=\"").append(axis + 18)
          .append("\" text-anchor=\"middle\">")
          .append(t == 0 ? "0" : "+" + xml(DurationText.axis(t)))
          .append("</text>\n");
      if (t > span - step) {
        break;
      }
    }
    b.append("</svg>\n");
    out.write(b.toString());
    out.flush();
  }

  /** 1, 2 or 5 times a power of ten nanoseconds, at least {@code rough}; at most Long.MAX_VALUE. */
  static long niceStep(long rough) {
    long p = 1;
    while (p <= Math.max(1, rough) / 10) {
      p *= 10;
    }
    return rough <= p ? p : rough <= 2 * p ? 2 * p : rough <= 5 * p ? 5 * p
        : p > Long.MAX_VALUE / 10 ? Long.MAX_VALUE : 10 * p;
  }

  private static Map<String, Integer> lanes(List<String> lanes) {
    Map<String, Integer> ids = new LinkedHashMap<>();
    for (String lane : lanes) {
      ids.put(lane, ids.size() + 1);
    }
    return ids;
  }

  private static String micros(long nanos) {
    return String.format(Locale.ROOT, "%.3f", nanos / 1000.0);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  /** Whether the surrogate at {@code i} of {@code s} is half of a pair. */
  private static boolean pairedAt(String s, int i) {
    char c = s.charAt(i);
    return Character.isHighSurrogate(c)
        ? i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
        : i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
  }

  private static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (c < 0x20) {
            b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else if (Character.isSurrogate(c) && !pairedAt(s, i)) {
            b.append('\ufffd'); // a lone surrogate: no UTF-8 file can hold it
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  /**
   * {@code s} as XML text or attribute value: markup escaped, and each character XML 1.0 does not
   * allow (a lone surrogate in a task's name; a control character, which names may not hold)
   * replaced by U+FFFD.
   */
  static String xml(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        default -> {
          if (Character.isHighSurrogate(c) && i + 1 < s.length()
              && Character.isLowSurrogate(s.charAt(i + 1))) {
            b.append(c).append(s.charAt(++i));
          } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r')
              || Character.isSurrogate(c) || c == 0xFFFE || c == 0xFFFF) {
            b.append('\uFFFD');
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }

  @Override
  public synchronized String toString() {
    return "Timeline[" + Math.min(count, capacity) + " of the last " + capacity + " events, "
        + count + " recorded]";
  }
}
