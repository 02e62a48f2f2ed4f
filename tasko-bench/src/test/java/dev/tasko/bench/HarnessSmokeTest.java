package dev.tasko.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Runs each harness workload once in smoke mode, in this JVM, and checks that its machine lines
 * parse and are sane: exact counts, every implementation present, no negative figures. Never
 * asserts how fast anything is.
 */
@Tag("realtime") // the workloads run on the real clock
class HarnessSmokeTest {

  private static Map<String, Result> run(String... args) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    List<Result> returned = Harness.run(Harness.Options.parse(args), out);
    String printed = bytes.toString(StandardCharsets.UTF_8);
    System.out.print(printed);
    List<Result> parsed =
        printed.lines().map(Result::parse).flatMap(java.util.Optional::stream).toList();
    assertThat(parsed).containsExactlyInAnyOrderElementsOf(
        returned.stream().map(r -> Result.parse(r.line()).orElseThrow()).toList());
    assertThat(parsed).allSatisfy(r -> assertThat(r.value()).isNotNegative().isFinite());
    return parsed.stream()
        .collect(Collectors.toMap(r -> r.name() + " " + r.metric(), Function.identity()));
  }

  private static double value(Map<String, Result> results, String key) {
    assertThat(results).containsKey(key);
    return results.get(key).value();
  }

  @Test
  void accuracy_smoke_noJobRunsMoreThanItsRate() throws Exception {
    Map<String, Result> r = run("accuracy", "--smoke", "--in-process");
    for (String impl : List.of("tasko-java", "tasko-java-slack", "tasko-java-precise",
        "tasko-java-callback", "tasko-java-callback-slack", "timer-thread", "timer-thread-spin",
        "vthreads-handoff", "vthreads", "stpe")) {
      String name = impl + ".accuracy ";
      // One second of job i at 3(i+1)+5 Hz: 14,448 runs in all. How close each implementation
      // comes is the benchmark's to measure, not this test's: on a loaded machine a scheduler
      // falls behind and skips runs. What holds on any machine: no job runs more than its rate
      // (at most one extra at the window's edge), and the percentiles are ordered.
      assertThat(value(r, name + "runs")).as(impl).isPositive().isLessThanOrEqualTo(14_448.0 + 96);
      assertThat(r).containsKey(name + "count_error_max");
      assertThat(value(r, name + "lateness_max"))
          .isGreaterThanOrEqualTo(value(r, name + "lateness_p99"));
      assertThat(value(r, name + "lateness_p99"))
          .isGreaterThanOrEqualTo(value(r, name + "lateness_p50"));
      if (Measure.hostStealNanos() >= 0) { // Linux: the hypervisor's share of the window
        // at most every processor's whole window, plus a tick at each end
        double most = value(r, name + "wall") * 1e3 * Runtime.getRuntime().availableProcessors();
        assertThat(value(r, name + "host_steal")).as(impl).isBetween(0.0, most + 20);
      }
    }
    assertThat(r).containsKey("tasko-java.accuracy core_skipped");
    assertThat(value(r, "tasko-java-callback.accuracy switches")).as("no thread switch").isZero();
  }

  @Test
  void idle_smoke_runsTheSteadyStateWindow() throws Exception {
    Map<String, Result> r = run("idle", "--smoke", "--in-process");
    for (String impl : List.of("tasko-java", "tasko-java-callback", "stpe", "jvm-sleep")) {
      // 10 Hz for half a second after the settle: five runs, one more at the window's edge. A
      // machine that stalls makes it fewer (a schedule skips the runs it missed): only the upper
      // bound holds on any machine.
      assertThat(value(r, impl + ".idle runs")).as(impl).isBetween(1.0, 6.0);
      assertThat(r).containsKey(impl + ".idle cpu_per_10s");
      assertThat(r).containsKey(impl + ".idle scheduler_thread_cpu");
      assertThat(value(r, impl + ".idle warm_up_runs")).as(impl).isZero();
    }
  }

  @Test
  void idle_withWarmUp_measuresAtOneKilohertzFirst() throws Exception {
    long start = System.nanoTime();
    Map<String, Result> r = run("idle", "--smoke", "--in-process", "--warm-up", "300");
    for (String impl : List.of("tasko-java", "tasko-java-callback", "stpe", "jvm-sleep")) {
      // 0.3 s at 1 kHz in ten rounds: about 300 runs, but a stall moves the count either way
      // (tasko skips runs it missed, the executor and the sleeper make them up), so only > 0
      assertThat(value(r, impl + ".idle warm_up_runs")).as(impl).isPositive();
      // then the job's own rate: 10 Hz for half a second after the settle (at most six runs)
      assertThat(value(r, impl + ".idle runs")).as(impl).isBetween(1.0, 6.0);
    }
    // A lower bound only: each of the four waits out 300 runs at 1 kHz (0.3 s, less 1% that a
    // window may end early), its settle and its window; without the warm-up they take about 2.4 s.
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(3_400_000_000L);
  }

  @Test
  void idle_withSettle_waitsItOutBeforeTheWindow() throws Exception {
    long start = System.nanoTime();
    Map<String, Result> r = run("idle", "--smoke", "--in-process", "--impl", "jvm-sleep",
        "--settle", "0.8", "--seconds", "0.3");
    // A lower bound only, which no machine can break: the settle and the window are waited out on
    // the real clock (with the smoke default of 0.1 s, this run would take about 0.4 s).
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(1_000_000_000L);
    // 10 Hz: three runs in the window, one more at its edge; fewer if the machine stalls.
    assertThat(value(r, "jvm-sleep.idle runs")).isBetween(1.0, 4.0);
  }

  @Test
  void idle_together_runsEveryImplementationInItsOwnJvmAtOnce() throws Exception {
    long start = System.nanoTime();
    Map<String, Result> r = run("idle", "--smoke", "--together", "--settle", "1",
        "--seconds", "1.5");
    for (String impl : List.of("tasko-java", "tasko-java-callback", "stpe", "jvm-sleep")) {
      // 10 Hz for 1.5 s: fifteen runs, one more at the window's edge; four JVMs starting at once
      // on a small machine may stall one, and then it counts fewer.
      assertThat(value(r, impl + ".idle runs")).as(impl).isBetween(1.0, 16.0);
    }
    // One after another, the four settles and windows alone take 10 s, however fast the machine:
    // far less means they ran at once (together: 2.5 s, a 75 ms stagger and the JVMs' starts).
    assertThat(System.nanoTime() - start).isLessThan(10_000_000_000L);
  }

  @Test
  void options_warmUp_forwardedToChildJvmsAndNegativeRefused() {
    assertThat(Harness.Options.parse("idle", "--warm-up", "10_000").forward())
        .containsSubsequence("--warm-up", "10000");
    assertThat(Harness.Options.parse("idle").forward()).doesNotContain("--warm-up");
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> Harness.Options.parse("idle", "--warm-up", "-1"))
        .withMessage("warm-up < 0: -1");
  }

  @Test
  void options_threadTimes_forwardedToChildJvms() {
    assertThat(Harness.Options.parse("accuracy", "--thread-times").forward())
        .contains("--thread-times");
    assertThat(Harness.Options.parse("accuracy").forward()).doesNotContain("--thread-times");
  }

  @Test
  void threadTimes_aRunningThread_listedWithItsName() throws Exception {
    AtomicReference<Map<Integer, Measure.ThreadTimes>> read = new AtomicReference<>();
    Thread probe = Thread.ofPlatform().name("times-probe").start(() -> {
      long spinUntil = System.nanoTime() + 5_000_000;
      while (System.nanoTime() < spinUntil) {
        Thread.onSpinWait(); // some time run, so that the reading is not zero
      }
      read.set(Measure.threadTimes());
    });
    probe.join();
    Map<Integer, Measure.ThreadTimes> times = read.get();
    if (Files.exists(Path.of("/proc/self/schedstat"))) { // a kernel that keeps scheduler stats
      assertThat(times.values()).anySatisfy(t -> {
        assertThat(t.name()).isEqualTo("times-probe");
        assertThat(t.runNanos()).isPositive();
        assertThat(t.waitNanos()).isNotNegative();
      });
    } else {
      assertThat(times).isEmpty();
    }
  }

  @Test
  void threadTimes_aThreadThatEnded_itsNameForgotten() throws Exception {
    AtomicReference<Map<Integer, Measure.ThreadTimes>> read = new AtomicReference<>();
    Thread probe = Thread.ofPlatform().name("times-ended").start(
        () -> read.set(Measure.threadTimes()));
    probe.join();
    int tid = read.get().entrySet().stream()
        .filter(e -> e.getValue().name().equals("times-ended"))
        .mapToInt(Map.Entry::getKey).findFirst().orElse(-1);
    if (!Files.exists(Path.of("/proc/self/schedstat"))) { // no scheduler stats: nothing read
      assertThat(tid).isEqualTo(-1);
      return;
    }
    assertThat(tid).as("the probe's own reading lists it").isPositive();
    assertThat(Measure.THREAD_NAMES).containsKey(tid);

    // join() returns once the Java thread has ended, which is before its native thread exits and
    // leaves /proc; reading before that would still, rightly, list it.
    Path entry = Path.of("/proc/self/task/" + tid);
    while (Files.exists(entry)) {
      Thread.onSpinWait();
    }
    Measure.threadTimes(); // the probe has exited: Linux may give its id to a new thread

    assertThat(Measure.THREAD_NAMES).doesNotContainKey(tid);
  }

  @Test
  void together_oneRunFails_theOthersAreStoppedAndItsErrorThrown() {
    CountDownLatch stopped = new CountDownLatch(1);
    List<String> log = new CopyOnWriteArrayList<>();
    Callable<List<Result>> measures = () -> { // half a minute, unless its process is destroyed
      log.add(stopped.await(30, TimeUnit.SECONDS) ? "stopped" : "ran to its end");
      throw new UncheckedIOException(new IOException("exit 143")); // as a destroyed child's
    };
    Callable<List<Result>> fails = () -> {
      throw new IllegalStateException("child failed");
    };
    Runnable stopOthers = () -> {
      log.add("stop the others");
      stopped.countDown();
    };

    assertTimeoutPreemptively(Duration.ofSeconds(20), () ->
        assertThatThrownBy(() -> Harness.together(List.of(measures, measures, fails), 1,
            stopOthers)).isInstanceOf(IllegalStateException.class).hasMessage("child failed"));

    // the old code waited for both to run to their end before it threw
    assertThat(log).containsExactly("stop the others", "stopped", "stopped");
  }

  @Test
  void together_allSucceed_resultsInTheOrderGivenNotTheOrderDone() throws Exception {
    CountDownLatch lastDone = new CountDownLatch(1);
    Callable<List<Result>> first = () -> {
      lastDone.await(); // ends after the last one
      return List.of(new Result("a", "idle", "runs", 1, "runs"));
    };
    Callable<List<Result>> second = () -> List.of(new Result("b", "idle", "runs", 2, "runs"));
    Callable<List<Result>> last = () -> {
      lastDone.countDown();
      return List.of(new Result("c", "idle", "runs", 3, "runs"));
    };

    List<Result> results = Harness.together(List.of(first, second, last), 1, () -> {});

    assertThat(results).extracting(Result::impl).containsExactly("a", "b", "c");
  }

  @Test
  void options_togetherWithInProcess_refused() {
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> Harness.Options.parse("idle", "--together", "--in-process"))
        .withMessageContaining("--together");
  }

  @Test
  void accuracy_settle_warmUpRunFirstAndItsRunsNotCounted() throws Exception {
    PrintStream was = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    Map<String, Result> r;
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      r = run("accuracy", "--smoke", "--in-process", "--impl", "timer-thread", "--settle", "0.5");
    } finally {
      System.setOut(was);
    }
    assertThat(printed.toString(StandardCharsets.UTF_8)).contains(
        "timer-thread: warm-up of 0.5 s, its figures dropped", "timer-thread: warm-up over");
    // The window's figures, not the warm-up's: each job runs until a second has passed since its
    // first run (the warm-up's half second would read about 0.5 s), and no more than its rate.
    assertThat(value(r, "timer-thread.accuracy wall")).isGreaterThanOrEqualTo(1.0);
    assertThat(value(r, "timer-thread.accuracy runs")).isPositive()
        .isLessThanOrEqualTo(14_448.0 + 96);
  }

  @Test
  void options_settle_forwardedToChildJvmsAndNegativeRefused() {
    assertThat(Harness.Options.parse("idle", "--settle", "300").forward())
        .containsSubsequence("--settle", "300.0");
    assertThat(Harness.Options.parse("idle").settle()).isEqualTo(1.0);
    assertThat(Harness.Options.parse("idle", "--smoke").settle()).isEqualTo(0.1);
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> Harness.Options.parse("idle", "--settle", "-1"))
        .withMessage("settle not a finite number of seconds >= 0: -1.0");
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> Harness.Options.parse("idle", "--settle", "Infinity"))
        .withMessageContaining("Infinity");
  }

  @Test
  void scale_smoke_everyTaskSleepsAndFinishes() throws Exception {
    Map<String, Result> r = run("scale", "--smoke", "--in-process", "--tasks", "1000");
    for (String impl : List.of("tasko-java", "vthreads")) {
      assertThat(value(r, impl + ".scale tasks")).isEqualTo(1000);
      // The longest of the random 0–1 s sleeps bounds the total from below.
      assertThat(value(r, impl + ".scale total_time")).as(impl).isGreaterThan(0.9);
      assertThat(value(r, impl + ".scale create_time"))
          .isLessThan(value(r, impl + ".scale total_time"));
      assertThat(value(r, impl + ".scale bytes_per_task")).as(impl).isPositive();
      assertThat(value(r, impl + ".scale cpu")).as(impl).isPositive();
    }
    assertThat(value(r, "vthreads-serial.scale tasks")).isEqualTo(1000);
    assertThat(value(r, "vthreads-serial.scale total_time")).isGreaterThan(0.9);
    assertThat(value(r, "vthreads-serial.scale cpu")).isPositive();
  }

  /**
   * The Python for the asyncio peer: {@code python3} on the PATH, or {@code -Dbench.python=...}.
   * The peer needs Python 3.8+ and nothing else (tasko-bench/peers/README.md).
   */
  private static final String PYTHON = System.getProperty("bench.python", "python3");

  /** Whether {@code python} runs: without it the test that needs it skips itself, saying why. */
  private static boolean runs(String python) {
    try {
      Process p = new ProcessBuilder(python, "--version").redirectErrorStream(true).start();
      p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
      return p.waitFor() == 0;
    } catch (java.io.IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Test
  void switch_smoke_cpuAndContextSwitchesPerSwitchBesideTheTime() throws Exception {
    Map<String, Result> r = run("switch", "--smoke", "--in-process");
    for (String impl : List.of("tasko-java", "vthreads")) {
      assertThat(value(r, impl + ".switch switch_ns_median")).as(impl).isPositive();
      assertThat(value(r, impl + ".switch switch_cpu_ns_median")).as(impl).isPositive();
      if (Files.isDirectory(Path.of("/proc/self/task"))) {
        assertThat(value(r, impl + ".switch voluntary_switches_per_1000")).as(impl)
            .isGreaterThanOrEqualTo(0);
        assertThat(value(r, impl + ".switch involuntary_switches_per_1000")).as(impl)
            .isGreaterThanOrEqualTo(0);
      } else {
        assertThat(r).as(impl).doesNotContainKey(impl + ".switch voluntary_switches_per_1000");
      }
    }
  }

  @Test
  void switch_smokeWithPythonPeers_printsEveryImplementationSideBySide() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(runs(PYTHON), () -> "skipped: '" + PYTHON
        + "' does not run here, and the asyncio peer needs it (install Python 3.8+ to run this)");
    Map<String, Result> r = run("switch", "--smoke", "--in-process", "--peers", "--python", PYTHON);
    for (String impl : List.of("tasko-java", "vthreads", "asyncio")) {
      assertThat(value(r, impl + ".switch switch_ns_median")).as(impl).isPositive();
    }
  }

  @Test
  void machineLine_roundTrips() {
    Result r = new Result("tasko-java", "accuracy", "lateness_p99", 123.456, "us");
    assertThat(Result.parse(r.line())).contains(new Result("tasko-java", "accuracy", "lateness_p99",
        123.5, "us"));
    assertThat(Result.parse("   metric   tasko-java")).isEmpty();
    assertThat(Result.parse("== accuracy")).isEmpty();
  }

  @Test
  void inUnit_convertsTimesAndRefusesOtherUnits() {
    org.assertj.core.api.Assertions.assertThat(Harness.inUnit(0.002287, "s", "ms")).isCloseTo(2.287,
        org.assertj.core.api.Assertions.within(1e-9));
    org.assertj.core.api.Assertions.assertThat(Harness.inUnit(1500, "ns", "us")).isEqualTo(1.5);
    org.assertj.core.api.Assertions.assertThat(Harness.inUnit(7, "runs", "runs")).isEqualTo(7);
    org.assertj.core.api.Assertions.assertThat(Harness.inUnit(7, "bytes", "s")).isNaN();
  }
}
