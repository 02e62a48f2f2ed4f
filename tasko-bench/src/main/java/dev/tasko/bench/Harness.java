package dev.tasko.bench;

import dev.tasko.IdleStrategy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The timing harness: real-time workloads for tasko beside its peers, printed as a human table and
 * as machine lines {@code <impl>.<workload> <metric> <value> <unit>} (the Python peers print the
 * same shape).
 *
 * <pre>
 * Harness [workload...] [--seconds S] [--settle S] [--warm-up N] [--together] [--tasks N]
 *         [--rounds R] [--slack US] [--thread-times] [--smoke] [--peers] [--tasko-src DIR]
 *         [--python python3] [--in-process]
 *
 * workloads: accuracy idle scale switch, or all (the default)
 *   accuracy  the original tasko's 96 jobs (job i at 3(i+1)+5 Hz) for S s (default 10): tasko
 *             low-power (also with US µs of slack, default 150), tasko precise, the same with
 *             callback schedules, a bare timer thread that parks until each deadline (and one
 *             that spins through waits under 20 µs, as tasko's driver does), a bare timer
 *             thread that hands each run to its job's own virtual thread, one at a time (what
 *             task schedules do, with no library on top), a virtual thread per job that parks
 *             until each run, and a 1-thread ScheduledThreadPoolExecutor (see Accuracy)
 *   idle      one job at 1 Hz for S s (default 10) after a settle (see --settle): tasko (a
 *             schedule, and a callback schedule), the executor, and a platform thread that only
 *             sleeps (see Idle)
 *   scale     N tasks (default 100,000) sleeping once 0–1 s: tasko, plain virtual threads run one
 *             at a time by a bare baton (see SerialSleepers), and plain virtual threads
 *   switch    100 tasks yielding in turn, R rounds (default 5) over S s (default 5): tasko and the
 *             virtual-thread baton; wall time and process CPU per switch, and the process's
 *             context switches per 1,000 switches (see SwitchLoop)
 * --settle S  idle: seconds at the job's rate before the measured window (default 1; 0.1 with
 *             --smoke, where the job runs at 10 Hz). At 1 Hz, a few hundred still leave much of
 *             each implementation's path interpreted or compiled with profiling; --warm-up
 *             compiles it fully. accuracy: first runs the scenario for S s in the same JVM, its
 *             figures dropped (default 0: the JIT's work counts, as in every figure published
 *             before), so that the window shows the steady state. With both workloads, it
 *             applies to both. The JVM implementations only: peers.py measures from its start
 * --warm-up N idle: first runs the same measurement with the job at 1 kHz for N runs (default
 *             0), its figures dropped, so that the JIT compiles each implementation's path fully
 *             (a method is compiled with profiling after a few hundred calls and fully after
 *             5,000 or more: at 1 Hz, part of tasko's path was not yet fully compiled after 100
 *             minutes). The JVM implementations only
 * --together  idle only (other workloads run one implementation at a time as usual): the JVM
 *             implementations all at once, each in its own JVM, started a quarter of the job's
 *             interval apart, so that a quiet or busy spell of the host falls on all of them. Give
 *             it a settle of a few seconds, so that no window holds another JVM's start. The
 *             first JVM that fails stops the others. peers.py, with --peers, runs after them
 * --thread-times  accuracy: print with each stall the threads of the JVM that ran, and that
 *             waited for a processor, just before it (read from /proc eight times a second by a
 *             thread of the harness, whose own CPU is left out of each implementation's: a
 *             diagnostic all the same, since the readings share the processors, which costs each
 *             implementation lateness and CPU); the host's steal time is reported with each stall
 *             always
 * --smoke     about a second per workload and tiny sizes (CI)
 * --peers     also runs tasko-bench/peers/peers.py for the same workloads: asyncio, and the
 *             original tasko when --tasko-src DIR is given
 * --in-process  runs everything in this JVM (by default each implementation of each workload runs
 *             in a fresh JVM of its own, so JIT, GC and heap state do not leak between them)
 * </pre>
 *
 * <p>Run: {@code mvn -q -B -pl tasko-bench -am install -DskipTests && mvn -q -B -pl tasko-bench
 * validate exec:exec -Dbench.args="all --peers --tasko-src ../tasko"} (the original tasko, from
 * {@code git clone https://github.com/WarriorOfWire/tasko ../tasko}), or with the shaded
 * jar: {@code java -cp tasko-bench/target/benchmarks.jar dev.tasko.bench.Harness all --peers}.
 */
public final class Harness {
  static final List<String> WORKLOADS = List.of("accuracy", "idle", "scale", "switch");
  /** The implementations of each workload; the last one named is the JDK peer ratios refer to. */
  static final Map<String, List<String>> IMPLS = Map.of(
      "accuracy", List.of("tasko-java", "tasko-java-slack", "tasko-java-precise",
          "tasko-java-callback", "tasko-java-callback-slack", "timer-thread",
          "timer-thread-spin", "vthreads-handoff", "vthreads", "stpe"),
      "idle", List.of("tasko-java", "tasko-java-callback", "stpe", "jvm-sleep"),
      "scale", List.of("tasko-java", "vthreads-serial", "vthreads"),
      "switch", List.of("tasko-java", "vthreads"));
  static final Map<String, String> REFERENCE = Map.of(
      "accuracy", "stpe", "idle", "stpe", "scale", "vthreads", "switch", "vthreads");

  /** Parsed command line. */
  static final class Options {
    final Set<String> workloads = new LinkedHashSet<>();
    Double seconds;
    Double settle;
    int warmUp;
    Integer tasks;
    int rounds = 5;
    boolean smoke;
    boolean peers;
    boolean inProcess;
    boolean together;
    String impl; // set in a child JVM: run only this implementation
    String taskoSrc;
    String python = "python3";
    /** The slack of the "-slack" accuracy runs: lower CPU for a bounded lateness. */
    long slackMicros = 150;
    /** accuracy: each grid reset also lists the threads that ran or waited around it. */
    boolean threadTimes;

    static Options parse(String... args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "--seconds" -> o.seconds = Double.parseDouble(args[++i]);
          case "--settle" -> o.settle = Double.parseDouble(args[++i]);
          case "--warm-up" -> o.warmUp = Integer.parseInt(args[++i].replace("_", ""));
          case "--tasks" -> o.tasks = Integer.parseInt(args[++i].replace("_", "").replace(",", ""));
          case "--rounds" -> o.rounds = Integer.parseInt(args[++i]);
          case "--slack" -> o.slackMicros = Long.parseLong(args[++i]);
          case "--smoke" -> o.smoke = true;
          case "--thread-times" -> o.threadTimes = true;
          case "--peers" -> o.peers = true;
          case "--in-process" -> o.inProcess = true;
          case "--together" -> o.together = true;
          case "--impl" -> o.impl = args[++i];
          case "--tasko-src" -> {
            o.taskoSrc = args[++i];
            o.peers = true;
          }
          case "--python" -> o.python = args[++i];
          case "all" -> o.workloads.addAll(WORKLOADS);
          default -> {
            if (!WORKLOADS.contains(a)) {
              throw new IllegalArgumentException("unknown argument: " + a + "; workloads: "
                  + WORKLOADS);
            }
            o.workloads.add(a);
          }
        }
      }
      if (o.workloads.isEmpty()) {
        o.workloads.addAll(WORKLOADS);
      }
      if (o.slackMicros < 0) {
        throw new IllegalArgumentException("slack < 0: " + o.slackMicros);
      }
      if (o.settle != null && !(o.settle >= 0 && Double.isFinite(o.settle))) {
        throw new IllegalArgumentException("settle not a finite number of seconds >= 0: "
            + o.settle);
      }
      if (o.warmUp < 0) {
        throw new IllegalArgumentException("warm-up < 0: " + o.warmUp);
      }
      if (o.together && o.inProcess) {
        throw new IllegalArgumentException("--together runs each implementation in a JVM of its "
            + "own: not with --in-process");
      }
      if (o.rounds < 1) {
        throw new IllegalArgumentException("rounds < 1: " + o.rounds);
      }
      return o;
    }

    double seconds(String workload) {
      if (seconds != null) {
        return seconds;
      }
      if (smoke) {
        return workload.equals("idle") ? 0.5 : 1.0;
      }
      return workload.equals("switch") ? 5.0 : 10.0;
    }

    /** Idle's job rate: 1 Hz, or 10 Hz in a smoke run, so that half a second still sees runs. */
    double idleHz() {
      return smoke ? 10 : 1;
    }

    /** Idle's settle before its window: 1 s, or 0.1 s in a smoke run, unless set (see runOne). */
    double settle() {
      return settle != null ? settle : smoke ? 0.1 : 1.0;
    }

    int tasks() {
      return tasks != null ? tasks : smoke ? 2_000 : 100_000;
    }

    /** The arguments that reproduce these options in a child JVM. */
    List<String> forward() {
      List<String> a = new ArrayList<>();
      if (seconds != null) {
        a.addAll(List.of("--seconds", Double.toString(seconds)));
      }
      if (settle != null) {
        a.addAll(List.of("--settle", Double.toString(settle)));
      }
      if (warmUp != 0) {
        a.addAll(List.of("--warm-up", Integer.toString(warmUp)));
      }
      if (tasks != null) {
        a.addAll(List.of("--tasks", Integer.toString(tasks)));
      }
      a.addAll(List.of("--rounds", Integer.toString(rounds)));
      a.addAll(List.of("--slack", Long.toString(slackMicros)));
      if (smoke) {
        a.add("--smoke");
      }
      if (threadTimes) {
        a.add("--thread-times");
      }
      return a;
    }
  }


  private Harness() {}

  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = Options.parse(args);
    } catch (RuntimeException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    List<Result> all = run(o, System.out);
    if (o.impl == null) {
      summary(all, System.out);
    }
  }

  /** Runs the workloads the options name, printing as it goes; returns every result, peers' too. */
  static List<Result> run(Options o, PrintStream out) throws Exception {
    List<Result> all = new ArrayList<>();
    for (String w : o.workloads) {
      List<Result> results = o.together && w.equals("idle") && o.impl == null
          ? forkTogether(w, o, out) : oneByOne(w, o, out);
      if (o.peers) {
        results.addAll(peers(w, o, out));
      }
      if (o.impl == null) {
        table(w, results, out);
      }
      for (Result r : results) {
        if (o.impl != null || !r.impl().startsWith("asyncio") && !r.impl().startsWith("tasko-py")) {
          out.println(r.line()); // peers' lines were echoed as they came
        }
      }
      out.flush();
      all.addAll(results);
    }
    return all;
  }

  /** Runs each implementation of {@code workload} (or only {@code --impl}'s), one after another. */
  private static List<Result> oneByOne(String workload, Options o, PrintStream out)
      throws Exception {
    List<Result> results = new ArrayList<>();
    for (String impl : IMPLS.get(workload)) {
      if (o.impl != null && !o.impl.equals(impl)) {
        continue;
      }
      if (o.inProcess || o.impl != null) {
        results.addAll(runOne(workload, impl, o));
      } else {
        results.addAll(fork(workload, impl, o, out));
      }
    }
    return results;
  }

  /** Runs one implementation of one workload in this JVM. */
  static List<Result> runOne(String workload, String impl, Options o) throws Exception {
    if (workload.equals("accuracy") && o.settle != null && o.settle > 0) {
      // The JIT's work on the implementation's path falls in a run of its own: what is left is
      // the steady state of a program that runs for hours.
      System.out.println(impl + ": warm-up of " + o.settle + " s, its figures dropped");
      measure(workload, impl, o, o.settle);
      System.out.println(impl + ": warm-up over");
    }
    return measure(workload, impl, o, o.seconds(workload));
  }

  /** Measures one implementation of one workload in this JVM, over {@code s} seconds. */
  private static List<Result> measure(String workload, String impl, Options o, double s)
      throws Exception {
    IdleStrategy slack = IdleStrategy.lowPower(java.time.Duration.ofNanos(o.slackMicros * 1000));
    boolean tt = o.threadTimes;
    return switch (workload + "/" + impl) {
      case "accuracy/tasko-java" -> Accuracy.tasko(impl, IdleStrategy.lowPower(), s, false, tt);
      case "accuracy/tasko-java-slack" -> Accuracy.tasko(impl, slack, s, false, tt);
      case "accuracy/tasko-java-precise" ->
          Accuracy.tasko(impl, IdleStrategy.precise(), s, false, tt);
      case "accuracy/tasko-java-callback" ->
          Accuracy.tasko(impl, IdleStrategy.lowPower(), s, /* callbacks= */ true, tt);
      case "accuracy/tasko-java-callback-slack" ->
          Accuracy.tasko(impl, slack, s, /* callbacks= */ true, tt);
      case "accuracy/timer-thread" -> Accuracy.timerThread(impl, s, 0, tt);
      case "accuracy/timer-thread-spin" ->
          Accuracy.timerThread(impl, s, Accuracy.DRIVER_SHORT_WAIT_NANOS, tt);
      case "accuracy/vthreads-handoff" -> Accuracy.handoff(impl, s, tt);
      case "accuracy/vthreads" -> Accuracy.virtualThreads(impl, s, tt);
      case "accuracy/stpe" -> Accuracy.executor(s, tt);
      case "idle/tasko-java" -> idle(impl, o, Idle::tasko);
      case "idle/tasko-java-callback" ->
          idle(impl, o, (hz, skip, seconds) -> Idle.tasko(hz, skip, seconds, /* callback= */ true));
      case "idle/stpe" -> idle(impl, o, Idle::executor);
      case "idle/jvm-sleep" -> idle(impl, o, Idle::sleeper);
      case "scale/tasko-java" -> Scale.tasko(o.tasks());
      case "scale/vthreads" -> Scale.virtualThreads(o.tasks());
      case "scale/vthreads-serial" -> Scale.serialVirtualThreads(o.tasks());
      case "switch/tasko-java" -> SwitchLoop.tasko(s, o.rounds);
      case "switch/vthreads" -> SwitchLoop.baton(s, o.rounds);
      default -> throw new IllegalArgumentException("no implementation " + impl + " of "
          + workload);
    };
  }

  /** One idle measurement, after its warm-up if asked for. */
  private static List<Result> idle(String impl, Options o, Idle.Job job) throws Exception {
    Result warmUp = o.warmUp == 0 ? new Result(impl, "idle", "warm_up_runs", 0, "runs")
        : Idle.warmUp(impl, o.warmUp, job);
    List<Result> results = new ArrayList<>(job.run(o.idleHz(), o.settle(), o.seconds("idle")));
    results.add(0, warmUp);
    return results;
  }

  /** Runs one implementation of one workload in a fresh JVM with this JVM's options. */
  private static List<Result> fork(String workload, String impl, Options o, PrintStream out)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Harness.class.getName(),
        workload, "--impl", impl));
    cmd.addAll(o.forward());
    return collect(cmd, out, false);
  }

  /**
   * Forks every implementation of {@code workload} at once (see --together), each started a
   * quarter of the idle job's interval after the one before; returns their results in order.
   */
  private static List<Result> forkTogether(String workload, Options o, PrintStream out)
      throws Exception {
    List<String> impls = IMPLS.get(workload);
    long staggerMillis = Math.round(1000.0 / o.idleHz() / impls.size());
    List<Callable<List<Result>>> runs = new ArrayList<>();
    for (String impl : impls) {
      runs.add(() -> fork(workload, impl, o, out));
    }
    // The child JVMs are this JVM's only child processes.
    return together(runs, staggerMillis,
        () -> ProcessHandle.current().children().forEach(ProcessHandle::destroy));
  }

  /**
   * Starts each of {@code runs} on a thread of its own, {@code staggerMillis} after the one
   * before, and returns their results in order. The first that fails ends them all: {@code
   * stopOthers} is called (it must make the others return, as destroying their processes does),
   * and its error is thrown once they have; the others' windows would measure nothing that could
   * be compared.
   */
  static List<Result> together(List<Callable<List<Result>>> runs, long staggerMillis,
      Runnable stopOthers) throws Exception {
    List<Future<List<Result>>> started = new ArrayList<>();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      CompletionService<List<Result>> done = new ExecutorCompletionService<>(threads);
      int ended = 0;
      for (Callable<List<Result>> run : runs) {
        if (!started.isEmpty()) {
          Thread.sleep(staggerMillis);
        }
        started.add(done.submit(run));
        Future<List<Result>> early = done.poll(); // one may have ended while the others started
        if (early != null) {
          ended++;
          failed(early, stopOthers);
        }
      }
      for (; ended < runs.size(); ended++) {
        failed(done.take(), stopOthers);
      }
    }
    List<Result> results = new ArrayList<>();
    for (Future<List<Result>> run : started) {
      results.addAll(run.resultNow());
    }
    return results;
  }

  /** If {@code run} failed, stops the others and throws its error; else does nothing. */
  private static void failed(Future<List<Result>> run, Runnable stopOthers) throws Exception {
    if (run.state() == Future.State.FAILED) {
      stopOthers.run();
      throw run.exceptionNow() instanceof Exception x ? x : new ExecutionException(
          run.exceptionNow());
    }
  }

  /** Runs peers.py for one workload: asyncio always, the original tasko with --tasko-src. */
  private static List<Result> peers(String workload, Options o, PrintStream out)
      throws IOException, InterruptedException {
    Path script = peersScript();
    List<Result> results = new ArrayList<>();
    List<String> impls = new ArrayList<>(List.of("asyncio"));
    if (o.taskoSrc != null) {
      impls.add("tasko");
    }
    for (String impl : impls) {
      List<String> cmd = new ArrayList<>(List.of(o.python, script.toString(), "--workload",
          workload, "--impl", impl));
      if (o.smoke) {
        cmd.add("--smoke");
      }
      if (o.seconds != null) {
        cmd.addAll(List.of("--seconds", Double.toString(o.seconds)));
      }
      if (workload.equals("switch")) {
        cmd.addAll(List.of("--rounds", Integer.toString(o.rounds)));
      }
      // The original tasko's scale is quadratic: it keeps its own default N unless asked.
      if (workload.equals("scale") && (impl.equals("asyncio") || o.tasks != null) && !o.smoke) {
        cmd.addAll(List.of("--tasks", Integer.toString(o.tasks())));
      }
      if (impl.equals("tasko")) {
        cmd.addAll(List.of("--tasko-src", o.taskoSrc));
      }
      results.addAll(collect(cmd, out, true));
    }
    return results;
  }

  static Path peersScript() {
    for (String p : List.of("tasko-bench/peers/peers.py", "peers/peers.py",
        "../tasko-bench/peers/peers.py")) {
      Path path = Path.of(p);
      if (Files.isRegularFile(path)) {
        return path.toAbsolutePath();
      }
    }
    throw new IllegalStateException("peers.py not found from " + Path.of("").toAbsolutePath()
        + "; run from the repository root or tasko-bench/");
  }

  /**
   * Runs a command, echoing its output (indented, except machine lines when asked), and parses it.
   */
  private static List<Result> collect(List<String> cmd, PrintStream out, boolean echoMachineLines)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    Process p = pb.start();
    List<Result> results = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        var parsed = Result.parse(line);
        parsed.ifPresent(results::add);
        if (parsed.isEmpty() || echoMachineLines) {
          out.println(parsed.isEmpty() ? "  | " + line : line);
        }
      }
    }
    int exit = p.waitFor();
    if (exit != 0) {
      throw new UncheckedIOException(
          new IOException("exit " + exit + " from " + String.join(" ", cmd)));
    }
    return results;
  }

  /** The human table of one workload: metrics down, implementations across. */
  static void table(String workload, List<Result> results, PrintStream out) {
    Map<String, Map<String, Result>> byMetric = new LinkedHashMap<>();
    Set<String> impls = new LinkedHashSet<>();
    for (Result r : results) {
      impls.add(r.impl());
      byMetric.computeIfAbsent(r.metric() + " (" + r.unit() + ")", k -> new LinkedHashMap<>())
          .put(r.impl(), r);
    }
    out.println("== " + workload);
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "   %-38s", "metric"));
    for (String i : impls) {
      head.append(String.format(Locale.ROOT, " %18s", i));
    }
    out.println(head);
    for (var e : byMetric.entrySet()) {
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "   %-38s", e.getKey()));
      for (String i : impls) {
        Result r = e.getValue().get(i);
        row.append(String.format(Locale.ROOT, " %18s", r == null ? "-" : Result.format(r.value())));
      }
      out.println(row);
    }
  }

  /** Every tasko-java figure as a ratio to the JDK peer's figure measured in the same run. */
  private static final Map<String, Double> SECONDS_PER_UNIT = Map.of("s", 1.0, "ms", 1e-3, "us",
      1e-6, "ns", 1e-9);

  /** {@code value} in {@code from} units, converted to {@code to}; NaN if they do not convert. */
  static double inUnit(double value, String from, String to) {
    if (from.equals(to)) {
      return value;
    }
    Double f = SECONDS_PER_UNIT.get(from);
    Double t = SECONDS_PER_UNIT.get(to);
    return f == null || t == null ? Double.NaN : value * f / t;
  }

  static void summary(List<Result> all, PrintStream out) {
    out.println("== ratios: tasko-java / peer, same run");
    Map<String, Result> index = new LinkedHashMap<>();
    for (Result r : all) {
      index.put(r.name() + " " + r.metric(), r);
    }
    for (Result r : all) {
      if (!r.impl().startsWith("tasko-java")) {
        continue;
      }
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "   %-34s %12s %-5s",
          r.impl() + "." + r.workload() + " " + r.metric(), Result.format(r.value()), r.unit()));
      for (String peer : List.of(REFERENCE.get(r.workload()), "jvm-sleep", "asyncio", "tasko-py")) {
        Result p = index.get(peer + "." + r.workload() + " " + r.metric());
        double peerValue = p == null ? Double.NaN : inUnit(p.value(), p.unit(), r.unit());
        if (!Double.isNaN(peerValue) && peerValue != 0) {
          row.append(String.format(Locale.ROOT, "  %s %.3gx", peer, r.value() / peerValue));
        }
      }
      out.println(row);
    }
  }
}
