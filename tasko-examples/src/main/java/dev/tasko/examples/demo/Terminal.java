package dev.tasko.examples.demo;

import java.io.Console;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.Charset;
import java.util.function.IntConsumer;
import org.jline.terminal.Attributes;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.NonBlockingReader;
import org.jline.utils.OSUtils;

/**
 * The terminal the demo runs in, if any, through JLine: on Linux, macOS and Windows alike it reads
 * single keys without Enter (raw mode), tells the width, and turns Ctrl-C into a call the demo
 * handles itself. {@link #close()} puts the terminal back as it found it; JLine also restores it
 * from a shutdown hook if the JVM ends some other way (a signal, {@code System.exit}).
 *
 * <p>On Linux and macOS the terminal's settings go through {@code stty} (JLine's "exec" provider),
 * not JLine's native providers (FFM, JNI): those, in JLine 3.30, write the settings back with a
 * {@code struct termios} that holds only the flags JLine knows, so every change (raw mode, and
 * putting the terminal back) also set the line speed to 0 ({@code stty -a}: "speed 0 baud"), which
 * on a serial line hangs it up. {@code stty} changes only the flags it is given.
 */
final class Terminal implements AutoCloseable {
  /** The JLine terminal, or null when output goes to a pipe, a file or CI. */
  private final org.jline.terminal.Terminal terminal;
  /** The terminal's settings before raw mode, or null while they are untouched. */
  private Attributes saved;
  /**
   * The width in columns, 0 if unknown: read when the terminal is opened and again when it is
   * resized (SIGWINCH), not at each redraw, as through {@code stty} a read starts a process.
   */
  private volatile int width;

  private Terminal(org.jline.terminal.Terminal terminal) {
    this.terminal = terminal;
    if (terminal != null) {
      width = readWidth(terminal);
      terminal.handle(org.jline.terminal.Terminal.Signal.WINCH,
          signal -> width = readWidth(terminal));
    }
  }

  /** Plain output and no keys: for pipes, files, CI, and {@code --plain}. */
  static Terminal none() {
    return new Terminal(null);
  }

  /**
   * The terminal, if standard input and output both are one (and it is not a "dumb" one) and JLine
   * can drive it; otherwise {@link #none()}.
   */
  static Terminal detect() {
    Console console = System.console();
    if (console == null || !isTerminal(console) || "dumb".equals(System.getenv("TERM"))) {
      return none();
    }
    try {
      TerminalBuilder builder = TerminalBuilder.builder()
          .name("tasko demo")
          .system(true)
          .dumb(false); // no terminal JLine can drive: plain output instead
      if (!OSUtils.IS_WINDOWS) {
        builder.provider("exec"); // stty: see the class comment (Windows consoles have no termios)
      }
      return new Terminal(builder.build());
    } catch (IOException | RuntimeException e) {
      return none();
    }
  }

  /**
   * Since JDK 22, {@code System.console()} may return a console for redirected streams too, and
   * {@code Console.isTerminal()} tells; on JDK 21 a console is always a terminal. (We compile for
   * 21, hence the reflection.)
   */
  private static boolean isTerminal(Console console) {
    try {
      Method isTerminal = Console.class.getMethod("isTerminal");
      return (Boolean) isTerminal.invoke(console);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  /** Whether the output is a terminal that understands ANSI redraws, with keys to read. */
  boolean interactive() {
    return terminal != null;
  }

  /**
   * Where the view draws: the terminal's own output (JLine makes ANSI escapes work on Windows
   * consoles too), or {@code fallback} when there is no terminal.
   */
  PrintStream out(PrintStream fallback) {
    if (terminal == null) {
      return fallback;
    }
    OutputStream raw = terminal.output();
    Charset charset = terminal.encoding();
    return new PrintStream(raw, /* autoFlush= */ false, charset);
  }

  /**
   * Puts the terminal in raw mode (keys arrive one by one, without echo) and hands each key to
   * {@code onKey} from a daemon thread of its own; Ctrl-C (the terminal's interrupt, with or
   * without raw mode) calls {@code onInterrupt} on a thread of JLine's instead of ending the JVM.
   * Does nothing without a terminal.
   */
  void readKeys(IntConsumer onKey, Runnable onInterrupt) {
    if (terminal == null) {
      return;
    }
    terminal.handle(org.jline.terminal.Terminal.Signal.INT, signal -> onInterrupt.run());
    saved = terminal.enterRawMode();
    NonBlockingReader reader = terminal.reader();
    Thread keys = new Thread(() -> {
      try {
        for (int key; (key = reader.read()) >= 0; ) {
          onKey.accept(key);
        }
      } catch (IOException e) {
        // the terminal was closed: no more keys
      }
    }, "keyboard");
    keys.setDaemon(true);
    keys.start();
  }

  /**
   * The terminal's width in columns, kept up to date on resizes so that one shows at the next
   * redraw; 0 if unknown or not a terminal. The view cuts its lines to fit: a line that wrapped
   * would break the redraw in place.
   */
  int columns() {
    return width;
  }

  private static int readWidth(org.jline.terminal.Terminal terminal) {
    try {
      return Math.max(0, terminal.getWidth());
    } catch (RuntimeException e) {
      return 0;
    }
  }

  /** Restores the terminal's settings, if they were changed, and lets go of it. Idempotent. */
  @Override
  public void close() {
    if (terminal == null) {
      return;
    }
    Attributes s = saved;
    saved = null;
    try {
      if (s != null) {
        terminal.setAttributes(s);
      }
      terminal.flush();
      terminal.close();
    } catch (IOException | RuntimeException e) {
      // nothing more to do for a terminal that is gone
    }
  }
}
