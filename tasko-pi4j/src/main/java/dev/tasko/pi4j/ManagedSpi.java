package dev.tasko.pi4j;

import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.spi.Spi;
import com.pi4j.io.spi.SpiBus;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Loop;
import dev.tasko.ManagedResource;
import dev.tasko.Task;
import dev.tasko.Tasko;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * One Pi4J {@link Spi} bus shared by several devices, each selected by its own chip-select
 * {@link DigitalOutput}: tasko's {@code ManagedSpi}, built on {@link ManagedResource}.
 *
 * <pre>{@code
 * ManagedSpi bus = ManagedSpi.of(spi);
 * Handle<Spi> sensor = bus.csHandle(sensorCs);   // sensorCs is driven high (inactive) here
 * Handle<Spi> sdCard = bus.csHandle(sdCardCs);
 *
 * try (Lease<Spi> lease = sensor.acquire()) {    // waits while the SD card has the bus
 *   lease.resource().transfer(command, reply);   // sensorCs is low in here, other CSs high
 * }                                              // sensorCs high again; the next one gets the bus
 * }</pre>
 *
 * <h2>Chip select</h2>
 * Chip selects are active low. {@link #csHandle(DigitalOutput)} drives its pin high (inactive) at
 * once, so a device never sees a half-selected bus before its first use. A task's
 * {@link Handle#acquire()} drives the pin low once the bus is its own, before {@code acquire()}
 * returns; {@link Lease#close()} drives it high again before the bus passes to the next waiter.
 * Since the bus has one holder at a time, at most one chip select is low at any moment.
 *
 * <p>That holds when a pin fails too. A pin whose {@code high()} (or {@code low()}) threw, or
 * whose lease's release never reached it (a stack overflow on the way in: a lease runs its release
 * at most once), is remembered as possibly low; before any pin is driven low, every such pin is
 * driven high again,
 * and if that throws once more, {@code acquire()} throws {@link IllegalStateException} (with
 * Pi4J's exception as its cause) instead of selecting a second device, and the bus passes on.
 * {@link Loop#shutdown()} of the loop using the bus drives such pins high one last time.
 *
 * <p>One handle per pin: {@link #csHandle(DigitalOutput)} called again with a pin that has a handle
 * returns that handle and leaves the pin alone, so it cannot deselect a device in mid-transaction.
 * One bus per pin too: {@code csHandle} refuses a pin that has a handle on another bus, which would
 * drive the same line, so that a device would hear what was sent to the other bus's device. (Pi4J
 * itself refuses a second {@code DigitalOutput} on the same GPIO pin of one context.)
 * A handle made on {@link #resource()} itself is not known to {@code csHandle}, which makes a
 * second one for its pin; it still leaves the pin alone while that pin's device is selected.
 *
 * <h2>What a lease hands out</h2>
 * {@link Lease#resource()} returns an {@code Spi} of that lease's own (the same object at every
 * call of that lease, a new one for each lease). It forwards a call to the bus only while the lease
 * is open and only from the task that acquired it, or from the blocking work that task runs
 * meanwhile with {@link dev.tasko.Tasko#blocking} (a long transfer off the loop, the task keeping
 * the bus); a call after the lease is closed, from another task, from another task's blocking work
 * or from any other thread throws {@link IllegalStateException} and sends nothing, so a kept
 * {@code Spi} can never talk to whichever device is selected now. A fluent setter returns
 * the view itself, and a stream it hands out ({@code out()}, {@code in()}) checks the lease in
 * the same way at every call. {@code close()}, {@code open()}, {@code initialize(..)} and
 * {@code shutdown(..)} throw {@link UnsupportedOperationException}: the Pi4J context owns the
 * bus. {@code toString}, {@code equals} and {@code hashCode} answer anywhere.
 *
 * <h2>Fairness and failures</h2>
 * As for every {@link ManagedResource}: first come, first served across all devices, a free bus is
 * taken without yielding, and a waiting task costs nothing. If driving a pin throws (Pi4J's
 * exceptions are unchecked), {@code acquire()} or {@code close()} rethrows it and the bus still
 * passes on (see "Chip select" for what then keeps a second device from being selected).
 *
 * <h2>Hardware chip selects</h2>
 * Pi4J's SPI also toggles the kernel's own chip-select line for the {@code Spi}'s channel (CE0 or
 * CE1) around every transfer. Wire devices selected through GPIO pins to those pins only, and
 * leave the channel's CE line unconnected (or give it to a device that is never used through this
 * bus).
 *
 * <h2>Several {@code Spi}s on one bus</h2>
 * Devices that need different SPI modes or speeds (which Pi4J fixes when it creates an
 * {@code Spi}) each get an {@code Spi} of their own on the same wires. Their managed buses, one
 * per {@code Spi}, share one exclusion: {@link #of(Spi)} finds the physical bus by the
 * {@code Spi}'s Pi4J provider and bus number, so a device of one is never selected while a
 * device of another holds the bus, and each lease talks through its own device's {@code Spi}.
 * They share the bus's name and {@link #resource()}.
 *
 * <p>Like its resource, a managed bus belongs to the loop of the first task that uses it, until
 * that loop has ended or been {@linkplain Loop#shutdown() shut down}.
 */
public final class ManagedSpi {
  /**
   * The physical buses shared so far, weakly: one per Pi4J provider and bus number, found by those,
   * so that two parts of a program that each share the same bus, through the same {@code Spi} or
   * another one on the same wires, still exclude each other. A bus stays while any of its handles
   * or managed buses is reachable. Guarded by itself.
   */
  private static final List<WeakReference<Wires>> SHARED = new ArrayList<>();

  private final Spi spi;
  final Wires wires; // package-private for tests

  private ManagedSpi(Spi spi, Wires wires) {
    this.spi = spi;
    this.wires = wires;
  }

  /**
   * Shares {@code spi}, named after its bus number ({@code "spi-0"}; after the Pi4J id of the
   * first {@code Spi} shared on it if its configuration has no bus), or, if its bus is shared
   * already, by the name it was shared under, whatever that is. There is one managed bus
   * per {@code Spi}, and one exclusion per physical bus: a second call with the same {@code Spi}
   * returns the same managed bus, and one with another {@code Spi} on the same bus (the same
   * Pi4J provider and bus number: another channel, mode or speed) a managed bus of its own whose
   * devices exclude the first one's, each lease talking through its own device's {@code Spi}.
   * May be called from any thread.
   *
   * @throws NullPointerException if {@code spi} is null
   * @throws IllegalArgumentException if {@code spi} is the {@code Spi} a lease handed out rather
   *     than a Pi4J bus
   */
  public static ManagedSpi of(Spi spi) {
    return of0(null, Objects.requireNonNull(spi, "spi == null"));
  }

  /**
   * Like {@link #of(Spi)}, named {@code name} in deadlock reports and errors (a name of the
   * physical bus, which every {@code Spi} on it shares).
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or blank, or holds a control
   *     character (a line break), or if {@code spi} is the {@code Spi} a lease handed out rather
   *     than a Pi4J bus
   * @throws IllegalStateException if {@code spi}'s bus is shared already under another name
   */
  public static ManagedSpi of(String name, Spi spi) {
    // Checked here, not only where a new bus is made: a bad name given for a bus shared already
    // is refused as a bad name, not as another name
    Names.require(name);
    return of0(name, Objects.requireNonNull(spi, "spi == null"));
  }

  /**
   * The name of {@code spi}'s bus when none is given: its number, as {@code "i2c-1"} names an I2C
   * bus, and with no quotes of its own, since reports quote it ("resource 'spi-0'").
   */
  private static String defaultName(Spi spi) {
    SpiBus bus = spi.config().bus();
    return bus != null ? "spi-" + bus.getBus() : "spi " + spi.id();
  }

  /** The managed bus already made for {@code spi}, or a new one; null name: any name. */
  private static ManagedSpi of0(String name, Spi spi) {
    if (LeaseView.isView(spi)) {
      // Shared, it would make every later lease of its devices talk through that one lease, closed
      // by then: each of their transfers refused, in the name of the device that lease was for.
      throw new IllegalArgumentException(spi + " is what a lease hands out, not a bus: pass the"
          + " Pi4J Spi itself, or use the ManagedSpi that lease came from");
    }
    synchronized (SHARED) {
      Wires found = live(SHARED,
          w -> w.provider == spi.provider() && w.bus == spi.config().bus());
      if (found == null) {
        found = new Wires(name != null ? name : defaultName(spi), spi);
        SHARED.add(new WeakReference<>(found));
      } else if (name != null && !found.resource.name().equals(name)) {
        throw new IllegalStateException("Spi '" + spi.id() + "' is on a bus shared already as '"
            + found.resource.name() + "', not '" + name + "': use that name, so that its devices"
            + " exclude each other");
      }
      return found.managedBusOf(spi);
    }
  }

  /**
   * Returns the handle for the device selected by {@code chipSelect}, which talks through this
   * managed bus's {@code Spi}. The first call for a pin drives it high (inactive) and makes its
   * handle; a later call returns that same handle and leaves the pin alone (its device may hold
   * the bus right now). Reports and errors name the handle by its pin:
   * {@code "cs sensor (GPIO 5) on spi-0"}. May be called from any thread.
   *
   * @throws NullPointerException if {@code chipSelect} is null
   * @throws IllegalStateException if the pin selects a device through another {@code Spi} of the
   *     same bus already, or on another bus (both buses would drive its line)
   * @throws RuntimeException whatever Pi4J throws while driving the pin (no handle is made then)
   */
  public Handle<Spi> csHandle(DigitalOutput chipSelect) {
    Objects.requireNonNull(chipSelect, "chipSelect == null");
    return wires.csHandle(chipSelect, spi);
  }

  /**
   * The resource underneath, which every {@code Spi} on the same physical bus shares: for
   * {@link ManagedResource#holder()} and {@link ManagedResource#waiting()}, whose handles'
   * {@linkplain ManagedResource#contextOf context} is the chip-select pin.
   */
  public ManagedResource<Spi, DigitalOutput> resource() {
    return wires.resource;
  }

  /** The bus's name. */
  public String name() {
    return wires.resource.name();
  }

  @Override
  public String toString() {
    return "ManagedSpi[" + wires.resource.name() + "]";
  }

  /**
   * The first object of {@code refs} still reachable that {@code matches}, or null; drops the
   * references of those the program has dropped. The caller holds the list's lock.
   */
  private static <T> T live(List<WeakReference<T>> refs, Predicate<T> matches) {
    for (Iterator<WeakReference<T>> i = refs.iterator(); i.hasNext(); ) {
      T t = i.next().get();
      if (t == null) {
        i.remove();
      } else if (matches.test(t)) {
        return t;
      }
    }
    return null;
  }

  /** A device's name in reports and errors, its chip-select pin: {@code "cs sensor (GPIO 5)"}. */
  private static String csName(DigitalOutput pin) {
    Object gpio = pin.address();
    return "cs " + pin.id() + (gpio == null ? "" : " (GPIO " + gpio + ")");
  }

  /**
   * One physical bus: its resource, its chip selects and the {@code Spi} each talks through. The
   * resource's callbacks reach it, so it lives as long as any of its handles.
   */
  static final class Wires {
    final Object provider;
    final SpiBus bus;
    /** The Spi the bus was first shared through: that of a pin with a handle made elsewhere. */
    final Spi first;
    final ManagedResource<Spi, DigitalOutput> resource;
    /**
     * The managed bus of each Spi on these wires, weakly (a program may drop an Spi it no longer
     * uses; its handles keep what they need). Guarded by SHARED.
     */
    private final List<WeakReference<ManagedSpi>> managed = new ArrayList<>();
    /** Guarded by itself: any thread makes handles. */
    private final Map<DigitalOutput, Handle<Spi>> handles = new IdentityHashMap<>();
    /**
     * The pins of {@link #handles}, for other buses to look at: a pin selects devices of one bus
     * only. Guarded by SHARED, taken after {@code handles}.
     */
    private final Set<DigitalOutput> claimed = Collections.newSetFromMap(new IdentityHashMap<>());
    /**
     * The Spi each pin's device talks through. A lock of its own, held only to read or write it:
     * the loop reads it at every acquire, while a thread making a handle holds {@code handles}
     * as long as Pi4J takes to drive the pin.
     */
    private final Map<DigitalOutput, Spi> spiOfPin =
        Collections.synchronizedMap(new IdentityHashMap<>());

    /**
     * Held while a pin's level and what is known of it change together: by the callbacks, on the
     * loop of the task that acquires or releases; by a shutdown hook, on the thread that shuts
     * an earlier loop down while a later one may use the bus; by csHandle, on any thread, between
     * its look at the selected pin and driving the pin high. Taken after {@code handles}.
     */
    private final Object pins = new Object();
    /**
     * Pins that may be low: the selected one, and any whose low() or high() threw or whose
     * release never reached deselect(). Driven high before any pin goes low. Guarded by pins.
     */
    private final Set<DigitalOutput> maybeLow =
        Collections.newSetFromMap(new IdentityHashMap<>());
    /**
     * What a loop's shutdown closes: one object for every loop, since a loop registers one object
     * once however often it is handed over (a new method reference at each registration would add
     * one more close to a loop each time the bus came back to it).
     */
    private final AutoCloseable raiseOnShutdown = this::raiseAllOnShutdown;
    /** The loop the bus was last selected in: registered with already, no need to ask it again. */
    private Loop registeredWith;
    /**
     * The pin of the device holding the bus, and its task; null while it is free. Written under
     * pins; read without it for errors.
     */
    private volatile DigitalOutput selectedPin;
    private volatile Task<?> selectedBy;

    Wires(String name, Spi first) {
      this.provider = first.provider();
      this.bus = first.config().bus();
      this.first = first;
      this.resource = ManagedResource.withLeaseViews(name, this::select, this::deselect,
          (cs, lease) -> LeaseView.of(Spi.class, spiOf(cs), lease, cs.id(), name,
              this::describeHolder));
    }

    ManagedSpi managedBusOf(Spi spi) {
      ManagedSpi known = live(managed, m -> m.spi == spi);
      if (known != null) {
        return known;
      }
      ManagedSpi created = new ManagedSpi(spi, this);
      managed.add(new WeakReference<>(created));
      return created;
    }

    Handle<Spi> csHandle(DigitalOutput chipSelect, Spi spi) {
      synchronized (handles) {
        Handle<Spi> known = handles.get(chipSelect);
        if (known != null) {
          Spi through = spiOf(chipSelect);
          if (through != spi) {
            throw new IllegalStateException("chip select '" + chipSelect.id() + "' selects a "
                + "device through Spi '" + through.id() + "' of " + resource.name()
                + " already, not through Spi '" + spi.id() + "'");
          }
          return known;
        }
        claim(chipSelect, spi);
        try {
          // A pin selected now through a handle made on resource() itself, which this map does
          // not know: driven high, it would deselect that device in mid-transfer. Looked at and
          // driven under the lock select() takes, so that a select cannot come in between.
          synchronized (pins) {
            if (selectedPin != chipSelect) {
              chipSelect.high();
            }
          }
          spiOfPin.put(chipSelect, spi);
          Handle<Spi> h = resource.handle(csName(chipSelect), chipSelect);
          handles.put(chipSelect, h);
          return h;
        } catch (RuntimeException | Error e) {
          // No handle made: the pin is free for another bus again
          spiOfPin.remove(chipSelect);
          synchronized (SHARED) {
            claimed.remove(chipSelect);
          }
          throw e;
        }
      }
    }

    /**
     * Takes {@code pin} for these wires, refusing a pin with a handle on another bus: both buses
     * would drive its line, and a device would hear what was sent to another bus's device. The
     * caller holds {@code handles}.
     */
    private void claim(DigitalOutput pin, Spi spi) {
      synchronized (SHARED) {
        for (WeakReference<Wires> ref : SHARED) {
          Wires other = ref.get();
          if (other != null && other != this && other.claimed.contains(pin)) {
            throw new IllegalStateException("chip select '" + pin.id() + "' selects a device on "
                + other.resource.name() + " (through Spi '" + other.spiOf(pin).id() + "') already,"
                + " not on " + resource.name() + " (through Spi '" + spi.id() + "'): a pin"
                + " selects devices of one bus only, or both buses would drive its line");
          }
        }
        claimed.add(pin);
      }
    }

    /** The pin's Spi; the first one for a pin whose handle was made on the resource itself. */
    private Spi spiOf(DigitalOutput cs) {
      Spi spi = spiOfPin.get(cs);
      return spi != null ? spi : first;
    }

    // ---- callbacks of the resource, in the task that acquires or releases ----

    void select(DigitalOutput cs) {
      if (cs == null) {
        // A handle made on resource() with no pin: refused before anything is marked, so that
        // the other devices' acquires are not refused in turn.
        throw new NullPointerException("chip select == null: a device on " + resource.name()
            + " needs its chip-select pin (make its handle with csHandle)");
      }
      registerWithLoop();
      synchronized (pins) {
        raiseMaybeLow(cs);
        // Marked before it goes low, and unmarked only once deselect() has driven it high: a
        // low() that threw (it may have gone low all the same), a high() that threw, and a
        // release that never reached deselect() (a stack overflow on the way into it: a lease
        // runs its release callback at most once) all leave it marked, and the next select drives
        // it high first.
        maybeLow.add(cs);
        cs.low();
        selectedPin = cs;
        selectedBy = Tasko.currentTask();
      }
    }

    void deselect(DigitalOutput cs) {
      synchronized (pins) {
        selectedPin = null;
        selectedBy = null;
        cs.high();
        maybeLow.remove(cs);
      }
    }

    /**
     * Drives high every pin that may have stayed low, before {@code next} is selected: two devices
     * must never listen at once. Throws if a pin still cannot be driven high. Holds pins.
     */
    private void raiseMaybeLow(DigitalOutput next) {
      for (DigitalOutput pin : maybeLow.toArray(DigitalOutput[]::new)) {
        try {
          pin.high();
          maybeLow.remove(pin);
        } catch (RuntimeException | Error e) {
          throw new IllegalStateException("chip select '" + pin.id() + "' of " + resource.name()
              + " may still be low (driving it high threw); '" + next.id() + "' is not selected,"
              + " so that two devices never listen at once", e);
        }
      }
    }

    /**
     * Has the loop's shutdown drive maybe-low pins high, once per loop the bus is used in, also
     * for a bus handed back and forth between loops run in turn: the loop keeps one registration
     * of {@link #raiseOnShutdown}.
     */
    private void registerWithLoop() {
      Task<?> t = Tasko.currentTask();
      Loop l = t == null ? null : t.loop();
      if (l != null && l != registeredWith) {
        registeredWith = l;
        l.closeOnShutdown(raiseOnShutdown);
      }
    }

    /**
     * On a loop's shutdown, once its tasks have ended. The bus may have passed to a later loop
     * meanwhile (a bus moves on once the loop that used it has ended): the pin of a device that a
     * task still holds is left alone, and only the others are driven high.
     */
    private void raiseAllOnShutdown() {
      IllegalStateException failure = null;
      synchronized (pins) {
        Task<?> holder = selectedBy;
        DigitalOutput held = holder != null && !holder.isDone() ? selectedPin : null;
        for (DigitalOutput pin : maybeLow.toArray(DigitalOutput[]::new)) {
          if (pin == held) {
            continue;
          }
          try {
            pin.high();
            maybeLow.remove(pin);
          } catch (RuntimeException | Error e) {
            // An Error too, as in raiseMaybeLow: it must not keep the pins after it low, and is
            // thrown at the end like an exception, as the cause of the failure naming its pin
            if (failure == null) {
              failure = new IllegalStateException("chip select '" + pin.id() + "' of "
                  + resource.name() + " may still be low: driving it high threw", e);
            } else {
              failure.addSuppressed(e);
            }
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    }

    /** Who holds the bus now, for errors; a snapshot when read outside the loop. */
    private String describeHolder() {
      DigitalOutput pin = selectedPin;
      Task<?> by = selectedBy;
      return pin == null || by == null ? "the bus is free"
          : "task '" + by.name() + "' holds the bus for device '" + pin.id() + "'";
    }
  }
}
