package dev.tasko;

import static dev.tasko.Rate.every;
import static dev.tasko.Rate.hz;
import static dev.tasko.Rate.perMinute;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A rate says its unit at the call site: the trap {@code schedule(2, body)} is gone. */
class RateTest {

  @Test
  void hz_wholeAndFractional_intervalRoundedAndWrittenAsGiven() {
    assertThat(hz(2).interval()).isEqualTo(Duration.ofMillis(500));
    assertThat(hz(2)).hasToString("2 Hz");
    assertThat(hz(0.5).interval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(hz(0.5)).hasToString("0.5 Hz");
    assertThat(hz(3).interval()).isEqualTo(Duration.ofNanos(333_333_333));
    assertThat(hz(1e9).interval()).isEqualTo(Duration.ofNanos(1));
    assertThat(hz(100).hertz()).isEqualTo(100.0);
  }

  @Test
  void every_durations_writtenForPeople() {
    assertThat(every(Duration.ofMillis(500))).hasToString("every 500 ms");
    assertThat(every(Duration.ofSeconds(10))).hasToString("every 10 s");
    assertThat(every(Duration.ofMillis(1500))).hasToString("every 1.5 s");
    assertThat(every(Duration.ofMinutes(2))).hasToString("every 2 min");
    assertThat(every(Duration.ofHours(1))).hasToString("every 1 h");
    assertThat(every(Duration.ofNanos(250))).hasToString("every 250 ns");
    assertThat(every(Duration.ofMillis(1).plusNanos(1))).hasToString("every 1.000001 ms");
    assertThat(every(Duration.ofSeconds(2)).hertz()).isEqualTo(0.5);
  }

  @Test
  void perMinute_six_everyTenSeconds() {
    assertThat(perMinute(6).interval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(perMinute(6)).hasToString("6 per minute");
  }

  @Test
  void equals_sameIntervalWrittenTwoWays_equalWithSameHash() {
    assertThat(hz(2)).isEqualTo(every(Duration.ofMillis(500)));
    assertThat(hz(2).hashCode()).isEqualTo(every(Duration.ofMillis(500)).hashCode());
    assertThat(perMinute(6)).isEqualTo(hz(0.1));
    assertThat(hz(2)).isNotEqualTo(hz(3)).isNotEqualTo(Duration.ofMillis(500));
  }

  @Test
  void factories_badValues_rejectedWithParameterAndValue() {
    assertThatThrownBy(() -> hz(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("hz <= 0: 0.0");
    assertThatThrownBy(() -> hz(-5)).hasMessage("hz <= 0: -5.0");
    assertThatThrownBy(() -> hz(Double.NaN)).hasMessage("hz is not finite: NaN");
    assertThatThrownBy(() -> hz(Double.POSITIVE_INFINITY)).hasMessage("hz is not finite: Infinity");
    assertThatThrownBy(() -> hz(2e9))
        .hasMessage("hz is too high (interval under 1 ns, above 1e9 Hz): 2.0E9");
    assertThatThrownBy(() -> hz(Double.MIN_VALUE))
        .hasMessage("hz is too low (interval over 292 years): 4.9E-324");
    assertThatThrownBy(() -> perMinute(-1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("perMinute <= 0: -1.0");
    assertThatThrownBy(() -> every(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("interval <= 0: PT0S");
    assertThatThrownBy(() -> every(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("interval == null");
  }

  @Test
  void schedule_hz2AndEvery2s_runTwiceASecondAndOnceEveryTwoSeconds() {
    Loop loop = Loop.builder().virtualTime().build();
    AtomicInteger fast = new AtomicInteger();
    AtomicInteger slow = new AtomicInteger();
    ScheduledTask a = loop.schedule(hz(2), fast::incrementAndGet);
    ScheduledTask b = loop.schedule("slow", every(Duration.ofSeconds(2)), slow::incrementAndGet);
    loop.runLater(Duration.ofSeconds(10), () -> {
      a.stop();
      b.stop();
    });

    loop.run();

    // The stop at 10 s was set first, so it comes before the runs due then.
    assertThat(fast).as("at 0, 0.5, ..., 9.5 s").hasValue(20);
    assertThat(slow).as("at 0, 2, ..., 8 s").hasValue(5);
    assertThat(a.rate()).isEqualTo(hz(2));
    assertThat(b).hasToString("ScheduledTask[slow, every 2 s, stopped]");
  }

  @Test
  void scheduleLaterAndChangeRate_rate_firstRunAfterOneIntervalThenNewRate() {
    Loop loop = Loop.builder().virtualTime().build();
    List<Long> at = new ArrayList<>();
    ScheduledTask[] s = new ScheduledTask[1];
    s[0] = loop.scheduleLater(hz(10), () -> {
      at.add(Duration.ofNanos(loop.nanoTime()).toMillis());
      if (at.size() == 1) {
        s[0].changeRate(perMinute(600)); // 10 Hz as well, written another way: same grid
      } else if (at.size() == 2) {
        s[0].changeRate(every(Duration.ofMillis(250)));
      } else {
        s[0].stop();
      }
    });

    loop.run();

    assertThat(at).containsExactly(100L, 200L, 450L);
    assertThat(s[0].rate()).hasToString("every 250 ms");
    assertThat(s[0].interval()).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void schedule_numberWithoutUnit_doesNotCompile() {
    // schedule(2, body) compiled once and meant 2 Hz; whoever meant "every 2 s" found out from the
    // run count. With no overload taking a bare number, such a call site no longer compiles, so
    // no old program silently changes meaning.
    Set<String> rateMethods = Set.of("schedule", "scheduleLater", "changeRate");
    List<String> numeric = new ArrayList<>();
    for (Class<?> c : List.of(Loop.class, Tasko.class, ScheduledTask.class)) {
      for (Method m : c.getMethods()) {
        if (Modifier.isPublic(m.getModifiers()) && rateMethods.contains(m.getName())) {
          for (Class<?> p : m.getParameterTypes()) {
            if (p.isPrimitive() || Number.class.isAssignableFrom(p)) {
              numeric.add(m.toString());
            }
          }
        }
      }
    }
    assertThat(numeric).isEmpty();
  }
}
