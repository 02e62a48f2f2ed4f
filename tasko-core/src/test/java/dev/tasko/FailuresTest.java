package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class FailuresTest {

  @Test
  @Timeout(10)
  void causedBy_circularChainWithoutIt_returnsFalse() {
    RuntimeException a = new RuntimeException("a");
    RuntimeException b = new RuntimeException("b");
    a.initCause(b);
    b.initCause(a);

    assertThat(Failures.causedBy(a, new RuntimeException("other"))).isFalse();
    assertThat(Failures.causedBy(a, b)).isTrue();
  }

  @Test
  void causedBy_longChain_findsItsEnd() {
    RuntimeException root = new RuntimeException("root");
    RuntimeException top = root;
    for (int i = 0; i < 100; i++) {
      top = new RuntimeException("level " + i, top);
    }

    assertThat(Failures.causedBy(top, root)).isTrue();
    assertThat(Failures.causedBy(top, new RuntimeException("other"))).isFalse();
  }

  @Test
  void describe_toStringThrows_namesTheClassAndWhatItThrew() {
    Object unprintable = new Object() {
      @Override
      public String toString() {
        throw new IllegalStateException("no toString today");
      }
    };

    assertThat(Failures.describe(unprintable))
        .startsWith(unprintable.getClass().getName() + "@")
        .endsWith("(its toString() threw java.lang.IllegalStateException)");
    assertThat(Failures.describe("plain")).isEqualTo("plain");
    assertThat(Failures.describe(null)).isEqualTo("null");
  }
}
