package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs a test program in a JVM of its own, on this JVM's java and the core's classes. */
final class ChildJvm {
  private ChildJvm() {}

  /**
   * Runs {@code main} with {@code jvmOptions} and returns what it printed (standard output and
   * error together); fails the test if it exits with anything but 0.
   */
  static String run(List<String> jvmOptions, Class<?> main) throws Exception {
    String javaCmd = ProcessHandle.current().info().command().orElseThrow();
    String classPath = Path.of(Loop.class.getProtectionDomain().getCodeSource().getLocation()
        .toURI()) + File.pathSeparator + Path.of(ChildJvm.class.getProtectionDomain()
        .getCodeSource().getLocation().toURI());
    List<String> command = new ArrayList<>(List.of(javaCmd));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", classPath, main.getName()));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }
}
