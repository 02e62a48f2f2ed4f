package dev.tasko.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;

class ExamplesTest {

  @Test
  void mainOf_everyName_aPublicStaticMain() {
    for (String name : Examples.NAMES) {
      Method main = Examples.mainOf(name);

      assertThat(main.getDeclaringClass().getName()).isEqualTo("dev.tasko.examples." + name);
      assertThat(Modifier.isStatic(main.getModifiers())).as(name).isTrue();
      assertThat(Modifier.isPublic(main.getModifiers())).as(name).isTrue();
    }
  }

  @Test
  void mainOf_unknownName_refusedNamingTheExamples() {
    assertThatIllegalArgumentException().isThrownBy(() -> Examples.mainOf("Nope"))
        .withMessage("no example 'Nope'; examples: ToyApp, RunLater, SharedSpi, AwaitButton, "
            + "greenhouse.Greenhouse");
  }

  @Test
  void mainOf_noName_refused() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Examples.mainOf(new String[] {"--example"}))
        .withMessageStartingWith("--example needs an example's name: ToyApp, ");
  }

  @Test
  void mainOf_argumentsForAnExampleThatTakesNone_refusedNamingThem() {
    // Before: ToyApp ran until Ctrl-C, its "--duration 5s" silently dropped.
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Examples.mainOf(new String[] {"--example", "ToyApp", "--duration", "5s"}))
        .withMessage("ToyApp takes no arguments, got: '--duration 5s'");
  }

  @Test
  void mainOf_greenhouseWithMoreThanItsTwoArguments_refusedNamingThem() {
    assertThat(Examples.mainOf(new String[] {"--example", "greenhouse.Greenhouse", "60", "g.log"})
        .getDeclaringClass().getSimpleName()).isEqualTo("Greenhouse");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Examples.mainOf(
            new String[] {"--example", "greenhouse.Greenhouse", "60", "g.log", "--plain"}))
        .withMessage("greenhouse.Greenhouse takes at most 2 arguments ([seconds to run]"
            + " [log file]), got: '60 g.log --plain'");
  }

  @Test
  void usage_listsTheExamples() {
    assertThat(Options.USAGE).contains("--example <name>")
        .contains(String.join(", ", Examples.NAMES));
  }
}
