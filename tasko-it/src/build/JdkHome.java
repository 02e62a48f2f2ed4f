import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Writes the home of the JDK that runs it, as the property {@code toolchain.java.home}, to the
 * file named by its argument. The build runs it (as a source file) on the toolchain's java, so
 * that the consumer projects are built by a Maven running on that JDK too.
 */
class JdkHome {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.setProperty("toolchain.java.home", System.getProperty("java.home"));
    Path file = Path.of(args[0]);
    Files.createDirectories(file.toAbsolutePath().getParent()); // target/ may not exist yet
    try (Writer out = Files.newBufferedWriter(file)) {
      p.store(out, "the toolchain's JDK");
    }
  }
}
