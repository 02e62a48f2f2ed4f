package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a test program in a JVM of its own, on this JVM's java and the core's classes. */
final class ChildJvm {
  private static final Duration TIME_LIMIT = Duration.ofMinutes(2);

  private ChildJvm() {}

  /**
   * Runs {@code main} with {@code jvmOptions} and returns what it printed (standard output and
   * error together); fails the test if it exits with anything but 0, or runs for over two minutes
   * (then it is killed).
   */
  static String run(List<String> jvmOptions, Class<?> main) throws Exception {
    String javaCmd = ProcessHandle.current().info().command().orElseThrow();
    String classPath = Path.of(Loop.class.getProtectionDomain().getCodeSource().getLocation()
        .toURI()) + File.pathSeparator + Path.of(ChildJvm.class.getProtectionDomain()
        .getCodeSource().getLocation().toURI());
    List<String> command = new ArrayList<>(List.of(javaCmd));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", classPath, main.getName()));
    Path output = Files.createTempFile("child-jvm", ".out");
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(output.toFile());
      // options from the environment (-Xint, say) would change what the child measures
      builder.environment().remove("JAVA_TOOL_OPTIONS");
      builder.environment().remove("JDK_JAVA_OPTIONS");
      Process p = builder.start();
      boolean ended = p.waitFor(TIME_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
      if (!ended) {
        p.destroyForcibly();
      }
      String out = Files.readString(output, StandardCharsets.UTF_8);
      assertThat(ended).as("child JVM still running after %s: %s", TIME_LIMIT, out).isTrue();
      assertThat(p.exitValue()).as(out).isZero();
      return out;
    } finally {
      Files.deleteIfExists(output);
    }
  }
}
