package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
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
  void ofLast_zero_throwsNamingTheValue() {
    assertThatThrownBy(() -> Timeline.ofLast(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("capacity <= 0: 0");
  }
}
