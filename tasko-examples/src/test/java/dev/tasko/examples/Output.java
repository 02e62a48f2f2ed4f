package dev.tasko.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** What an example printed, line by line: the tests' event log. */
public final class Output {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  /** Where the example prints. */
  public PrintStream stream() {
    return stream;
  }

  /** Everything printed so far, one entry per line, leading blanks trimmed. */
  public List<String> lines() {
    return text().lines().map(String::strip).toList();
  }

  /** Everything printed so far. */
  public String text() {
    stream.flush();
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
