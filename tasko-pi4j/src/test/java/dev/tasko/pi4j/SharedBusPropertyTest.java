package dev.tasko.pi4j;

import dev.tasko.testsupport.EventLog;
import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.i2c.I2C;
import com.pi4j.io.spi.Spi;
import com.pi4j.io.spi.SpiBus;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import com.pi4j.plugin.mock.provider.i2c.MockI2C;
import dev.tasko.DeadlockException;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.Task;
import dev.tasko.Tasko;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The promises of a shared bus, under random programs: tasks that acquire, transfer, reach
 * registers, sleep, forget to close, throw, misuse views they kept, watch an input and are
 * cancelled, across 3 SPI devices and 3 I2C devices, with chip-select pins that fail now and then.
 * After every step: at most one chip select low, and every byte on the device whose lease was open
 * when it was sent (and none from a refused call). Once the loop has been shut down: every chip
 * select high, no listener left on the input, no task left.
 */
class SharedBusPropertyTest {
  private static final Logger[] QUIET = {
      Logger.getLogger(Loop.class.getName()), Logger.getLogger(EdgeWatcher.class.getName())};

  /** Forgotten leases and dropped watchers are part of the programs: their warnings are noise. */
  @BeforeContainer
  static void quiet() {
    for (Logger l : QUIET) {
      l.setLevel(Level.OFF);
    }
  }

  @AfterContainer
  static void loud() {
    for (Logger l : QUIET) {
      l.setLevel(null);
    }
  }

  enum Kind {
    SPI_ACQUIRE, SPI_TRANSFER, SPI_CLOSE, I2C_ACQUIRE, I2C_WRITE, I2C_REGISTER, I2C_CLOSE, SLEEP,
    YIELD,
    FORGET, THROW, MISUSE, WATCH, FLAKY_PIN
  }

  /** One step of a task's script; {@code a} and {@code b} pick a device, a pin, a time, a mode. */
  record Step(Kind kind, int a, int b) {}

  /** When a task of the program is cancelled, if ever. */
  record Cancel(int task, int atMillis) {}

  record Program(List<List<Step>> tasks, List<Cancel> cancels) {}

  @Provide
  Arbitrary<Program> programs() {
    Arbitrary<Step> step = Combinators.combine(Arbitraries.of(Kind.class),
        Arbitraries.integers().between(0, 5),
        Arbitraries.integers().between(0, 9)).as(Step::new);
    Arbitrary<List<Step>> script = step.list().ofMinSize(1).ofMaxSize(14);
    Arbitrary<Cancel> cancel = Combinators.combine(Arbitraries.integers().between(0, 3),
        Arbitraries.integers().between(0, 30)).as(Cancel::new);
    return Combinators.combine(script.list().ofMinSize(1).ofMaxSize(4), cancel.list().ofMaxSize(3))
        .as(Program::new);
  }

  @Property(tries = 1000, seed = "20261126", shrinking = ShrinkingMode.FULL)
  void sharedBuses_randomPrograms_keepEveryPromise(@ForAll("programs") Program program) {
    try (World world = new World()) {
      world.run(program);
    }
  }

  /** One try's hardware, loop and bookkeeping. */
  static final class World implements AutoCloseable {
    final Context pi4j = MockPi.context();
    final List<Throwable> failures = new ArrayList<>();
    final Loop loop = Loop.builder().name("property").virtualTime()
        .failureHandler((task, failure) -> failures.add(failure)).build();
    final List<String> violations = new ArrayList<>();

    final List<DigitalOutput> realPins = new ArrayList<>();
    final List<FlakyOutput> pins = new ArrayList<>();
    final List<Handle<Spi>> spiDevices = new ArrayList<>();
    final List<Handle<I2C>> i2cDevices = new ArrayList<>();
    final List<MockI2C> i2cChips = new ArrayList<>();
    final MockDigitalInput input = MockPi.input(pi4j, "button", 24);

    /** Each byte the SPI bus carried, with the chip selects low when it did. Loop only. */
    final List<String> spiWire = new ArrayList<>();
    /** What the wire should show since the last check, in order. */
    final List<String> expected = new ArrayList<>();
    /** Every view a lease handed out, with its lease and task: for misuse later, by anyone. */
    final List<View> views = new ArrayList<>();
    int nextByte;

