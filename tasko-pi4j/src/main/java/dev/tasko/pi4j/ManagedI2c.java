package dev.tasko.pi4j;

import com.pi4j.context.Context;
import com.pi4j.io.exception.IOAlreadyExistsException;
import com.pi4j.io.i2c.I2C;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.ManagedResource;
import dev.tasko.Task;
import dev.tasko.Tasko;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;

/**
 * One I2C bus shared by several devices, so that a device's multi-step transaction — write a
 * command, sleep while the device measures, read the result — is never interleaved with another
 * device's traffic. Each device gets a {@link Handle}; the {@link Lease} a task acquires through it
 * gives that device's Pi4J {@link I2C}.
 *
 * <pre>{@code
 * ManagedI2c bus = ManagedI2c.of(pi4j, 1);
 * Handle<I2C> sensor = bus.handle(0x44);
 * Handle<I2C> display = bus.handle(0x3c);
 *
 * try (Lease<I2C> lease = sensor.acquire()) {        // waits while the display has the bus
 *   lease.resource().write(MEASURE);                // talks to 0x44
 *   Tasko.sleep(Duration.ofMillis(15));             // other tasks run; nobody else uses the bus
 *   lease.resource().read(reply);                   // still 0x44, nothing in between
 * }                                                  // the next waiter gets the bus
 * }</pre>
 *
 * <h2>Holding the bus across a sleep</h2>
 * A lease held across {@link Tasko#sleep} keeps the bus for the whole transaction, as a device in
 * clock-stretching ("hold master") mode would anyway. A device that lets the bus go while it
 * measures is better served by two leases, one for the command and one for the result, so that
 * other devices use the bus meanwhile; only do that if nothing else may talk to the device in
 * between.
 *
 * <h2>A blocking transfer off the loop</h2>
 * A device that stretches the clock holds Pi4J's {@code read} until it has measured, which would
 * hold every task of the loop. Run the transfer as blocking work inside the lease: the task keeps
 * the bus and waits, the other tasks run, and the lease's {@code I2C} serves that work.
 *
 * <pre>{@code
 * try (Lease<I2C> lease = sensor.acquire()) {
 *   I2C chip = lease.resource();
 *   chip.write(MEASURE_HOLD);
 *   int n = Tasko.blocking(() -> chip.read(reply));  // off the loop; the bus stays ours
 * }
 * }</pre>
 *
 * <h2>What a lease hands out</h2>
 * Pi4J has one {@code I2C} object per device address; a managed bus has one resource for all of
 * them. {@link Lease#resource()} returns an {@code I2C} of that lease's own (the same object at
 * every call of that lease, a new one for each lease), bound to the device whose handle was
 * acquired:
 * <ul>
 *   <li>it forwards a call to that device only while the lease is open and only from the task that
 *       acquired it, or from the blocking work that task runs meanwhile with
 *       {@link Tasko#blocking} (a clock-stretching read off the loop, see above); a call after the
 *       lease is closed (even by the same task, even while it holds the bus for another device),
 *       from another task, from another task's blocking work or from any other thread throws
 *       {@link IllegalStateException} and sends nothing;
 *   <li>what it returns that could reach the device is guarded the same way: a stream
 *       ({@code out()}, {@code in()}, a register's too) checks the lease at every call; a fluent
 *       setter ({@code name}, {@code description}) returns the view itself, and
 *       {@code register(r)} / {@code getRegister(r)} return an {@code I2CRegister} bound to the
 *       same lease;
 *   <li>{@code close()}, {@code initialize(..)} and {@code shutdown(..)} throw
 *       {@link UnsupportedOperationException}: the Pi4J context owns the device, and a view in a
 *       try-with-resources must not close it for every later lease;
 *   <li>{@code toString}, {@code equals} and {@code hashCode} answer anywhere, without the bus.
 * </ul>
 * A view is no device: {@link #handle(I2C)} refuses one.
 *
 * <h2>Fairness and failures</h2>
 * As for every {@link ManagedResource}: first come, first served across all devices, a free bus is
 * taken without yielding, and a waiting task costs nothing. Pi4J's exceptions are unchecked and
 * pass through unchanged; the lease still closes and the bus still passes on. What the action given
 * to a lease's {@code I2C.execute} throws unchecked (a cancellation while it sleeps, a Pi4J
 * exception) comes out of {@code execute} as thrown, not wrapped as Pi4J would wrap it.
 *
 * <h2>One per bus</h2>
 * {@link #of(Context, int)} returns the same {@code ManagedI2c} for the same Pi4J context and bus
 * number, so that two parts of a program that each ask for bus 1 still exclude each other.
 *
 * <p>Like its resource, a managed bus belongs to the loop of the first task that uses it, until
 * that loop has ended or been {@linkplain dev.tasko.Loop#shutdown() shut down}.
 */
