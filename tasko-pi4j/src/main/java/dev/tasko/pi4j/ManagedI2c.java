package dev.tasko.pi4j;

import com.pi4j.context.Context;
import com.pi4j.io.i2c.I2C;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.ManagedResource;
import dev.tasko.Task;
import dev.tasko.Tasko;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Objects;

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
 * <h2>Whose device</h2>
 * Pi4J has one {@code I2C} object per device address; a managed bus has one resource for all of
 * them. {@link Lease#resource()} therefore returns the bus as the holding task sees it: an
 * {@code I2C} that forwards every call to the device whose handle the task acquired. Called by any
 * other task, by a thread outside the loop, or after the lease is closed, it throws
 * {@link IllegalStateException}: traffic that could interleave with a transaction fails loudly
 * instead.
 *
 * <h2>Fairness and failures</h2>
 * As for every {@link ManagedResource}: first come, first served across all devices, a free bus is
 * taken without yielding, and a waiting task costs nothing. Pi4J's exceptions are unchecked and
 * pass through unchanged; the lease still closes and the bus still passes on.
 *
 * <p>Like its resource, a managed bus belongs to the loop of the first task that uses it.
 */
public final class ManagedI2c {
  private final Context pi4j;
  private final int bus;
  private final ManagedResource<I2C, I2C> resource;

  // ---- Guarded by the loop's baton: written by the callbacks, which run in the task that
  // acquires or releases. A thread outside the loop may read them in a stale state; the check in
  // forward() then still fails, since such a thread is no task at all. ----
  /** The device of the handle through which the bus is held; null while the bus is free. */
  private I2C device;
  /** The task holding the bus; null while the bus is free. */
  private Task<?> holder;

  private ManagedI2c(String name, Context pi4j, int bus) {
    this.pi4j = pi4j;
    this.bus = bus;
    I2C view = (I2C) Proxy.newProxyInstance(
        I2C.class.getClassLoader(), new Class<?>[] {I2C.class}, this::forward);
    this.resource = ManagedResource.of(name, view, this::selected, this::deselected);
  }

  /**
   * Shares I2C bus number {@code bus} (1 on a Raspberry Pi's header), named {@code "i2c-1"}.
   * Devices are created in {@code pi4j} by {@link #handle(int)}.
   *
   * @throws NullPointerException if {@code pi4j} is null
   * @throws IllegalArgumentException if {@code bus} is negative
   */
  public static ManagedI2c of(Context pi4j, int bus) {
    return of("i2c-" + bus, pi4j, bus);
  }

  /**
   * Like {@link #of(Context, int)}, named {@code name} in deadlock reports and errors.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code bus} is negative
   */
  public static ManagedI2c of(String name, Context pi4j, int bus) {
    Objects.requireNonNull(name, "name == null");
    Objects.requireNonNull(pi4j, "pi4j == null");
    if (bus < 0) {
      throw new IllegalArgumentException("bus < 0: " + bus);
    }
    return new ManagedI2c(name, pi4j, bus);
  }

  /**
   * Creates the Pi4J device at the 7-bit {@code address} on this bus (Pi4J id
   * {@code "i2c-1-0x44"}), and returns its handle, named by its address in reports and errors
   * ({@code "0x44 on i2c-1"}). The Pi4J context owns the device and closes it when it shuts down.
   * May be called from any thread.
   *
   * @throws IllegalArgumentException if {@code address} is outside 0x00..0x7f
   * @throws RuntimeException whatever Pi4J throws, for instance when a device with that id exists
   *     already (make each device's handle once)
   */
  public Handle<I2C> handle(int address) {
    if (address < 0 || address > 0x7f) {
      throw new IllegalArgumentException("address outside 0x00..0x7f: 0x"
          + Integer.toHexString(address));
    }
    String id = "i2c-" + bus + "-0x" + String.format("%02x", address);
    I2C created = pi4j.create(I2C.newConfigBuilder(pi4j).id(id).bus(bus).device(address));
    return resource.handle(addressName(address), created);
  }

  /**
   * Returns a handle for a device that already exists on this bus. May be called from any thread.
   *
   * @throws NullPointerException if {@code device} is null
   * @throws IllegalArgumentException if the device is on another bus
   */
  public Handle<I2C> handle(I2C device) {
    Objects.requireNonNull(device, "device == null");
    if (device.bus() != bus) {
      throw new IllegalArgumentException("device '" + device.id() + "' is on bus " + device.bus()
          + ", not on this bus " + bus);
    }
    return resource.handle(addressName(device.device()), device);
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

  /** The bus view's every method: the holder's calls go to its device, anybody else's fail. */
  private Object forward(Object view, Method method, Object[] args) throws Throwable {
    if (method.getDeclaringClass() == Object.class) {
      return switch (method.getName()) {
        case "equals" -> view == args[0];
        case "hashCode" -> System.identityHashCode(view);
        default -> "bus view of " + this;
      };
    }
    I2C d = device;
    Task<?> h = holder;
    Task<?> caller = Tasko.currentTask();
    if (d == null || caller != h) {
      throw new IllegalStateException("I2C." + method.getName() + "() on " + resource.name()
          + " by " + (caller == null ? "thread " + Thread.currentThread() : "task '" + caller.name()
              + "'")
          + ", which does not hold it ("
          + (d == null ? "the bus is free" : "task '" + h.name() + "' holds it for device '"
              + d.id() + "'")
          + "): use the I2C of a lease only inside that lease");
    }
    try {
      return method.invoke(d, args);
    } catch (InvocationTargetException e) {
      throw e.getCause(); // Pi4J's own exception, unwrapped
    }
  }

  @Override
  public String toString() {
    return "ManagedI2c[" + resource.name() + ", bus " + bus + "]";
  }
}
