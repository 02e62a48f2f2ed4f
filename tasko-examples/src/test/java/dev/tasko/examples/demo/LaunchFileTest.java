package dev.tasko.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LaunchFileTest {

  @Test
  void main_file_writesThisJavaThenThisClassPath(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("demo-launch");

    LaunchFile.main(new String[] {file.toString()});

    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(2);
    assertThat(Path.of(lines.get(0))).isRegularFile().isExecutable();
    assertThat(Path.of(lines.get(0)).toRealPath().startsWith(
        Path.of(System.getProperty("java.home")).toRealPath())).isTrue();
    assertThat(lines.get(1)).isEqualTo(System.getProperty("java.class.path"));
  }

  @Test
  void main_noArgument_throwsWithTheUsage() {
    assertThatThrownBy(() -> LaunchFile.main(new String[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("usage: LaunchFile <file>; got []");
  }
}