public final class ManagedI2c {
  /**
   * The buses shared so far, per Pi4J context and bus number. Weak both ways: the context is a
   * weak key, and a bus nobody refers to any more (its handles hold it) may go.
   */
  private static final Map<Context, Map<Integer, WeakReference<ManagedI2c>>> BUSES =
      new WeakHashMap<>();

  private final Context pi4j;
  private final int bus;
  private final ManagedResource<I2C, I2C> resource;

  // ---- Written by the callbacks, which run in the task that acquires or releases; read only to
  // describe the bus in an error (a thread outside the loop may see a stale state). ----
  /** The device of the handle through which the bus is held; null while the bus is free. */
  private I2C device;
  /** The task holding the bus; null while the bus is free. */
  private Task<?> holder;

  private ManagedI2c(String name, Context pi4j, int bus) {
    this.pi4j = pi4j;
    this.bus = bus;
    // No object stands for the whole bus: each lease gets a view of its own device.
    this.resource = ManagedResource.withLeaseViews(name, this::selected, this::deselected,
        (device, lease) ->
            LeaseView.of(I2C.class, device, lease, device.id(), name, this::describeHolder));
  }

  /**
   * Shares I2C bus number {@code bus} (1 on a Raspberry Pi's header), named {@code "i2c-1"}; or
   * returns the {@code ManagedI2c} already sharing this bus of this context, whatever its name.
   * Devices are created in {@code pi4j} by {@link #handle(int)}. May be called from any thread.
   *
   * @throws NullPointerException if {@code pi4j} is null
   * @throws IllegalArgumentException if {@code bus} is negative
   */
  public static ManagedI2c of(Context pi4j, int bus) {
    return of0(null, pi4j, bus);
  }

  /**
   * Like {@link #of(Context, int)}, named {@code name} in deadlock reports and errors.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code bus} is negative, or if {@code name} is empty or
   *     blank or holds a control character (a line break)
   * @throws IllegalStateException if this bus of this context is shared already under another name
   */
  public static ManagedI2c of(String name, Context pi4j, int bus) {
    // Checked here, not only where a new bus is made: a bad name given for a bus shared already
    // is refused as a bad name, not as another name
    return of0(Names.require(name), pi4j, bus);
  }

  /** The bus already shared for this context and number, or a new one; null name: any name. */
  private static ManagedI2c of0(String name, Context pi4j, int bus) {
    Objects.requireNonNull(pi4j, "pi4j == null");
    if (bus < 0) {
      throw new IllegalArgumentException("bus < 0: " + bus);
    }
    synchronized (BUSES) {
      Map<Integer, WeakReference<ManagedI2c>> ofContext =
          BUSES.computeIfAbsent(pi4j, c -> new HashMap<>());
      WeakReference<ManagedI2c> ref = ofContext.get(bus);
      ManagedI2c existing = ref == null ? null : ref.get();
      if (existing != null) {
        if (name != null && !existing.name().equals(name)) {
          throw new IllegalStateException("I2C bus " + bus + " of this Pi4J context is shared"
              + " already as '" + existing.name() + "', not '" + name + "': use that ManagedI2c, so"
              + " that its devices exclude each other");
        }
        return existing;
      }
      ManagedI2c created = new ManagedI2c(name != null ? name : "i2c-" + bus, pi4j, bus);
      ofContext.put(bus, new WeakReference<>(created));
      return created;
    }
  }

