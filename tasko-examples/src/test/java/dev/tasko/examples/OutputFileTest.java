package dev.tasko.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputFileTest {

  @Test
  void check_withOrWithoutARole_namesTheFileInEachMessage(@TempDir Path dir) throws Exception {
    Path taken = Files.createDirectory(dir.resolve("out.log"));

    assertThatThrownBy(() -> OutputFile.check(taken.toString(), "the log file"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the log file '" + taken + "' is a directory");
    assertThatThrownBy(() -> OutputFile.check(taken.toString(), ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("'" + taken + "' is a directory");
    assertThat(OutputFile.check(dir.resolve("new.log").toString(), "the log file"))
        .isEqualTo(dir.resolve("new.log"));
  }

  @Test
  void check_readOnlyDirectory_newFileRefusedExistingWritableFileAccepted(@TempDir Path dir)
      throws Exception {
    assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
    Path existing = Files.writeString(dir.resolve("kept.log"), "");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      assumeFalse(Files.isWritable(dir), "the user may write anywhere (root)");

      assertThatThrownBy(() -> OutputFile.check(dir.resolve("new.log").toString(), "the log"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("the directory " + dir + " may not be written in, to make the log '"
              + dir.resolve("new.log") + "'");
      assertThat(OutputFile.check(existing.toString(), "the log")).isEqualTo(existing);
    } finally {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }
  }
}
