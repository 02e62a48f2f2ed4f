package dev.tasko.examples;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * A file an example writes, named on its command line (the greenhouse's log, the demo's
 * timeline): checked when the program starts rather than when it first writes, which may be at
 * its very end, so that a bad name is a usage error and not a stack trace after the run.
 */
public final class OutputFile {
  private OutputFile() {}

  /**
   * The file {@code name} names, once checked: a name this system accepts, not a directory, in a
   * directory that exists; and one that may be written: the file itself if it exists (it is
   * appended to or replaced), else its directory, where it will be made.
   *
   * @param name the file's name as the user typed it
   * @param what the file's role, for the messages ({@code "the log file"}), or {@code ""} when
   *     the caller puts its own name for it in front of them (an option's: {@code "--timeline: "})
   * @throws IllegalArgumentException naming {@code what} and {@code name}, if the file is none of
   *     those
   */
  public static Path check(String name, String what) {
    String named = (what.isEmpty() ? "" : what + " ") + "'" + name + "'";
    Path file;
    try {
      file = Path.of(name);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(named + " is not a file name this system accepts ("
          + e.getReason() + ")");
    }
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new IllegalArgumentException("no directory " + dir + " to write " + named + " in");
    }
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(named + " is a directory");
    }
    if (Files.exists(file) ? !Files.isWritable(file) : !Files.isWritable(dir)) {
      throw new IllegalArgumentException(Files.exists(file) ? named + " may not be written"
          : "the directory " + dir + " may not be written in, to make " + named);
    }
    return file;
  }
}