    World() {
      Spi realSpi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0)
          .baud(1_000_000));
      Spi spi = (Spi) Proxy.newProxyInstance(Spi.class.getClassLoader(), new Class<?>[] {Spi.class},
          (proxy, method, args) -> {
            if (method.getName().equals("write") && args.length == 1 && args[0] instanceof Byte b) {
              spiWire.add("spi " + b + " to " + lowPins());
            }
            try {
              return method.invoke(realSpi, args);
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
      ManagedSpi spiBus = ManagedSpi.of("spi", spi);
      for (int i = 0; i < 3; i++) {
        DigitalOutput real = MockPi.loggedOutput(pi4j, "cs" + i, 5 + i, new EventLog());
        real.addListener(e -> {
          if (lowPins().size() > 1) {
            violations.add("chip selects low at once: " + lowPins());
          }
        });
        FlakyOutput flaky = new FlakyOutput(real);
        realPins.add(real);
        pins.add(flaky);
        spiDevices.add(spiBus.csHandle(flaky.pin));
      }
      ManagedI2c i2cBus = ManagedI2c.of(pi4j, 1);
      for (int i = 0; i < 3; i++) {
        Handle<I2C> h = i2cBus.handle(0x40 + i);
        i2cDevices.add(h);
        i2cChips.add((MockI2C) i2cBus.resource().contextOf(h));
      }
    }

    Set<String> lowPins() {
      Set<String> low = new java.util.TreeSet<>();
      for (DigitalOutput p : realPins) {
        if (p.isLow()) {
          low.add(p.id());
        }
      }
      return low;
    }

    void run(Program program) {
      List<Task<Void>> tasks = new ArrayList<>();
      for (int i = 0; i < program.tasks().size(); i++) {
        List<Step> script = program.tasks().get(i);
        tasks.add(loop.addTask("t" + i, () -> new Script().play(script)));
      }
      for (Cancel c : program.cancels()) {
        if (c.task() < tasks.size()) {
          Task<Void> victim = tasks.get(c.task());
          loop.runLater(Duration.ofMillis(c.atMillis()), victim::cancel);
        }
      }

      try {
        loop.run();
      } catch (DeadlockException e) {
        // A program may deadlock (two tasks taking both buses in opposite orders): shutdown must
        // still end it cleanly.
      }
      check();
      for (FlakyOutput p : pins) { // a glitch, not a dead pin: it works again by the end
        p.failHigh = FlakyOutput.Failure.NONE;
        p.failLow = FlakyOutput.Failure.NONE;
      }
      loop.shutdown();
      check();

      assertThat(violations).isEmpty();
      // A task fails by its program's own throw, or, when it ended holding a lease, by the
      // chip-select failure its forced release met (reported, never lost).
      assertThat(failures).allMatch(f -> f instanceof Boom || isPinFailure(f),
          "only the programs' own throws and failed pins fail a task");
      assertThat(realPins).allMatch(DigitalOutput::isHigh);
      assertThat(input.hasListenersOrBindings()).as("listeners left on the input").isFalse();
      assertThat(loop.taskCount()).isZero();
      for (View v : views) { // from a thread outside the loop, after it: every view refuses
        try {
          write(v.view());
          violations.add("a view worked after the loop ended: " + v.view());
        } catch (IllegalStateException expectedRefusal) {
          // refused, as promised
        }
      }
      check();
      assertThat(violations).isEmpty();
    }

    /** Compares what reached the buses since the last check with what the steps expected. */
    void check() {
      List<String> wire = new ArrayList<>(spiWire);
      spiWire.clear();
      for (int i = 0; i < 3; i++) {
        MockI2C chip = i2cChips.get(i);
        for (int b; (b = chip.read()) >= 0; ) {
          wire.add("i2c " + (byte) b + " to " + chip.id());
        }
        for (int reg = 0; reg < 4; reg++) {
          while (true) {
            try {
              wire.add("i2c " + (byte) chip.readRegister(reg) + " to " + chip.id()
                  + " register " + reg);
            } catch (IllegalStateException none) {
              break;
            }
          }
        }
      }
      if (!wire.equals(expected)) {
        violations.add("expected " + expected + " on the wire, got " + wire);
      }
      expected.clear();
    }

    static void write(Object view) {
      if (view instanceof Spi s) {
        s.write((byte) 99);
      } else if (view instanceof I2C d) {
        d.write((byte) 99);
      } else {
        ((com.pi4j.io.i2c.I2CRegister) view).write((byte) 99);
      }
    }

    /** One task's state while it plays its script. */
    final class Script {
      Lease<Spi> spiLease;
      int spiDevice;
      Lease<I2C> i2cLease;
      int i2cDevice;

      void play(List<Step> script) {
        for (Step step : script) {
          try {
            perform(step);
          } finally {
            check(); // also when the step throws or the task is cancelled in it
          }
        }
      }

      void perform(Step s) {
        switch (s.kind()) {
          case SPI_ACQUIRE -> {
            if (spiLease == null) {
              try {
                spiDevice = s.a() % 3;
                spiLease = spiDevices.get(spiDevice).acquire();
                views.add(new View(spiLease.resource(), spiLease, Tasko.currentTask()));
              } catch (IllegalStateException pinOrHolding) {
                // a failing pin, or this task still holds a forgotten lease of the bus
              }
            }
          }
          case SPI_TRANSFER -> {
            if (spiLease != null) {
              byte b = (byte) nextByte++;
              spiLease.resource().write(b);
              expected.add("spi " + b + " to [cs" + spiDevice + "]");
            }
          }
          case SPI_CLOSE -> {
            if (spiLease != null) {
              Lease<Spi> l = spiLease;
              spiLease = null;
              try {
                l.close();
              } catch (IllegalStateException pin) {
                // high() failed; the lease is closed all the same
              }
            }
          }
          case I2C_ACQUIRE -> {
            if (i2cLease == null) {
              try {
                i2cDevice = s.a() % 3;
                i2cLease = i2cDevices.get(i2cDevice).acquire();
                views.add(new View(i2cLease.resource(), i2cLease, Tasko.currentTask()));
              } catch (IllegalStateException holding) {
                // this task still holds a forgotten lease of the bus
              }
            }
          }
          case I2C_WRITE -> {
            if (i2cLease != null) {
              byte b = (byte) nextByte++;
              i2cLease.resource().write(b);
              expected.add("i2c " + b + " to " + i2cChips.get(i2cDevice).id());
            }
          }
          case I2C_REGISTER -> {
            if (i2cLease != null) {
              byte b = (byte) nextByte++;
              int reg = s.b() % 4;
              var register = i2cLease.resource().register(reg);
              views.add(new View(register, i2cLease, Tasko.currentTask()));
              register.write(b);
              expected.add("i2c " + b + " to " + i2cChips.get(i2cDevice).id() + " register " + reg);
            }
          }
          case I2C_CLOSE -> {
            if (i2cLease != null) {
              i2cLease.close();
              i2cLease = null;
            }
          }
          case SLEEP -> Tasko.sleep(Duration.ofMillis(s.b()));
          case YIELD -> Tasko.yieldNow();
          case FORGET -> { // drops its leases without closing them
            spiLease = null;
            i2cLease = null;
          }
          case THROW -> throw new Boom();
          case MISUSE -> {
            if (!views.isEmpty()) {
              View v = views.get((s.a() * 7 + s.b()) % views.size());
              if (!v.lease().isOpen() || v.task() != Tasko.currentTask()) {
                try {
                  write(v.view());
                  violations.add("a view worked outside its lease: " + v.view());
                } catch (IllegalStateException refused) {
                  // as promised
                }
              }
            }
          }
          case WATCH -> {
            EdgeWatcher w = EdgeWatcher.of(input);
            if (s.b() % 3 == 0) {
              input.mockState(input.isHigh() ? com.pi4j.io.gpio.digital.DigitalState.LOW
                  : com.pi4j.io.gpio.digital.DigitalState.HIGH);
            }
            w.await(Duration.ofMillis(s.a()));
            if (s.b() % 2 == 0) {
              w.close(); // else left open: the loop's shutdown closes it
            }
          }
          case FLAKY_PIN -> {
            FlakyOutput p = pins.get(s.a() % 3);
            FlakyOutput.Failure f = FlakyOutput.Failure.values()[s.b() % 3];
            if (s.b() < 5) {
              p.failHigh = f;
            } else {
              p.failLow = f;
            }
          }
          default -> throw new AssertionError(s);
        }
      }
    }

    @Override
    public void close() {
      pi4j.shutdown();
    }
  }

  /** A view a lease handed out, the lease, and the task that holds it. */
  record View(Object view, Lease<?> lease, Task<?> task) {}

  /** What a program's THROW step throws. */
  static final class Boom extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Boom() {
      super("boom", null, false, false);
    }
  }

  private static boolean isPinFailure(Throwable f) {
    return f instanceof IllegalStateException
        && String.valueOf(f.getMessage()).matches("(high|low)\\(\\) of '.*' failed( late)?");
  }
}
