package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class NamesTest {
  private static final String BAD = "pump\r";
  private static final String REFUSAL = "name has a control character at index 4: \"pump\\r\"";

  private final Loop loop = Loop.builder().virtualTime().build();

  private static void assertRefused(ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class).hasMessage(REFUSAL);
  }

  @Test
  void require_lineBreak_refusedShowingTheNameEscaped() {
    assertThatThrownBy(() -> Names.require("a\nfake line"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name has a control character at index 1: \"a\\nfake line\"");
    assertThatThrownBy(() -> Names.require(null))
        .isInstanceOf(NullPointerException.class).hasMessage("name == null");
    assertThat(Names.require("fan 2 (über)")).isEqualTo("fan 2 (über)");
  }

  @Test
  void require_emptyOrBlank_refusedShowingTheName() {
    // Before: accepted, and shown in reports as task '' (or task '   '), naming nothing.
    assertThatThrownBy(() -> Names.require(""))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("name is empty: \"\"");
    assertThatThrownBy(() -> Names.require("   "))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("name is blank: \"   \"");
    assertThatThrownBy(() -> Names.require("\t"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name has a control character at index 0: \"\\t\"");
    assertThat(Names.require(" pump 2 ")).isEqualTo(" pump 2 ");
  }

  @Test
  void everyNamingEntryPoint_emptyOrBlankName_refused() {
    for (String blank : List.of("", " ")) {
      String refusal = blank.isEmpty() ? "name is empty: \"\"" : "name is blank: \" \"";
      ThrowingCallable[] calls = {
        () -> Loop.builder().name(blank),
        () -> loop.addTask(blank, () -> {}),
        () -> loop.addTask(blank, () -> 1),
        () -> loop.runLater(blank, Duration.ZERO, () -> {}),
        () -> loop.schedule(blank, Duration.ofSeconds(1), () -> {}),
        () -> loop.schedule(blank, Rate.hz(1), () -> {}),
        () -> loop.scheduleLater(blank, Duration.ofSeconds(1), () -> {}),
        () -> loop.scheduleLater(blank, Rate.hz(1), () -> {}),
        () -> loop.scheduleCallback(blank, Duration.ofSeconds(1), () -> {}),
        () -> loop.scheduleCallback(blank, Rate.hz(1), () -> {}),
        () -> Channel.create(blank, 1),
        () -> Channel.unbounded(blank),
        () -> Event.create(blank),
        () -> Semaphore.create(blank, 1),
        () -> ManagedResource.of(blank, new Object(), c -> {}, c -> {}),
        () -> ManagedResource.withLeaseViews(blank, c -> {}, c -> {}, (c, lease) -> ""),
        () -> ManagedResource.of("i2c-1", new Object(), c -> {}, c -> {}).handle(blank, "0x44"),
      };
      for (ThrowingCallable call : calls) {
        assertThatThrownBy(call).as("name \"%s\"", blank)
            .isInstanceOf(IllegalArgumentException.class).hasMessage(refusal);
      }
    }
    List<Throwable> refusals = new ArrayList<>();
    loop.addTask("owner", () -> {
      ThrowingCallable[] calls = {
        () -> TaskGroup.open(""),
        () -> {
          try (TaskGroup g = TaskGroup.open("reads")) {
            g.add("", () -> {});
          }
        },
        () -> {
          try (TaskGroup g = TaskGroup.open("reads")) {
            g.add(" ", () -> 1);
          }
        },
      };
      for (ThrowingCallable call : calls) {
        refusals.add(catchThrowable(call));
      }
    });

    loop.run();

    assertThat(refusals).allMatch(e -> e instanceof IllegalArgumentException)
        .extracting(Throwable::getMessage).containsExactly(
        "name is empty: \"\"", "name is empty: \"\"", "name is blank: \" \"");
    assertThat(loop.taskCount()).isZero(); // nothing half made
  }

  @Test
  void printable_controlCharacters_writtenAsEscapes() {
    assertThat(Names.printable("a\tb\r\nc\u001b[2Jd\u007f")).isEqualTo(
        "a\\tb\\r\\nc\\u001b[2Jd\\u007f");
    String plain = "spi-0";
    assertThat(Names.printable(plain)).isSameAs(plain);
  }

  @Test
  void loopMethods_nameWithControlCharacter_refused() {
    assertRefused(() -> Loop.builder().name(BAD));
    assertRefused(() -> loop.addTask(BAD, () -> {}));
    assertRefused(() -> loop.addTask(BAD, () -> 1));
    assertRefused(() -> loop.runLater(BAD, Duration.ZERO, () -> {}));
    assertRefused(() -> loop.schedule(BAD, Duration.ofSeconds(1), () -> {}));
    assertRefused(() -> loop.schedule(BAD, Rate.hz(1), () -> {}));
    assertRefused(() -> loop.scheduleLater(BAD, Duration.ofSeconds(1), () -> {}));
    assertRefused(() -> loop.scheduleLater(BAD, Rate.hz(1), () -> {}));
    assertRefused(() -> loop.scheduleCallback(BAD, Duration.ofSeconds(1), () -> {}));
    assertRefused(() -> loop.scheduleCallback(BAD, Rate.hz(1), () -> {}));
    assertThat(loop.taskCount()).isZero(); // nothing half made
  }

  @Test
  void coordinationTools_nameWithControlCharacter_refused() {
    assertRefused(() -> Channel.create(BAD, 1));
    assertRefused(() -> Channel.unbounded(BAD));
    assertRefused(() -> Event.create(BAD));
    assertRefused(() -> Semaphore.create(BAD, 1));
    assertRefused(() -> ManagedResource.of(BAD, new Object(), c -> {}, c -> {}));
    assertRefused(() -> ManagedResource.withLeaseViews(BAD, c -> {}, c -> {},
        (c, lease) -> new Object()));
    ManagedResource<Object, String> bus = ManagedResource.of("i2c-1", new Object(), c -> {},
        c -> {});
    assertRefused(() -> bus.handle(BAD, "0x44"));
  }

  @Test
  void taskGroup_nameWithControlCharacter_refused() {
    List<Throwable> refusals = new ArrayList<>();
    loop.addTask("owner", () -> {
      try {
        TaskGroup.open(BAD);
      } catch (IllegalArgumentException e) {
        refusals.add(e);
      }
      try (TaskGroup g = TaskGroup.open("reads")) {
        try {
          g.add(BAD, () -> {});
        } catch (IllegalArgumentException e) {
          refusals.add(e);
        }
        try {
          g.add(BAD, () -> 1);
        } catch (IllegalArgumentException e) {
          refusals.add(e);
        }
      }
    });

    loop.run();

    assertThat(refusals).hasSize(3).allSatisfy(e -> assertThat(e).hasMessage(REFUSAL));
  }

  @Test
  void namesMadeFromToString_controlCharactersEscaped() {
    Object device = new Object() {
      @Override
      public String toString() {
        return "sensor\nresource 'fake' held by task 'nobody'";
      }
    };
    ManagedResource<Object, Object> resource = ManagedResource.of(device, c -> {}, c -> {});
    assertThat(resource.name()).isEqualTo("sensor\\nresource 'fake' held by task 'nobody'");

    Handle<Object> handle = resource.handle(device);
    assertThat(handle.name()).isEqualTo("sensor\\nresource 'fake' held by task 'nobody'");
  }

  @Test
  void suspendDescription_controlCharacters_shownEscaped() {
    // From a review: the description a task waits for is printed in dumps and deadlock reports.
    List<String> shown = new ArrayList<>();
    loop.addTask("t", () -> {
      Suspension s = Tasko.suspend("a reply\nTask[fake WAITING for nothing]");
      loop.addTask("peek", () -> {
        shown.add(loop.dump().toString());
        s.resume();
      });
      s.await();
    });

    loop.run();

    assertThat(shown).singleElement().asString()
        .contains("a reply\\nTask[fake WAITING for nothing]")
        .doesNotContain("a reply\nTask[fake");
  }
}
