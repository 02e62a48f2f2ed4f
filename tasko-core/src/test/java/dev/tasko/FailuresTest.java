package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class FailuresTest {

  @Test
  @Timeout(10)
  void carries_circularCausesWithoutIt_returnsFalse() {
    RuntimeException a = new RuntimeException("a");
    RuntimeException b = new RuntimeException("b");
    a.initCause(b);
    b.initCause(a);

    assertThat(Failures.carries(a, new RuntimeException("other"))).isFalse();
    assertThat(Failures.carries(a, b)).isTrue();
  }

  @Test
  void carries_suppressedDeepInTheCauses_returnsTrue() {
    RuntimeException deep = new RuntimeException("deep");
    RuntimeException cause = new RuntimeException("cause");
    cause.addSuppressed(deep);
    RuntimeException top = new RuntimeException("top", new RuntimeException("middle", cause));

    assertThat(Failures.carries(top, deep)).isTrue();
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
