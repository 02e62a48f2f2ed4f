package dev.tasko.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.suppressed;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import org.junit.jupiter.api.extension.ParameterResolutionException;

import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

class TaskoExtensionTest {

  @Test
  void parameter_testCleansUp_passes() {
    Events tests = run(ExtensionSamples.Clean.class);

    tests.assertStatistics(stats -> stats.started(1).succeeded(1).failed(0));
  }

  @Test
  void parameter_scheduleLeftRunning_failsTheTestNamingIt() {
    Events tests = run(ExtensionSamples.LeavesScheduleRunning.class);

    tests.assertStatistics(stats -> stats.started(1).failed(1));
    tests.assertThatEvents().haveExactly(1, finishedWithFailure(instanceOf(AssertionError.class),
        message(m -> m.contains("loop 'blink' at PT3S")
            && m.contains("'blinker' (WAITING for a timer)"))));
  }

  @Test
  void registeredField_failureUnobserved_failsTheTestNamingTheTask() {
    Events tests = run(ExtensionSamples.FailureUnobserved.class);

    tests.assertStatistics(stats -> stats.started(1).failed(1));
    tests.assertThatEvents().haveExactly(1, test(finishedWithFailure(
        instanceOf(AssertionError.class),
        message(m -> m.contains(
            "'reader' threw java.lang.IllegalStateException: sensor unplugged")))));
  }

  @Test
  void parameter_lifecycleMethods_getTheTestsLoop() {
    ExtensionSamples.SharedWithLifecycleMethods.seenBefore = null;
    Events tests = run(ExtensionSamples.SharedWithLifecycleMethods.class);

    tests.assertStatistics(stats -> stats.started(1).succeeded(1));
    assertThat(ExtensionSamples.SharedWithLifecycleMethods.seenBefore)
        .isNotNull()
        .isSameAs(ExtensionSamples.SharedWithLifecycleMethods.seenInTest);
  }

  @Test
  void parameter_ofAConstructor_refusedSayingWhere() {
    Events tests = run(ExtensionSamples.LoopInConstructor.class);

    tests.assertStatistics(stats -> stats.failed(1));
    tests.assertThatEvents().haveExactly(1, finishedWithFailure(
        instanceOf(ParameterResolutionException.class),
        message(m -> m.contains("a TestLoop is made for each test"))));
  }

  @Test
  void timeoutOnAThreadOfItsOwn_reportedAndTheLoopCheckedNamingTheTask() {
    Events tests = assertTimeoutPreemptively(Duration.ofSeconds(60),
        () -> run(ExtensionSamples.TimesOutOnItsOwnThread.class)); // before: never returned

    tests.assertStatistics(stats -> stats.started(1).failed(1));
    tests.assertThatEvents().haveExactly(1, finishedWithFailure(
        instanceOf(java.util.concurrent.TimeoutException.class),
        suppressed(0, message(m -> m.contains("'spinner'")))));
  }

  private static Events run(Class<?> testClass) {
    return EngineTestKit.engine("junit-jupiter")
        .configurationParameter("junit.jupiter.conditions.deactivate",
            "org.junit.*DisabledCondition")
        .selectors(selectClass(testClass))
        .execute()
        .testEvents();
  }
}