  /**
   * Creates the Pi4J device at the 7-bit {@code address} on this bus (Pi4J id
   * {@code "i2c-1-0x44"}), and returns its handle, named by its address in reports and errors
   * ({@code "0x44 on i2c-1"}). The Pi4J context owns the device and closes it when it shuts down.
   * May be called from any thread.
   *
   * @throws IllegalArgumentException if {@code address} is outside 0x00..0x7f
   * @throws IllegalStateException if the Pi4J context is shut down (no device is made then), or if
   *     it has a device with that id already, made by an earlier {@code handle(address)} or by the
   *     program (make each device's handle once and share it, or pass that device to
   *     {@link #handle(I2C)}); Pi4J's exception is its cause
   * @throws RuntimeException whatever else Pi4J throws
   */
  public Handle<I2C> handle(int address) {
    if (address < 0 || address > 0x7f) {
      throw new IllegalArgumentException("address outside 0x00..0x7f: " + address
          + (address >= 0 ? " (0x" + Integer.toHexString(address) + ")" : ""));
    }
    requireContextLive("no device is made at " + addressName(address)
        + ", since the context would never shut it down");
    String id = "i2c-" + bus + "-" + addressName(address);
    I2C created;
    try {
      created = pi4j.create(I2C.newConfigBuilder(pi4j).id(id).bus(bus).device(address));
    } catch (IOAlreadyExistsException e) {
      // Pi4J's message names only the id, and not the way out
      throw new IllegalStateException("address has a device already: " + addressName(address)
          + " (Pi4J id '" + id + "' on " + name() + "): make each device's handle once and share"
          + " it, or pass the existing I2C to handle(I2C)", e);
    }
    return resource.handle(addressName(address), created);
  }

  /**
   * Returns a handle for a device that already exists on this bus, named by its address as
   * {@link #handle(int)}'s are: a new handle at each call, even for the same device (all the
   * handles of a bus exclude each other, so two for one device are safe). May be called from any
   * thread.
   *
   * @throws NullPointerException if {@code device} is null
   * @throws IllegalArgumentException if the device is on another bus or belongs to another Pi4J
   *     context than this bus (the devices of one bus exclude each other only within one
   *     {@code ManagedI2c}, see {@link #of(Context, int)}), or is the {@code I2C} a lease handed
   *     out rather than a Pi4J device
   * @throws IllegalStateException if the Pi4J context is shut down: it has shut its devices down
   */
  public Handle<I2C> handle(I2C device) {
    Objects.requireNonNull(device, "device == null");
    if (LeaseView.isView(device)) {
      throw new IllegalArgumentException(device + " is what a lease hands out, not a device: pass"
          + " the Pi4J I2C itself, or use the handle that lease came from");
    }
    Context owner = contextOf(device);
    if (owner != null && owner != pi4j) {
      throw new IllegalArgumentException("device '" + device.id() + "' belongs to another Pi4J"
          + " context than " + name() + ": share its bus with ManagedI2c.of(itsContext, "
          + device.bus() + "), so that it excludes the other devices of that context");
    }
    if (device.bus() != bus) {
      throw new IllegalArgumentException("device '" + device.id() + "' is on bus " + device.bus()
          + ", not on this bus " + bus);
    }
    requireContextLive("it has shut device '" + device.id() + "' down");
    return resource.handle(addressName(device.device()), device);
  }

  /**
   * Refuses a handle once the context is shut down: it has shut its devices down, and would never
   * shut down one made now. Pi4J itself still creates devices then.
   */
  private void requireContextLive(String why) {
    if (pi4j.isShutdown()) {
      throw new IllegalStateException("the Pi4J context of " + name() + " is shut down: " + why);
    }
  }

  /** The device's Pi4J context, or null if it cannot tell (a test double with no provider). */
  private static Context contextOf(I2C device) {
    try {
      return device.provider() == null ? null : device.provider().context();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** A device's name in reports and errors, its address: {@code "0x44"}, so "0x44 on i2c-1". */
  private static String addressName(int address) {
    return String.format("0x%02x", address);
  }

  /** The bus number. */
  public int bus() {
    return bus;
  }

  /** The bus's name. */
  public String name() {
    return resource.name();
  }

  /**
   * The resource underneath: for {@link ManagedResource#holder()} and
   * {@link ManagedResource#waiting()}, whose handles'
   * {@linkplain ManagedResource#contextOf context} is the device's own Pi4J {@code I2C}.
   */
  public ManagedResource<I2C, I2C> resource() {
    return resource;
  }

  // ---- callbacks of the resource, in the task that acquires or releases ----

  private void selected(I2C d) {
    device = d;
    holder = Tasko.currentTask();
  }

  private void deselected(I2C d) {
    device = null;
    holder = null;
  }

  /** Who holds the bus now, for errors; a snapshot when read outside the loop. */
  private String describeHolder() {
    I2C d = device;
    Task<?> h = holder;
    return d == null || h == null ? "the bus is free"
        : "task '" + h.name() + "' holds the bus for device '" + d.id() + "'";
  }

  @Override
  public String toString() {
    return "ManagedI2c[" + resource.name() + ", bus " + bus + "]";
  }
}
