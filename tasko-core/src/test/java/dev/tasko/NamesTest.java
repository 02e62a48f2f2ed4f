package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
