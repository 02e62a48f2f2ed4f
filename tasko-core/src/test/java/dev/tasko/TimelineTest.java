package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.StringReader;
import java.io.StringWriter;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** Timeline: what ran when, as trace-event JSON and SVG, on virtual time. */
class TimelineTest {

  /** Two tasks, a sleep each and a yield: every slice is known. */
  private static Timeline knownProgram() {
    Timeline timeline = Timeline.ofLast(1000);
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline).build();
    loop.addTask("a", () -> {
      Tasko.sleep(Duration.ofMillis(10));
      Tasko.yieldNow();
    });
    loop.addTask("b", () -> Tasko.sleep(Duration.ofMillis(20)));
    loop.run();
    return timeline;
  }

  @Test
  void writeTraceJson_knownProgram_hasExactlyTheExpectedSlices() throws Exception {
    StringWriter json = new StringWriter();
    knownProgram().writeTraceJson(json);

    JsonArray events = JsonParser.parseReader(new StringReader(json.toString())).getAsJsonObject()
        .getAsJsonArray("traceEvents");
    Map<Integer, String> lanes = new HashMap<>();
    List<String> slices = new ArrayList<>();
    for (JsonElement e : events) {
      JsonObject o = e.getAsJsonObject();
      int tid = o.get("tid").getAsInt();
      if (o.get("name").getAsString().equals("thread_name")) {
        lanes.put(tid, o.getAsJsonObject("args").get("name").getAsString());
      } else if (o.get("ph").getAsString().equals("X")) {
        JsonObject args = o.getAsJsonObject("args");
        slices.add(lanes.get(tid) + " " + o.get("name").getAsString() + " "
            + (long) o.get("ts").getAsDouble() / 1000 + "-"
            + (long) (o.get("ts").getAsDouble() + o.get("dur").getAsDouble()) / 1000 + " ms"
            + (args == null ? "" : " ended by " + args.get("endedBy").getAsString()));
      }
    }

    assertThat(lanes).containsValues("(idle)", "a", "b").hasSize(3);
    assertThat(slices).containsExactly(
        "a run 0-0 ms",
        "b run 0-0 ms",
        "(idle) idle 0-10 ms",
        "a sleep 0-10 ms ended by timer",
        "a run 10-10 ms",
        "a yield 10-10 ms ended by turn",
        "a run 10-10 ms",
        "(idle) idle 10-20 ms",
        "b sleep 0-20 ms ended by timer",
        "b run 20-20 ms");
  }

  @Test
  void writeTraceJson_waitsAndScheduledRuns_sayWhatEndedThemAndTheLateness() throws Exception {
    Timeline timeline = Timeline.ofLast(1000);
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline).build();
    Event go = Event.create("go");
    Task<?> waiter = loop.addTask("waiter", () -> {
      go.await();
    });
    Task<?> sleeper = loop.addTask("sleeper", () -> Tasko.sleep(Duration.ofSeconds(5)));
    loop.runLater("setter", Duration.ofMillis(5), go::set);
    loop.runLater("canceller", Duration.ofMillis(7), sleeper::cancel);
    ScheduledTask tick = loop.schedule("tick", Duration.ofMillis(2), () -> {});
    loop.runLater("stop", Duration.ofMillis(5), tick::cancel);
    loop.run();
    assertThat(waiter.isDone()).isTrue();

    StringWriter json = new StringWriter();
    timeline.writeTraceJson(json);
    String text = json.toString();

    assertThat(text).contains("{\"name\":\"event 'go'\",\"cat\":\"wait\",\"pid\":1,\"tid\":2,"
        + "\"ts\":0.000,\"ph\":\"X\",\"dur\":5000.000,\"args\":{\"endedBy\":\"resume\"}}");
    assertThat(text).contains("{\"name\":\"sleep\",\"cat\":\"wait\",\"pid\":1,\"tid\":3,"
        + "\"ts\":0.000,\"ph\":\"X\",\"dur\":7000.000,\"args\":{\"endedBy\":\"cancellation\"}}");
    assertThat(text).contains("{\"name\":\"scheduled run\",\"cat\":\"schedule\","
        + "\"pid\":1,\"tid\":4,\"ts\":2000.000,\"ph\":\"i\",\"s\":\"t\","
        + "\"args\":{\"latenessMicros\":0.000}}");
  }

  /** The waits on {@code lane}: "what start-end ms ended by cause". */
  private static List<String> waitsOn(Timeline timeline, String lane) {
    List<String> waits = new ArrayList<>();
    for (Timeline.Slice s : timeline.slices(new ArrayList<>())) {
      if (lane.equals(s.lane()) && s.endedBy() != null) {
        waits.add(s.name() + " " + s.start() / 1_000_000 + "-" + s.end() / 1_000_000
            + " ms ended by " + s.endedBy());
      }
    }
    return waits;
  }

  @Test
  void slices_sleepCutShortByAScope_endedByItsTimeoutOrCancellation() {
    // From a hostile test: a withTimeout's timeout, or a task group's cancel, that ended a sleep
    // read as "ended by timer".
    Timeline timeline = Timeline.ofLast(1000);
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline)
        .failureHandler(FailureHandler.logAndContinue()).build();
    loop.addTask("timed", () -> {
      try {
        Tasko.withTimeout(Duration.ofMillis(10), () -> Tasko.sleep(Duration.ofMillis(50)));
      } catch (TimeoutException expected) {
        // the timeout ended the sleep
      }
    });
    loop.addTask("grouped", () -> {
      try (TaskGroup g = TaskGroup.open("pair")) {
        g.add("failing", () -> {
          Tasko.sleep(Duration.ofMillis(20));
          throw new IllegalStateException("sensor gone");
        });
        Tasko.sleep(Duration.ofMillis(50));
      } catch (IllegalStateException expected) {
        // the group's failure, thrown by close()
      }
    });
    loop.run();

    assertThat(waitsOn(timeline, "timed")).containsExactly("sleep 0-10 ms ended by timeout");
    assertThat(waitsOn(timeline, "grouped")).first()
        .isEqualTo("sleep 0-20 ms ended by cancellation");
  }

  @Test
  void slices_scheduleWokenByStopOrStart_endedEarlyNotByItsTimer() {
    // From a hostile test: a schedule's wait for its next run, ended by stop() or start(), read
    // as "ended by timer".
    Timeline timeline = Timeline.ofLast(1000);
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline).build();
    ScheduledTask tick = loop.schedule("tick", Duration.ofMillis(100), () -> {});
    loop.runLater("stopper", Duration.ofMillis(20), tick::stop);
    loop.runLater("starter", Duration.ofMillis(50), tick::start);
    loop.runLater("canceller", Duration.ofMillis(120), tick::cancel);
    loop.run();

    assertThat(waitsOn(timeline, "tick")).containsExactly("sleep 0-20 ms ended by woken early",
        "sleep 50-120 ms ended by cancellation");
  }

  @Test
  void writeTraceJson_sleepInAFailureHandlerOfACancelledTask_endedByItsTimer() throws Exception {
    Timeline timeline = Timeline.ofLast(1000);
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline)
        .failureHandler((task, failure) -> Tasko.sleep(Duration.ofMillis(5))).build();
    Task<?> failing = loop.addTask("failing", () -> {
      try {
        Tasko.sleep(Duration.ofHours(1));
      } finally {
        throw new IllegalStateException("cleanup failed");
      }
    });
    loop.runLater("canceller", Duration.ofMillis(7), failing::cancel);
    loop.run();

    StringWriter json = new StringWriter();
    timeline.writeTraceJson(json);

    // The handler's sleep, its task's cancellation held back, ended as a sleep does.
    assertThat(json.toString()).contains("\"ts\":7000.000,\"ph\":\"X\",\"dur\":5000.000,"
        + "\"args\":{\"endedBy\":\"timer\"}}");
  }

  @Test
  void writeSvg_knownProgram_isWellFormedWithOneLanePerTask(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("timeline.svg");
    knownProgram().write(file);

    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    Document svg = f.newDocumentBuilder().parse(new InputSource(Files.newBufferedReader(file)));
    assertThat(svg.getDocumentElement().getLocalName()).isEqualTo("svg");
    NodeList groups = svg.getElementsByTagName("g");
    List<String> lanes = new ArrayList<>();
    for (int i = 0; i < groups.getLength(); i++) {
      lanes.add(((Element) groups.item(i)).getAttribute("data-lane"));
    }
    assertThat(lanes).containsExactly("(idle)", "a", "b");
    assertThat(svg.getElementsByTagName("rect").getLength()).isEqualTo(1 + 10); // backdrop
  }

  @Test
  void ring_fullRing_keepsTheLastEventsOnly() throws Exception {
    Timeline timeline = Timeline.ofLast(8);
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline).build();
    loop.addTask("spinner", () -> {
      for (int i = 0; i < 100; i++) {
        Tasko.yieldNow();
      }
    });
    loop.run();
    assertThat(timeline.recorded()).isGreaterThan(8);
    List<String> lanes = new ArrayList<>();
    assertThat(timeline.slices(lanes)).hasSizeLessThanOrEqualTo(8);
    assertThat(timeline).hasToString("Timeline[8 of the last 8 events, "
        + timeline.recorded() + " recorded]");
  }

  @Test
  void slices_ringWrappedAtAnyPoint_theLastSlicesInOrder() {
    List<Timeline.Slice> all = slicesOf(Timeline.ofLast(10_000));
    for (int capacity = 3; capacity <= 20; capacity++) {
      List<Timeline.Slice> last = slicesOf(Timeline.ofLast(capacity));

      assertThat(last).as("capacity %d", capacity).isNotEmpty();
      assertThat(all).as("capacity %d", capacity).containsSubsequence(last)
          .endsWith(last.get(last.size() - 1));
    }
  }

  /** The slices of one run, on virtual time, of two tasks that sleep and yield in turn. */
  private static List<Timeline.Slice> slicesOf(Timeline timeline) {
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline).build();
    for (String name : List.of("a", "b")) {
      loop.addTask(name, () -> {
        for (int i = 0; i < 10; i++) {
          Tasko.sleep(Duration.ofMillis(name.equals("a") ? 3 : 5));
          Tasko.yieldNow();
        }
      });
    }
    loop.run();
    return timeline.slices(new ArrayList<>());
  }

  @Test
  void write_jsonWithALoneSurrogateInATaskName_writtenWithAReplacement(@TempDir Path dir)
      throws Exception {
    Timeline timeline = Timeline.ofLast(1000);
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline).build();
    loop.addTask("sensor\ud800", () -> Tasko.sleep(Duration.ofMillis(5)));
    loop.addTask("paired \ud83d\ude00", () -> Tasko.sleep(Duration.ofMillis(5)));
    loop.run();

    // Before: MalformedInputException, the file half written.
    timeline.write(dir.resolve("t.json"));

    String json = Files.readString(dir.resolve("t.json"));
    assertThat(json).contains("sensor\ufffd").contains("paired \ud83d\ude00");
  }

  @Test
  void record_tasksThatEnded_notKeptReachableNorTheirResults() {
    // From a hostile test: the ring held each task, and so each result, 100 MB in that test.
    Timeline timeline = Timeline.ofLast(1000);
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline).build();
    List<WeakReference<byte[]>> results = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      loop.addTask("big", () -> {
        byte[] result = new byte[1_000_000];
        results.add(new WeakReference<>(result));
        return result;
      });
    }
    loop.run();

    for (int i = 0; i < 5 && results.stream().anyMatch(r -> r.get() != null); i++) {
      System.gc();
    }
    assertThat(results).hasSize(3).allSatisfy(r -> assertThat(r.get()).isNull());
    assertThat(timeline.slices(new ArrayList<>())).extracting(Timeline.Slice::name)
        .contains("run"); // still recorded
  }

  @Test
  void writeSvg_sleepOfCenturies_axisEndsWithAFewTicks() throws Exception {
    // From a hostile test: the axis loop overflowed and ran out of memory.
    for (Duration sleep : new Duration[] {Duration.ofDays(102_200), Duration.ofDays(146_000)}) {
      Timeline timeline = Timeline.ofLast(100);
      Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline).build();
      loop.addTask("forever", () -> Tasko.sleep(sleep));
      loop.run();

      StringWriter svg = new StringWriter();
      timeline.writeSvg(svg);

      List<String> ticks = new ArrayList<>();
      Matcher m = Pattern.compile("text-anchor=\"middle\">([^<]*)<").matcher(svg.toString());
      while (m.find()) {
        ticks.add(m.group(1));
      }
      assertThat(ticks).as("%s", sleep).hasSizeBetween(4, 11).first().isEqualTo("0");
      assertThat(ticks).as("%s", sleep).noneMatch(t -> t.contains("-"));
    }
  }

  @Test
  void niceStep_anyRoughStep_atLeastItAndPositive() {
    for (long rough : new long[] {0, 1, 7, 999, 1_000, 123_456_789, Long.MAX_VALUE / 8,
        Long.MAX_VALUE}) {
      assertThat(Timeline.niceStep(rough)).as("%d", rough).isPositive()
          .isGreaterThanOrEqualTo(rough);
    }
  }

  @Test
  void writeSvg_loneSurrogateInATaskName_isWellFormed() throws Exception {
    // A control character is refused in a name (see NamesTest); a lone surrogate, which no
    // XML file can hold either, is not.
    Timeline timeline = Timeline.ofLast(100);
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline).build();
    loop.addTask("sensor\ud800bell \ud83d\ude80 <&>", () -> Tasko.sleep(Duration.ofMillis(5)));
    loop.run();
    StringWriter svg = new StringWriter();
    timeline.writeSvg(svg);

    Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(new InputSource(new StringReader(svg.toString())));
    NodeList groups = doc.getElementsByTagName("g");
    assertThat(((Element) groups.item(1)).getAttribute("data-lane"))
        .isEqualTo("sensor\ufffdbell \ud83d\ude80 <&>");
  }

  @Test
  void writeTraceJson_taskNamedIdle_hasALaneOfItsOwn() throws Exception {
    Timeline timeline = Timeline.ofLast(100);
    Loop loop = Loop.builder().virtualTime().noStallWarning().timeline(timeline).build();
    loop.addTask("(idle)", () -> Tasko.sleep(Duration.ofMillis(5)));
    loop.run();
    StringWriter json = new StringWriter();
    timeline.writeTraceJson(json);

    JsonArray events = JsonParser.parseReader(new StringReader(json.toString())).getAsJsonObject()
        .getAsJsonArray("traceEvents");
    Map<String, Integer> catTid = new HashMap<>();
    for (JsonElement e : events) {
      JsonObject o = e.getAsJsonObject();
      if (o.has("cat")) {
        Integer other = catTid.put(o.get("cat").getAsString(), o.get("tid").getAsInt());
        assertThat(other == null || other == o.get("tid").getAsInt()).isTrue();
      }
    }
    assertThat(catTid).containsOnlyKeys("idle", "turn", "wait");
    assertThat(catTid.get("idle")).isNotEqualTo(catTid.get("turn"));
    assertThat(catTid.get("wait")).isEqualTo(catTid.get("turn"));
  }

  @Test
  void ofLast_zero_throwsNamingTheValue() {
    assertThatThrownBy(() -> Timeline.ofLast(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("capacity <= 0: 0");
  }

  @Test
  void ofLast_moreThanAnyArrayHolds_throwsNamingTheValue() {
    // It threw OutOfMemoryError ("Requested array size exceeds VM limit") on any heap.
    assertThatThrownBy(() -> Timeline.ofLast(Integer.MAX_VALUE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("capacity > ").hasMessageEndingWith("): 2147483647");
  }

  @Test
  void ofLast_moreThanTheLargestHeapHolds_throwsNamingTheHeapAndTheValue() {
    long heap = Runtime.getRuntime().maxMemory();
    long limit = heap / 33; // the least an event takes: a byte, three longs, two references
    Assumptions.assumeTrue(limit < Integer.MAX_VALUE - 8, "a heap too large to fill: " + heap);
    int capacity = (int) limit + 1;

    assertThatThrownBy(() -> Timeline.ofLast(capacity))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("capacity > " + limit + " (what a heap of at most " + heap
            + " bytes holds at 33 bytes an event): " + capacity);
  }
}
