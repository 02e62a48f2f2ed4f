package dev.tasko.examples.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes what {@code ./demo} (and {@code demo.cmd}) need to start the demo without Maven: the
 * path of the java that runs this class — the build runs it on the toolchain's JDK 21+, which may
 * not be the {@code java} on the PATH — on the first line, and the class path on the second. The
 * build runs it at {@code package}; see the examples' pom.
 */
public final class LaunchFile {
  private LaunchFile() {}

  /**
   * Writes the file named by {@code args[0]}.
   *
   * @throws IllegalArgumentException without exactly one argument
   * @throws UncheckedIOException if the file cannot be written
   */
  public static void main(String[] args) {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: LaunchFile <file>; got " + List.of(args));
    }
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String classPath = System.getProperty("java.class.path");
    try {
      Files.write(Path.of(args[0]), List.of(java, classPath), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
