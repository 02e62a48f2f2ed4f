package dev.tasko.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tasko.Loop;
import dev.tasko.examples.Output;
import dev.tasko.pi4j.test.MockBoard;
import org.junit.jupiter.api.Test;

class DemoTest {
  private final Loop loop = Loop.builder().name("demo").virtualTime().build();
  private final Output out = new Output();

  @Test
  void run_plainWithDuration_printsABlockEverySecondThenTheSummary() {
    Demo demo = new Demo(Options.parse("--duration", "5s", "--plain"), loop, MockBoard.context(),
        Terminal.none(), out.stream());

    boolean ok = demo.run();

    assertThat(ok).isTrue();
    assertThat(out.lines()).first().isEqualTo("tasko demo on the Pi4J mock platform: plain"
        + " status every second," + " a simulated button press every 3.7 s; stops after 5 s");
    assertThat(out.lines()).filteredOn(l -> l.startsWith("----"))
        .containsExactly("---- 0.0 s ----", "---- 1.0 s ----", "---- 2.0 s ----", "---- 3.0 s ----",
            "---- 4.0 s ----", "---- 5.0 s ----");
    assertThat(out.text())
        .contains("spi bus     held by sd-card; waiting: sensor") // the first redraw, at 0 s
        .contains("tasko demo: 5.0 s on the Pi4J mock platform, ended by --duration 5 s")
        .contains("sensor      1 read (last 21.53 C), 1 scheduled skipped, found the bus taken 1"
            + " time"
            + " (waited at most 40.0 ms)") // the read that began at 4.7 s is still in flight
        .contains("button      1 press: 1 read triggered, 0 ignored");
    assertThat(out.lines()).filteredOn(l -> l.startsWith("beach-ball ")).last().asString()
        .startsWith("beach-ball    100 ms      51"); // in the summary: 51 runs, 0.0 to 5.0 s
    // The read in flight was parked holding the bus: the demo shut the loop down on its way out.
    assertThat(loop.isShutdown()).isTrue();
    assertThat(loop.taskCount()).isZero();
  }

  @Test
  void stop_beforeRun_endsAfterFirstPassNamingTheReason() {
    Demo demo = new Demo(Options.parse("--plain"), loop, MockBoard.context(), Terminal.none(),
        out.stream());

    demo.stop("Ctrl-C");
    boolean ok = demo.run();

    assertThat(ok).isTrue();
    assertThat(out.text()).contains("ended by Ctrl-C");
  }
}
