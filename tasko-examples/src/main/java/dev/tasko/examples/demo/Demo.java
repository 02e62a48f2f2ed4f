package dev.tasko.examples.demo;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.platform.Platform;
import dev.tasko.Loop;
import dev.tasko.Timeline;
import dev.tasko.pi4j.test.MockBoard;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * tasko's main demo: the toy app of the original <a
 * href="https://github.com/WarriorOfWire/tasko">tasko</a>'s README, end to end, on Pi4J. A sensor
 * on an SPI bus takes a second to read; a beach ball spins 10 times a second, only while a read is
 * in flight; an SD card on the same bus logs every 100 ms or every 10 s, as it sees fit; a button
 * is read 100 times a second and starts a read one second after each press. A live view — itself a
 * task of the loop — shows every schedule's target and achieved rate and lateness, who holds the
 * bus and who waits, and how much of the time the loop sleeps.
 *
 * <p>From the repository root, with JDK 21+ and Maven installed:
 * <pre>
 * ./demo                          # until Ctrl-C or q; space presses the button, d dumps
 * ./demo --duration 5s            # stops by itself, then prints a summary
 * ./demo --real                   # on a Raspberry Pi: real GPIO and SPI
 * ./demo --timeline out.svg       # also writes what ran when (out.json: Perfetto)
 * ./demo --example ToyApp          # another example (--help lists them)
 * </pre>
 * ({@code ./demo} builds the examples once with Maven, then runs this class with {@code java}.)
 *
 * <p>On a terminal the view redraws in place and the space bar presses the (mock) button; without
 * one (a pipe, CI, {@code --plain}) it prints a plain block every second and a simulated finger
 * presses the button every 3.7 s. On a terminal, {@code d} prints a dump of the loop's tasks
 * ({@link dev.tasko.Loop#dump()}) above the view. The bus has a hold limit of 100 ms; the view
 * shows its longest hold. {@code --duration}, {@code q} and Ctrl-C all end it cleanly: the
 * loop stops after its current pass, and the summary is printed.
 */
public final class Demo {
  private final Options options;
  private final Loop loop;
  private final Context pi4j;
  private final Terminal terminal;
  private final PrintStream out;
  /** The reason {@link #stop} is given when the user presses Ctrl-C. */
  static final String CTRL_C = "Ctrl-C";

  /** Why the loop was stopped; the first reason wins. Set from any thread. */
  private volatile String endedBy;

  Demo(Options options, Loop loop, Context pi4j, Terminal terminal, PrintStream out) {
    this.options = options;
    this.loop = loop;
    this.pi4j = pi4j;
    this.terminal = terminal;
    this.out = out;
  }

  /**
   * Runs the demo; see the class comment for the options ({@code --help} lists them). Exits with
   * status 2 for a bad command line (the usage on standard error), 1 if a task failed, 130 when
   * ended by Ctrl-C (as a shell reports a program it interrupted), and 0 otherwise. With
   * {@code --example NAME} first, runs that example instead (see {@link Examples}).
   */
  public static void main(String[] args) throws Exception {
    args = splitExampleOption(args);
    if (args.length > 0 && args[0].equals("--example")) {
      java.lang.reflect.Method main;
      try {
        main = Examples.mainOf(args);
      } catch (IllegalArgumentException e) {
        System.err.println("demo: " + e.getMessage());
        System.exit(2);
        return;
      }
      Examples.run(main, args); // another example, as if java had started it
      return;
    }
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("demo: " + e.getMessage());
      System.err.println(Options.USAGE);
      System.exit(2);
      return;
    }
    if (options.help()) {
      System.out.println(Options.USAGE);
      return;
    }
    Context pi4j = options.real() ? Pi4J.newAutoContext() : MockBoard.context();
    // The last 200,000 events: about two minutes of the demo, some 8 MB.
    Timeline timeline = options.timelines().isEmpty() ? null : Timeline.ofLast(200_000);
    Loop.Builder builder = Loop.builder().name("demo");
    if (timeline != null) {
      builder.timeline(timeline);
    }
    Loop loop = builder.build();
    Terminal terminal = options.plain() ? Terminal.none() : Terminal.detect();
    Demo demo = new Demo(options, loop, pi4j, terminal, terminal.out(System.out));

    // Ctrl-C without a terminal (or a kill): the JVM runs this hook, which stops the loop and
    // waits until main has printed the summary and put the terminal back; only then may the JVM
    // go. On a terminal, Ctrl-C reaches the demo as a key instead (see run()).
    CountDownLatch finished = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (finished.getCount() > 0) {
        demo.stop("Ctrl-C or a signal");
        try {
          finished.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }, "demo-ctrl-c"));

    boolean ok;
    try {
      ok = demo.run();
    } finally {
      terminal.close();
      finished.countDown();
    }
    for (Path file : options.timelines()) {
      try {
        timeline.write(file);
        System.out.println("timeline written to " + file);
      } catch (IOException e) {
        System.err.println("demo: cannot write the timeline to " + file + ": " + e);
        ok = false;
      }
    }
    if (!ok) {
      System.exit(1);
    }
    if (CTRL_C.equals(demo.endedBy)) {
      System.exit(130);
    }
  }

  /**
   * Asks the loop to stop after its current pass, saying why. Any thread; the first reason wins.
   */
  void stop(String reason) {
    if (endedBy == null) {
      endedBy = reason;
    }
    loop.stop();
  }

  /**
   * Wires the app, runs the loop until something stops it, then prints the summary and shuts Pi4J
   * down. Returns false if a task failed. The caller closes the terminal afterwards.
   */
  boolean run() {
    DemoApp app = DemoApp.wire(loop, pi4j, event -> {});
    boolean interactive = terminal.interactive();
    String title;
    if (options.real()) {
      title = "on Pi4J's detected platform (" + platformName() + ")";
    } else {
      title = "on the Pi4J mock platform";
      // Nothing answers on a mock bus: play the sensor, and an SD card that keeps nothing.
      MockBoard.answerOnSelect(pi4j, DemoApp.SPI, DemoApp.SENSOR_CS, MockBoard.thermometer());
      MockBoard.answerOnSelect(pi4j, DemoApp.SPI, DemoApp.SDCARD_CS, () -> new byte[0]);
    }

    String help = "";
    // made below, once the help line is known; read by the keyboard's thread
    AtomicReference<StatusView> views = new AtomicReference<>();
    if (interactive) {
      help = (options.real() ? "GPIO 17: the button" : "space: press the button")
          + ", d: dump the tasks, q or Ctrl-C: quit";
      terminal.readKeys(key -> {
        if (key == ' ' && !options.real()) {
          app.pressMockButton(); // on the keyboard's thread: Pi4J calls the listeners here
        } else if (key == 'd' || key == 'D') {
          StatusView v = views.get();
          if (v != null) {
            v.requestDump();
          }
        } else if (key == 'q' || key == 'Q') {
          stop("q");
        }
      }, () -> stop(CTRL_C));
    } else {
      out.println("tasko demo " + title + ": plain status every second"
          + (options.real() ? "" : ", a simulated button press every "
              + Format.interval(DemoApp.SIMULATED_PRESS_EVERY))
          + (options.duration() == null ? "; Ctrl-C to stop" : "; stops after "
              + Format.interval(options.duration())));
      if (!options.real()) {
        app.simulatePresses();
      }
    }
    StatusView view = new StatusView(app, out, interactive, title, help, terminal::columns);
    views.set(view);
    app.schedule("status", interactive ? Duration.ofMillis(100) : Duration.ofSeconds(1),
        view::render);
    if (options.duration() != null) {
      loop.runLater("duration", options.duration(),
          () -> stop("--duration " + Format.interval(options.duration())));
    }

    boolean ok = true;
    try {
      loop.run();
    } catch (RuntimeException e) {
      ok = false;
      stop("a failure: " + e.getMessage());
      e.printStackTrace();
    } finally {
      view.close();
    }
    view.summary(endedBy == null ? "running out of tasks" : endedBy);
    // End the loop for good before Pi4J: tasks still parked (a stopped or failed run leaves them
    // so) run their cleanup, the chip selects go high, and the button's watcher is closed.
    try {
      loop.shutdown();
    } catch (RuntimeException e) {
      ok = false;
      e.printStackTrace();
    }
    pi4j.shutdown();
    return ok;
  }

  private String platformName() {
    try {
      Platform p = pi4j.platform();
      return p == null ? "default" : p.name();
    } catch (RuntimeException e) {
      return "default";
    }
  }

  /** {@code --example=NAME ...} as {@code --example NAME ...}; other arguments as they are. */
  static String[] splitExampleOption(String[] args) {
    if (args.length == 0 || !args[0].startsWith("--example=")) {
      return args;
    }
    String[] split = new String[args.length + 1];
    split[0] = "--example";
    split[1] = args[0].substring("--example=".length());
    System.arraycopy(args, 1, split, 2, args.length - 1);
    return split;
  }
}
