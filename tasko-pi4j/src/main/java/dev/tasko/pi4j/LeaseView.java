package dev.tasko.pi4j;

import com.pi4j.io.i2c.I2CRegister;
import dev.tasko.Lease;
import dev.tasko.Task;
import dev.tasko.Tasko;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * What a lease of a shared bus hands out: a Pi4J interface ({@code Spi}, {@code I2C}, or an
 * {@code I2CRegister} reached through it) that forwards to one device while its lease is open and
 * only for the task holding it, or the {@link Tasko#blocking} work that task runs meanwhile
 * ({@link Task#isRunningBlockingWorkOn}), and refuses everything else with
 * {@link IllegalStateException}.
 * Objects reached through a view are views too: a fluent setter's result is the view itself, a
 * register is a view of the register, and a stream ({@code out()}, {@code in()} and their
 * {@code get...Stream()} forms) checks the lease at every call as the view does. The device's life
 * belongs to its Pi4J context, never to a lease: {@code close()}, {@code open()},
 * {@code initialize()} and {@code shutdown()} are refused with
 * {@link UnsupportedOperationException}, and closing a stream closes nothing. What the action given
 * to {@code I2C.execute} throws unchecked (a cancellation, a Pi4J exception) comes out of
 * {@code execute} as thrown, not wrapped in the {@code Pi4JException} Pi4J wraps it in.
 */
final class LeaseView implements InvocationHandler {
  /** Methods that would end (or restart) the shared device for every lease to come. */
  private static final Set<String> LIFECYCLE = Set.of("close", "open", "initialize", "shutdown");

  private final Object target;
  private final String type;
  private final Lease<?> lease;
  private final Task<?> holder;
  private final String device;
  private final String busName;
  /** Who holds the bus now, for the message of a refused call; read on whichever thread calls. */
  private final Supplier<String> busState;

  private LeaseView(Object target, String type, Lease<?> lease, Task<?> holder, String device,
      String busName, Supplier<String> busState) {
    this.target = target;
    this.type = type;
    this.lease = lease;
    this.holder = holder;
    this.device = device;
    this.busName = busName;
    this.busState = busState;
  }

  /**
   * A view of {@code target} bound to {@code lease}. Called in the acquiring task, which becomes
   * the only task the view serves.
   */
  static <T> T of(Class<T> type, T target, Lease<?> lease, String device, String busName,
      Supplier<String> busState) {
    Task<?> holder = Tasko.currentTask();
    return proxy(type,
        new LeaseView(target, type.getSimpleName(), lease, holder, device, busName, busState));
  }

  /** Whether {@code o} is a view made here (and so no device of its own). */
  static boolean isView(Object o) {
    return o != null && Proxy.isProxyClass(o.getClass())
        && Proxy.getInvocationHandler(o) instanceof LeaseView;
  }

  private static <T> T proxy(Class<T> type, LeaseView handler) {
    return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
  }

  @Override
  public Object invoke(Object view, Method method, Object[] args) throws Throwable {
    if (method.getDeclaringClass() == Object.class) {
      return switch (method.getName()) {
        case "equals" -> view == args[0];
        case "hashCode" -> System.identityHashCode(view);
        default -> type + " of device '" + device + "' on " + busName + ", lease "
            + (lease.isOpen() ? "open" : "closed");
      };
    }
    String call = type + "." + method.getName() + "()";
    if (LIFECYCLE.contains(method.getName())) {
      throw new UnsupportedOperationException(call + " through a lease of " + busName + ": device '"
          + device + "' belongs to its Pi4J context, which opens and closes it; close the lease"
          + " instead");
    }
    checkCaller(call);
    // I2C.execute(action): Pi4J wraps whatever the action throws in a Pi4JException, which would
    // turn the task's cancellation (a cancel, a timeout, while the action sleeps) into a failure.
    Throwable[] thrownByAction = null;
    if (method.getName().equals("execute") && args != null && args.length == 1
        && args[0] instanceof Callable<?> action) {
      Throwable[] thrown = new Throwable[1];
      thrownByAction = thrown;
      args = new Object[] {(Callable<Object>) () -> {
        try {
          return action.call();
        } catch (Throwable t) {
          thrown[0] = t;
          throw t;
        }
      }};
    }
    Object result;
    try {
      result = method.invoke(target, args);
    } catch (InvocationTargetException e) {
      Throwable unchecked = thrownByAction == null ? null : thrownByAction[0];
      if ((unchecked instanceof RuntimeException || unchecked instanceof Error)
          && causes(e.getCause(), unchecked)) {
        throw unchecked; // as the action threw it
      }
      throw e.getCause(); // Pi4J's own exception, unwrapped
    }
    if (result == target) {
      return view; // a fluent setter: stay behind the guard
    }
    if (result instanceof I2CRegister register) {
      return proxy(I2CRegister.class,
          new LeaseView(register, "I2CRegister", lease, holder, device, busName, busState));
    }
    // A stream writes to the device, or reads from it, through the object it came from: kept past
    // the lease, it would reach whichever device holds the bus then.
    if (result instanceof OutputStream out) {
      return new GuardedOut(out, call);
    }
    if (result instanceof InputStream in) {
      return new GuardedIn(in, call);
    }
    return result;
  }

  /** Whether {@code cause} is {@code thrown} or among its causes, as far as 16 deep. */
  private static boolean causes(Throwable thrown, Throwable cause) {
    int depth = 0;
    for (Throwable t = thrown; t != null && depth < 16; t = t.getCause(), depth++) {
      if (t == cause) {
        return true;
      }
    }
    return false;
  }

  /**
   * Throws unless the calling task holds this view's lease, open, or runs the blocking work that
   * task waits for (Tasko.blocking): the holder is suspended meanwhile, so the device still has
   * one user at a time. Any other thread, even one running another task's blocking work, is
   * refused.
   */
  private void checkCaller(String call) {
    Task<?> caller = Tasko.currentTask();
    boolean holderOrItsWork = caller == holder
        || (caller == null && holder.isRunningBlockingWorkOn(Thread.currentThread()));
    if (!holderOrItsWork || !lease.isOpen()) {
      String who = caller == null ? "thread " + Thread.currentThread()
          : "task '" + caller.name() + "'";
      String why = lease.isOpen()
          ? "which does not hold that lease (task '" + holder.name() + "' does)"
          : "after that lease was closed (" + busState.get() + ")";
      throw new IllegalStateException(call + " on " + busName + " through the lease of device '"
          + device + "' by " + who + ", " + why
          + ": use what a lease hands out only inside that lease, in its task or its"
          + " blocking work");
    }
  }

  /** A guarded stream's name, for people to read: {@code "stream of Spi.out() of device ..."}. */
  private String streamName(String from) {
    return "stream of " + from + " of device '" + device + "' on " + busName;
  }

  /** The stream a view's {@code out()} returns: every call checked as the view's own are. */
  private final class GuardedOut extends OutputStream {
    private final OutputStream out;
    private final String from;

    GuardedOut(OutputStream out, String from) {
      this.out = out;
      this.from = from;
    }

    @Override
    public void write(int b) throws IOException {
      checkCaller("the stream of " + from + ": write()");
      out.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      checkCaller("the stream of " + from + ": write()");
      out.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
      checkCaller("the stream of " + from + ": flush()");
      out.flush();
    }

    /** Closes only this handle: the device belongs to its Pi4J context. */
    @Override
    public void close() {}

    @Override
    public String toString() {
      return streamName(from);
    }
  }

  /** The stream a view's {@code in()} returns: every call checked as the view's own are. */
  private final class GuardedIn extends InputStream {
    private final InputStream in;
    private final String from;

    GuardedIn(InputStream in, String from) {
      this.in = in;
      this.from = from;
    }

    @Override
    public int read() throws IOException {
      checkCaller("the stream of " + from + ": read()");
      return in.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      checkCaller("the stream of " + from + ": read()");
      return in.read(b, off, len);
    }

    @Override
    public long skip(long n) throws IOException {
      checkCaller("the stream of " + from + ": skip()");
      return in.skip(n);
    }

    @Override
    public int available() throws IOException {
      checkCaller("the stream of " + from + ": available()");
      return in.available();
    }

    /** Closes only this handle: the device belongs to its Pi4J context. */
    @Override
    public void close() {}

    @Override
    public String toString() {
      return streamName(from);
    }
  }
}
