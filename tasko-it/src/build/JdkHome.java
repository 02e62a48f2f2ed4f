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
    try (Writer out = Files.newBufferedWriter(Path.of(args[0]))) {
      p.store(out, "the toolchain's JDK");
    }
  }
}
