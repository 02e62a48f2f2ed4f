package dev.tasko.examples.demo;

import java.io.ByteArrayOutputStream;
import java.io.Console;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.charset.Charset;
import java.util.function.IntConsumer;

/**
 * The terminal the demo runs in, if any: whether it can redraw in place, and single key presses
 * without Enter (the terminal in non-canonical mode through {@code stty}, restored on
 * {@link #close()}). Ctrl-C keeps working: signals stay on.
 */
final class Terminal implements AutoCloseable {
  private final boolean interactive;
  /** The terminal's settings before the demo changed them ({@code stty -g}), or null. */
  private String savedSettings;

  private Terminal(boolean interactive) {
    this.interactive = interactive;
  }

  /** Plain output and no keys: for pipes, files, CI, and {@code --plain}. */
  static Terminal none() {
    return new Terminal(false);
  }

  /**
   * The terminal, if standard input and output both are one (and it is not a "dumb" one);
   * otherwise {@link #none()}.
   */
  static Terminal detect() {
    Console console = System.console();
    boolean interactive = console != null && isTerminal(console)
        && !"dumb".equals(System.getenv("TERM"));
    return new Terminal(interactive);
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
    return interactive;
  }

  /**
   * Reads single keys from {@code in} on a daemon thread of its own and hands each to
   * {@code onKey}, on that thread. Puts the terminal in non-canonical, no-echo mode first; if that
   * fails, keys arrive only with Enter.
   */
  void readKeys(InputStream in, IntConsumer onKey) {
    if (!interactive) {
      return;
    }
    savedSettings = stty("-g");
    if (savedSettings != null && stty("-icanon", "-echo", "min", "1") == null) {
      savedSettings = null;
    }
    Thread keys = new Thread(() -> {
      try {
        for (int key; (key = in.read()) >= 0; ) {
          onKey.accept(key);
        }
      } catch (IOException e) {
        // standard input closed: no more keys
      }
    }, "keyboard");
    keys.setDaemon(true);
    keys.start();
  }

  /**
   * The terminal's width in columns (from {@code stty size}), or 0 if unknown or not a terminal.
   * The view cuts its lines to fit: a line that wrapped would break the redraw in place.
   */
  int columns() {
    if (!interactive) {
      return 0;
    }
    String size = stty("size"); // "rows columns"
    if (size == null) {
      return 0;
    }
    String[] parts = size.split("\\s+");
    try {
      return parts.length == 2 ? Integer.parseInt(parts[1]) : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Restores the terminal's settings, if they were changed. Idempotent. */
  @Override
  public void close() {
    String saved = savedSettings;
    savedSettings = null;
    if (saved != null) {
      stty(saved.split("\\s+"));
    }
  }

  /** Runs stty on the controlling terminal; returns its output, or null if it failed. */
  private static String stty(String... args) {
    String[] command = new String[args.length + 1];
    command[0] = "stty";
    System.arraycopy(args, 0, command, 1, args.length);
    try {
      Process p = new ProcessBuilder(command).redirectInput(new File("/dev/tty"))
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      ByteArrayOutputStream output = new ByteArrayOutputStream();
      p.getInputStream().transferTo(output);
      return p.waitFor() == 0 ? output.toString(Charset.defaultCharset()).trim() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
