package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Runs every JMH benchmark method once, directly (no JMH fork), with small sizes, so that the
 * benchmarks keep compiling and doing the work they claim. No timing is asserted.
 */
class BenchmarkSmokeTest {

  @Test
  void switchBenchmark_eachMethod_switchesAsManyTimesAsCounted() throws Exception {
    SwitchBenchmark b = new SwitchBenchmark();
    for (int tasks : new int[] {2, 100}) {
      b.tasks = tasks;
      assertThat(b.taskoYield()).isGreaterThanOrEqualTo(SwitchBenchmark.SWITCHES);
      assertThat(b.virtualThreadBaton()).isEqualTo(SwitchBenchmark.SWITCHES);
    }
  }

  @Test
  void switchBenchmark_withTimelineAndFlightRecording_switchesAsManyTimesAsCounted()
      throws Exception {
    SwitchBenchmark b = new SwitchBenchmark();
    b.tasks = 2;
    assertThat(b.taskoYieldTimeline()).isGreaterThanOrEqualTo(SwitchBenchmark.SWITCHES);
    SwitchBenchmark.FlightRecording recording = new SwitchBenchmark.FlightRecording();
    recording.start();
    try {
      assertThat(b.taskoYieldJfr(recording)).isGreaterThanOrEqualTo(SwitchBenchmark.SWITCHES);
    } finally {
      recording.stop();
    }
  }

  @Test
  void timerBenchmark_sleepWake_wakesTheCountedNumberOfSleepers() {
    TimerBenchmark b = new TimerBenchmark();
    b.sleepers = 1_000;
    b.setUp();
    long first = b.sleepWake();
    long second = b.sleepWake();
    b.tearDown();
    assertThat(first).isBetween((long) TimerBenchmark.WAKES, TimerBenchmark.WAKES + 1_000L);
    assertThat(second - first)
        .isBetween((long) TimerBenchmark.WAKES, TimerBenchmark.WAKES + 1_000L);
  }

  @Test
  void resourceBenchmark_eachMethod_usesTheResourceEveryTime() throws Exception {
    ResourceBenchmark b = new ResourceBenchmark();
    for (int tasks : new int[] {2, 16}) {
      b.tasks = tasks;
      assertThat(b.managedResource()).isEqualTo(ResourceBenchmark.ACQUISITIONS);
      assertThat(b.fairLockVirtualThreads()).isEqualTo(ResourceBenchmark.ACQUISITIONS);
    }
  }

  @Test
  void scheduleBenchmark_eachMethod_runsTheCountedNumberOfTimes() throws Exception {
    ScheduleBenchmark b = new ScheduleBenchmark();
    assertThat(b.taskoOneSchedule()).isEqualTo(ScheduleBenchmark.RUNS);
    assertThat(b.taskoRateTest()).isEqualTo(ScheduleBenchmark.RUNS);
    assertThat(b.executorPeer()).isEqualTo(ScheduleBenchmark.RUNS);
  }

  @Test
  void spawnBenchmark_eachMethod_runsEveryTask() throws Exception {
    SpawnBenchmark b = new SpawnBenchmark();
    assertThat(b.taskoSpawn()).isEqualTo(SpawnBenchmark.TASKS);
    assertThat(b.virtualThreadPeer()).isEqualTo(SpawnBenchmark.TASKS);
  }

  @Test
  void channelBenchmark_eachMethod_handsOverEveryElement() throws Exception {
    ChannelBenchmark b = new ChannelBenchmark();
    for (int capacity : new int[] {1, 64}) {
      b.capacity = capacity;
      assertThat(b.taskoChannel()).isEqualTo(ChannelBenchmark.expectedSum());
      assertThat(b.arrayBlockingQueueVirtualThreads()).isEqualTo(ChannelBenchmark.expectedSum());
    }
  }

  @Test
  void eventBenchmark_eachMethod_completesEveryRound() throws Exception {
    EventBenchmark b = new EventBenchmark();
    assertThat(b.taskoEvent()).isEqualTo(EventBenchmark.ROUNDS);
    assertThat(b.countDownLatchVirtualThreads()).isEqualTo(EventBenchmark.ROUNDS);
  }
}
