package dev.tasko.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import dev.tasko.Loop;
import dev.tasko.examples.Output;
import dev.tasko.pi4j.test.MockBoard;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StatusViewTest {
  private static final String ESC = "\u001b[";

  private final Context pi4j = MockBoard.context();
  private final Loop loop = Loop.builder().name("test").virtualTime().build();
  private final Output out = new Output();

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  @Test
  void render_onTerminal_redrawsInPlaceAndCloseShowsCursor() {
    DemoApp app = DemoApp.wire(loop, pi4j, e -> {});
    StatusView view = new StatusView(app, out.stream(), /* ansi= */ true, "on test", "q: quit",
        /* columns= */ 0);
    app.schedule("status", Duration.ofSeconds(1), view::render);
    loop.runLater(Duration.ofMillis(1500), loop::stop);

    loop.run();
    view.close();

    String screen = out.text();
    int lines = 2 + app.schedules().size() + 6; // title, header, one per schedule, six device lines
    assertThat(screen).startsWith(ESC + "?25l" + "tasko demo on test   0.0 s   [q: quit]" + ESC
        + "K\n");
    assertThat(screen).contains(ESC + lines + "F" + "tasko demo on test   1.0 s   [q: quit]" + ESC
        + "K\n");
    assertThat(screen).endsWith(ESC + "J" + ESC + "?25h");
  }

  @Test
  void render_dumpRequested_printsTheLoopsDumpAboveAFreshView() {
    DemoApp app = DemoApp.wire(loop, pi4j, e -> {});
    StatusView view = new StatusView(app, out.stream(), /* ansi= */ true, "on test", "q: quit",
        /* columns= */ 0);
    app.schedule("status", Duration.ofSeconds(1), view::render);
    loop.runLater(Duration.ofMillis(500), view::requestDump); // as the 'd' key does
    loop.runLater(Duration.ofMillis(1500), loop::stop);

    loop.run();
    view.close();

    String screen = out.text();
    int dump = screen.indexOf("Loop 'test' at ");
    assertThat(dump).isPositive();
    assertThat(screen.substring(dump)).contains("\"status\" RUNNING", "Schedules:",
        "Resources:", "spi-0: ");
    // after the dump, the view starts afresh below it instead of moving up over it
    assertThat(screen.substring(dump)).contains(ESC + "?25l" + "tasko demo on test   1.0 s");
    assertThat(screen).contains("longest hold ");
  }

  @Test
  void render_narrowTerminal_cutsLinesSoNoneWraps() {
    DemoApp app = DemoApp.wire(loop, pi4j, e -> {});
    StatusView view = new StatusView(app, out.stream(), /* ansi= */ true, "on test", "q: quit",
        /* columns= */ 40);
    app.schedule("status", Duration.ofSeconds(1), view::render);
    loop.runLater(Duration.ofMillis(1500), loop::stop);

    loop.run();

    for (String line : out.text().split("\n")) {
      String visible = line.replaceAll("\u001b\\[[0-9;?]*[A-Za-z]", "");
      assertThat(visible).as(line).hasSizeLessThan(40);
    }
  }

  @Test
  void render_terminalResized_clearsTheScreenAndDrawsAfresh() {
    DemoApp app = DemoApp.wire(loop, pi4j, e -> {});
    int[] width = {80};
    StatusView view =
        new StatusView(app, out.stream(), /* ansi= */ true, "on test", "", () -> width[0]);
    app.schedule("status", Duration.ofSeconds(1), view::render);
    loop.runLater(Duration.ofMillis(1500), () -> width[0] = 60);
    loop.runLater(Duration.ofMillis(3500), loop::stop);

    loop.run();

    String screen = out.text();
    int lines = 2 + app.schedules().size() + 6;
    assertThat(screen).contains(ESC + lines + "F" + "tasko demo on test   1.0 s" + ESC + "K\n");
    assertThat(screen)
        .contains(ESC + "H" + ESC + "2J" + "tasko demo on test   2.0 s" + ESC + "K\n");
    assertThat(screen).contains(ESC + lines + "F" + "tasko demo on test   3.0 s" + ESC + "K\n");
  }

  @Test
  void render_achievedRate_measuredOverTheLastFiveSeconds() {
    DemoApp app = DemoApp.wire(loop, pi4j, e -> {});
    StatusView view = new StatusView(app, out.stream(), /* ansi= */ false, "on test", "",
        /* columns= */ 0);
    app.schedule("status", Duration.ofSeconds(1), view::render);
    loop.runLater(Duration.ofSeconds(7), loop::stop);

    loop.run();

    // Runs 2..7 s of a 10 Hz schedule, counted between the redraws at 2 s and 7 s: 50 in 5 s.
    assertThat(out.lines()).filteredOn(l -> l.matches("beach-ball\\s+100 ms.*")).last().asString()
        .matches("beach-ball\\s+100 ms\\s+10.0 Hz\\s+10.0 Hz\\s+.*\\s+70"); // 0.0 to 6.9 s
  }
}
