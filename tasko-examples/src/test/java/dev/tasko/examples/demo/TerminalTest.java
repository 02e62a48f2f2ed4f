package dev.tasko.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

class TerminalTest {

  /**
   * The demo on a pseudo-terminal of its own (made by util-linux's {@code script}; no real terminal
   * needed): after the live view, {@code stty -a} shows the same settings as before, the line speed
   * among them. JLine 3.30's native providers wrote "speed 0 baud".
   */
  @Test
  @Tag("realtime") // the demo runs for a second of real time
  @EnabledOnOs(OS.LINUX)
  void close_demoOnAPseudoTerminal_putsEverySettingBack(@TempDir Path dir) throws Exception {
    Path script = onPath("script");
    assumeTrue(script != null, "needs util-linux's script on the PATH");
    String java = ProcessHandle.current().info().command().orElseThrow();
    String classPath = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    Path before = dir.resolve("before");
    Path after = dir.resolve("after");
    Path status = dir.resolve("status");
    String demo = String.join(" ", quote(java), "--enable-native-access=ALL-UNNAMED", "-cp",
        quote(classPath), Demo.class.getName(), "--duration", "1s");
    String shell = "stty -a > " + quote(before.toString()) + " && " + demo + "; echo $? > "
        + quote(status.toString()) + "; stty -a > " + quote(after.toString());
    ProcessBuilder builder = new ProcessBuilder(script.toString(), "-qec", shell, "/dev/null")
        .redirectErrorStream(true).redirectOutput(dir.resolve("screen").toFile());
    builder.environment().put("TERM", "xterm");
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    builder.environment().remove("JDK_JAVA_OPTIONS");
    Process p = builder.start(); // its input stays open, and no key is pressed
    boolean ended = p.waitFor(2, TimeUnit.MINUTES);
    if (!ended) {
      p.destroyForcibly();
    }
    String screen = Files.readString(dir.resolve("screen"), StandardCharsets.UTF_8);
    assertThat(ended).as(screen).isTrue();
    assertThat(Files.readString(status).strip()).as(screen).isEqualTo("0");
    assertThat(screen).contains("ended by --duration 1 s");
    List<String> was = Files.readAllLines(before);
    assertThat(was.get(0)).startsWith("speed ").doesNotStartWith("speed 0 ");
    assertThat(Files.readAllLines(after)).isEqualTo(was);
  }

  /** The program {@code name} as found on the PATH, or null. */
  private static Path onPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
