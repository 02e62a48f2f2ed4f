package dev.tasko;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random programs of 2–20 tasks, drawn from every operation a task has — sleep, yield, acquire and
 * release on 1–3 resources (and forget to release), suspend and resume (from a task or from a
 * foreign thread), await with a timeout, join, cancel a random task (from a task or a foreign
 * thread), stop the loop, throw a RuntimeException or an Error, swallow a cancellation once,
 * stop/start/changeRate a schedule — and from the coordination toolkit: a timeout around a sleep,
 * a semaphore permit held for a while, a channel offered to (from a task or a foreign thread) and
 * polled with a timeout, an event set (from a task or a foreign thread) and awaited with a
 * timeout, a task group of sleeping children one of which may fail — run on virtual time and
 * checked against the loop's invariants:
 * <ul>
 *   <li>at most one holder per resource, and grants in FIFO order (cancelled waiters skipped);
 *   <li>no timer fires early (sleep, await with a timeout);
 *   <li>every task ends, or {@code run()} reports a deadlock naming every task still live;
 *   <li>every failure reaches the failure handler exactly once, or a joiner;
 *   <li>no finished task holds a lease: every resource ends free, every handle inactive;
 *   <li>the loop is usable after every exception {@code run()} throws, and at the end;
 *   <li>a timeout fires when its time has come and not before; never more permit holders than
 *       permits; a channel loses, duplicates or invents no element (every accepted offer is taken
 *       once or still queued, every refusal counted); an event wait returns true only once the
 *       event was set, and false not before its timeout; a task group's {@code close()} returns
 *       or throws only once every child has ended, and throws a child's failure.
 * </ul>
 * jqwik draws {@code jqwik.tries.default} programs per run (1,000, in junit-platform.properties),
 * from a new random seed each build; a failure prints its random seed and the shrunk program, and
 * the next run tries that program first. Everything runs on virtual time except the foreign
 * resumes, which race the loop: a seed replays the program, not always its interleaving. A long
 * run:
 * <pre>mvn -B -pl tasko-core verify -Djqwik.tries.default=100000 -Dtest=LoopPropertyTest</pre>
 */
class LoopPropertyTest {
  /** Resumes suspensions from outside the loop, as an interrupt listener would. */
  private static final ExecutorService FOREIGN = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "foreign-resumer");
    t.setDaemon(true);
    return t;
  });
  private static final Logger LOOP_LOG = Logger.getLogger(Loop.class.getName());
  private static Level previousLevel;

  @BeforeContainer
  static void quiet() {
    previousLevel = LOOP_LOG.getLevel();
    LOOP_LOG.setLevel(Level.OFF); // forgotten leases and swallowed cancels warn by design
  }

  @AfterContainer
  static void loud() {
    LOOP_LOG.setLevel(previousLevel);
  }

  // ---- The program model ----

  /** One step of a task's body. */
  sealed interface Op {}

  record Sleep(int ms) implements Op {}

  record Yield() implements Op {}

  /** Acquire, hold for {@code holdMs} (0: one yield), release. */
  record Use(int resource, int holdMs) implements Op {}

  /** Acquire and never release: the loop must close the lease when the task ends. */
  record Forget(int resource) implements Op {}

  /** Suspend until resumed, by a task of the loop after {@code delayMs}, or by a foreign thread. */
  record AwaitResume(boolean foreign, int delayMs) implements Op {}

  /** Suspend with a timeout; nobody resumes. */
  record AwaitTimeout(int ms) implements Op {}

  record Join(int target) implements Op {}

  record Cancel(int target) implements Op {}

  /** Cancel a task from a foreign thread. */
  record ForeignCancel(int target) implements Op {}

  /** Stop the loop: run() returns after the pass and is called again. */
  record StopLoop() implements Op {}

  record Throw(boolean error) implements Op {}

  /** Sleep, and swallow a cancellation there the first time this task meets one. */
  record SwallowCancel(int ms) implements Op {}

  record ScheduleControl(int schedule, String action, int ms) implements Op {}

  /** Sleep {@code sleepMs} inside {@code Tasko.withTimeout(timeoutMs)}. */
  record WithTimeout(int timeoutMs, int sleepMs) implements Op {}

  /** Take a permit of the program's semaphore, hold it {@code holdMs}, close it. */
  record UsePermit(int holdMs) implements Op {}

  /** Offer an element to the program's channel, from this task or a foreign thread. */
  record Offer(boolean foreign) implements Op {}

  /** Poll the program's channel with a timeout. */
  record Poll(int ms) implements Op {}

  /** Set the program's event, from this task or a foreign thread, or clear it. */
  record SetEvent(boolean foreign, boolean clear) implements Op {}

  /** Await the program's event with a timeout. */
  record AwaitEvent(int ms) implements Op {}

  /** A task group of sleeping children; the child at {@code failing}, if there is one, throws. */
  record Group(List<Integer> childMs, int failing) implements Op {}

  record Program(int resources, List<Integer> scheduleMs, boolean schedulesThrow,
      boolean stopOnFailure, List<List<Op>> tasks) {
    @Override
    public String toString() {
      StringBuilder b = new StringBuilder("Program[resources=" + resources + ", schedules(ms)="
          + scheduleMs + ", schedulesThrow=" + schedulesThrow + ", stopOnFailure=" + stopOnFailure);
      for (int i = 0; i < tasks.size(); i++) {
        b.append("\n  t").append(i).append(": ").append(tasks.get(i));
      }
      return b.append("]").toString();
    }
  }

  private static Arbitrary<Integer> ints(int min, int max) {
    return Arbitraries.integers().between(min, max);
  }

  @Provide
  Arbitrary<Program> programs() {
    Arbitrary<Op> op = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, ints(0, 50).map(Sleep::new)),
        net.jqwik.api.Tuple.of(3, Arbitraries.just(new Yield())),
        net.jqwik.api.Tuple.of(4, Combinators.combine(ints(0, 2), ints(0, 20)).as(Use::new)),
        net.jqwik.api.Tuple.of(1, ints(0, 2).map(Forget::new)),
        net.jqwik.api.Tuple.of(2, Combinators.combine(Arbitraries.of(true, false), ints(0, 30))
            .as(AwaitResume::new)),
        net.jqwik.api.Tuple.of(1, ints(0, 30).map(AwaitTimeout::new)),
        net.jqwik.api.Tuple.of(2, ints(0, 19).map(Join::new)),
        net.jqwik.api.Tuple.of(1, ints(0, 19).map(Cancel::new)),
        net.jqwik.api.Tuple.of(1, ints(0, 19).map(ForeignCancel::new)),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new StopLoop())),
        net.jqwik.api.Tuple.of(1, Arbitraries.of(true, false).map(Throw::new)),
        net.jqwik.api.Tuple.of(1, ints(1, 30).map(SwallowCancel::new)),
        net.jqwik.api.Tuple.of(1, Combinators.combine(ints(0, 1),
            Arbitraries.of("stop", "start", "rate"), ints(1, 50)).as(ScheduleControl::new)),
        net.jqwik.api.Tuple.of(2, Combinators.combine(ints(0, 40), ints(0, 40))
            .as(WithTimeout::new)),
        net.jqwik.api.Tuple.of(2, ints(0, 20).map(UsePermit::new)),
        net.jqwik.api.Tuple.of(2, Arbitraries.of(true, false).map(Offer::new)),
        net.jqwik.api.Tuple.of(2, ints(0, 30).map(Poll::new)),
        net.jqwik.api.Tuple.of(1, Combinators.combine(Arbitraries.of(true, false),
            Arbitraries.of(true, false)).as(SetEvent::new)),
        net.jqwik.api.Tuple.of(1, ints(0, 30).map(AwaitEvent::new)),
        net.jqwik.api.Tuple.of(1, Combinators.combine(ints(0, 30).list().ofMinSize(1).ofMaxSize(3),
            ints(-1, 2)).as(Group::new)));
    Arbitrary<List<Op>> body = op.list().ofMaxSize(8);
    return Combinators.combine(ints(1, 3), ints(1, 50).list().ofMaxSize(2),
        Arbitraries.of(true, false), Arbitraries.of(true, false),
        body.list().ofMinSize(2).ofMaxSize(20)).as(Program::new);
  }

  @Property
  void anyProgram_keepsTheLoopsInvariants(@ForAll("programs") Program program) throws Exception {
    Run run = new Run(program);
    run.execute();
    if (!run.violations.isEmpty()) {
      throw new AssertionError("invariants broken:\n  " + String.join("\n  ", run.violations));
    }
  }

  // ---- Running a program ----

  /** One program's loop, tasks and the record of what happened. Touched on the loop only. */
  static final class Run {
    private static final Duration HORIZON = Duration.ofSeconds(2);

    final Program p;
    final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    final Loop loop;
    final Task<?>[] tasks;
    final ResourceModel[] resources;
    final ScheduledTask[] schedules;
    final List<Handle<String>> handles = new ArrayList<>();
    /** How many times the handler got each failure (by identity). */
    final Map<Throwable, Integer> handled = Collections.synchronizedMap(new IdentityHashMap<>());
    final Set<Task<?>> observedByJoiner = Collections.newSetFromMap(new IdentityHashMap<>());
    final Map<Task<?>, Throwable> thrownBy = new IdentityHashMap<>();
    final List<Throwable> scheduleThrown = new ArrayList<>();
    /** Failures of children whose group's opener was cancelled: they go to the handler. */
    final List<Throwable> cancelledGroupFailures = new ArrayList<>();
    final boolean[] swallowed;
    boolean ending;
    // ---- the coordination toolkit's shared objects, and what the program did with them ----
    final Semaphore permits = Semaphore.create("permits", 2);
    int permitHolders;
    final Channel<Integer> channel = Channel.create("channel", 2);
    final java.util.concurrent.atomic.AtomicInteger offers =
        new java.util.concurrent.atomic.AtomicInteger();
    final Set<Integer> accepted = Collections.synchronizedSet(new java.util.HashSet<>());
    final java.util.concurrent.atomic.AtomicInteger refused =
        new java.util.concurrent.atomic.AtomicInteger();
    final List<Integer> taken = new ArrayList<>();
    final Event event = Event.create("event");
    volatile boolean eventEverSet;

    Run(Program p) {
      this.p = p;
      this.loop = Loop.builder().name("prop").virtualTime().failureHandler((task, failure) -> {
        handled.merge(failure, 1, Integer::sum);
        if (p.stopOnFailure()) {
          throw new TaskFailedException(task, failure);
        }
      }).build();
      this.resources = new ResourceModel[p.resources()];
      for (int r = 0; r < resources.length; r++) {
        resources[r] = new ResourceModel("r" + r, this);
      }
      this.schedules = new ScheduledTask[p.scheduleMs().size()];
      for (int k = 0; k < schedules.length; k++) {
        int[] runs = {0};
        schedules[k] = loop.schedule("s" + k, Duration.ofMillis(p.scheduleMs().get(k)), () -> {
          runs[0]++;
          if (p.schedulesThrow() && runs[0] % 7 == 3) {
            IllegalStateException e = new IllegalStateException("schedule run " + runs[0]);
            scheduleThrown.add(e);
            throw e;
          }
        });
      }
      this.swallowed = new boolean[p.tasks().size()];
      this.tasks = new Task<?>[p.tasks().size()];
      for (int i = 0; i < tasks.length; i++) {
        int me = i;
        tasks[i] = loop.addTask("t" + i, () -> body(me));
      }
      loop.runLater("ender", HORIZON, () -> {
        ending = true;
        for (ScheduledTask s : schedules) {
          s.cancel();
        }
      });
    }

    void violation(String what) {
      violations.add(what);
    }

    private void body(int me) throws Exception {
      for (Op op : p.tasks().get(me)) {
        step(me, op);
      }
    }

    private void step(int me, Op op) throws Exception {
      Task<?> self = tasks[me];
      switch (op) {
        case Sleep s -> sleepChecked(s.ms());
        case Yield y -> Tasko.yieldNow();
        case Use u -> {
          Lease<String> lease = resources[u.resource() % resources.length].acquire(self);
          try {
            if (u.holdMs() > 0) {
              sleepChecked(u.holdMs());
            } else {
              Tasko.yieldNow();
            }
          } finally {
            lease.close();
          }
        }
        case Forget f -> resources[f.resource() % resources.length].acquire(self);
        case AwaitResume a -> {
          Suspension s = Tasko.suspend("resume");
          if (a.foreign()) {
            FOREIGN.execute(s::resume);
          } else {
            loop.runLater(Duration.ofMillis(a.delayMs()), s::resume);
          }
          s.await();
        }
        case AwaitTimeout a -> {
          Suspension s = Tasko.suspend("nobody");
          long t0 = loop.nanoTime();
          if (s.await(Duration.ofMillis(a.ms()))) {
            violation(self.name() + ": await(timeout) returned true though nobody resumed");
          }
          long waited = loop.nanoTime() - t0;
          if (waited < Duration.ofMillis(a.ms()).toNanos()) {
            violation(self.name() + ": await(" + a.ms() + " ms) timed out early, after " + waited);
          }
        }
        case Join j -> {
          Task<?> target = tasks[j.target() % tasks.length];
          if (target == self) {
            Tasko.yieldNow();
            return;
          }
          try {
            target.join();
          } catch (TaskFailedException e) {
            observedByJoiner.add(target); // handled here, like a supervisor would
          } catch (CancellationException e) {
            if (self.isCancelled()) {
              throw e;
            }
          }
        }
        case Cancel c -> tasks[c.target() % tasks.length].cancel();
        case ForeignCancel c -> {
          Task<?> target = tasks[c.target() % tasks.length];
          FOREIGN.execute(target::cancel);
        }
        case StopLoop x -> loop.stop();
        case Throw t -> {
          if (t.error()) {
            AssertionError e = new AssertionError(self.name() + " throws an Error");
            thrownBy.put(self, e);
            throw e;
          }
          IllegalStateException e = new IllegalStateException(self.name() + " throws");
          thrownBy.put(self, e);
          throw e;
        }
        case SwallowCancel s -> {
          if (swallowed[me]) {
            sleepChecked(s.ms());
            return;
          }
          try {
            sleepChecked(s.ms());
          } catch (CancellationException e) {
            swallowed[me] = true; // and go on as if nothing happened
          }
        }
        case WithTimeout w -> withTimeout(w);
        case UsePermit u -> {
          try (Permit permit = permits.acquire()) {
            permitHolders++;
            if (permitHolders > 2) {
              violation(self.name() + ": " + permitHolders + " holders of 2 permits");
            }
            try {
              sleepChecked(u.holdMs());
            } finally {
              permitHolders--;
            }
          }
        }
        case Offer o -> {
          int element = offers.incrementAndGet();
          if (o.foreign()) {
            FOREIGN.execute(() -> offer(element));
          } else {
            offer(element);
          }
        }
        case Poll q -> {
          long t0 = loop.nanoTime();
          Integer got = channel.poll(Duration.ofMillis(q.ms()));
          if (got != null) {
            taken.add(got);
          } else if (loop.nanoTime() - t0 < Duration.ofMillis(q.ms()).toNanos()) {
            violation(self.name() + ": poll(" + q.ms() + " ms) gave up early");
          }
        }
        case SetEvent e -> {
          if (e.clear()) {
            event.clear();
          } else if (e.foreign()) {
            FOREIGN.execute(() -> {
              eventEverSet = true;
              event.set();
            });
          } else {
            eventEverSet = true;
            event.set();
          }
        }
        case AwaitEvent a -> {
          long t0 = loop.nanoTime();
          if (event.await(Duration.ofMillis(a.ms()))) {
            if (!eventEverSet) {
              violation(self.name() + ": event await returned true, but nobody set the event");
            }
          } else if (loop.nanoTime() - t0 < Duration.ofMillis(a.ms()).toNanos()) {
            violation(self.name() + ": event await(" + a.ms() + " ms) gave up early");
          }
        }
        case Group g -> group(g);
        case ScheduleControl c -> {
          if (schedules.length == 0 || ending) {
            Tasko.yieldNow();
            return;
          }
          ScheduledTask s = schedules[c.schedule() % schedules.length];
          switch (c.action()) {
            case "stop" -> s.stop();
            case "start" -> s.start();
            default -> s.changeRate(Duration.ofMillis(c.ms()));
          }
        }
      }
    }

    private void offer(int element) {
      if (channel.offer(element)) {
        accepted.add(element);
      } else {
        refused.incrementAndGet();
      }
    }

    private void withTimeout(WithTimeout w) {
      Task<?> self = Tasko.currentTask();
      long t0 = loop.nanoTime();
      try {
        Tasko.withTimeout(Duration.ofMillis(w.timeoutMs()), () -> {
          Tasko.sleep(Duration.ofMillis(w.sleepMs()));
        });
        if (w.sleepMs() > w.timeoutMs()) {
          violation(self.name() + ": a " + w.sleepMs() + " ms sleep finished inside a "
              + w.timeoutMs() + " ms timeout");
        }
      } catch (TimeoutException e) {
        long waited = loop.nanoTime() - t0;
        if (waited < Duration.ofMillis(w.timeoutMs()).toNanos()) {
          violation(self.name() + ": a " + w.timeoutMs() + " ms timeout fired after " + waited);
        }
        if (w.sleepMs() < w.timeoutMs()) {
          violation(self.name() + ": a " + w.sleepMs() + " ms sleep timed out at "
              + w.timeoutMs() + " ms");
        }
      }
    }

    private void group(Group g) {
      Task<?> self = Tasko.currentTask();
      List<Task<?>> children = new ArrayList<>();
      IllegalStateException boom = null;
      try (TaskGroup group = TaskGroup.open("group of " + self.name())) {
        for (int c = 0; c < g.childMs().size(); c++) {
          int ms = g.childMs().get(c);
          boolean fails = c == g.failing();
          children.add(group.add("child", () -> {
            Tasko.sleep(Duration.ofMillis(ms));
            if (fails) {
              throw new IllegalStateException("child of " + self.name() + " fails");
            }
          }));
        }
      } catch (CancellationException e) {
        // this task was cancelled: not the group's failure (a CancellationException is an
        // IllegalStateException too); a child's failure goes to the handler instead
        for (Task<?> child : children) {
          if (child.state() == Task.State.FAILED) {
            cancelledGroupFailures.add(child.failure()); // (a join would throw here)
          }
        }
        throw e;
      } catch (IllegalStateException e) {
        boom = e; // handled here, like a supervisor would
      } finally {
        for (Task<?> child : children) {
          if (!child.isDone()) {
            violation(self.name() + ": its task group closed with a child still running: "
                + child);
          }
        }
      }
      boolean oneFailed = g.failing() >= 0 && g.failing() < g.childMs().size();
      if (oneFailed != (boom != null)) {
        violation(self.name() + ": task group " + g + " closed " + (boom == null
            ? "without the failure of its failing child" : "with " + boom));
      }
    }

    private void sleepChecked(int ms) {
      long t0 = loop.nanoTime();
      Tasko.sleep(Duration.ofMillis(ms));
      long slept = loop.nanoTime() - t0;
      if (slept < Duration.ofMillis(ms).toNanos()) {
        violation(Tasko.currentTask().name() + ": sleep(" + ms + " ms) woke early, after " + slept);
      }
    }

    void execute() throws InterruptedException {
      Thread driver = Thread.ofPlatform().name("prop-driver").start(this::drive);
      driver.join(Duration.ofSeconds(30).toMillis());
      if (driver.isAlive()) {
        violation("run() hung; tasks: " + java.util.Arrays.toString(tasks));
        driver.interrupt();
        return;
      }
      if (violations.isEmpty()) {
        checkEnd();
      }
    }

    private void drive() {
      try {
        for (int round = 0; ; round++) {
          if (round > 1_000) {
            violation("run() never settled");
            return;
          }
          try {
            loop.run();
            if (loop.taskCount() == 0) {
              return;
            }
            // stopped: go on, as a program that stops and restarts its loop would
          } catch (TaskFailedException e) {
            if (!p.stopOnFailure()) {
              violation("run() threw " + e + " under a handler that does not throw");
            }
          } catch (DeadlockException e) {
            List<Task<?>> stuck = e.stuckTasks();
            for (Task<?> t : tasks) {
              if (!t.isDone() && !stuck.contains(t)) {
                violation("deadlock report leaves out live task " + t);
              }
            }
            for (Task<?> t : stuck) {
              if (t.isDone()) {
                violation("deadlock report names finished task " + t);
              }
              t.cancel(); // and go on: the loop must stay usable
            }
          }
        }
      } catch (Throwable t) {
        violation("run() threw " + t);
      }
    }

    /** After run() returned: everything ended, nothing held, every failure accounted for. */
    private void checkEnd() throws InterruptedException {
      for (Task<?> t : tasks) {
        if (!t.isDone()) {
          violation("task not ended after run() returned: " + t);
        }
      }
      for (Handle<String> h : handles) {
        if (h.isActive()) {
          violation("a handle is still active after every task ended: " + h);
        }
      }
      // Failures: each task's, exactly once to the handler, or to a joiner.
      Set<Throwable> expected = Collections.newSetFromMap(new IdentityHashMap<>());
      for (Task<?> t : tasks) {
        Throwable thrown = thrownBy.get(t);
        if (t.state() != Task.State.FAILED) {
          if (thrown != null && t.state() != Task.State.CANCELLED) {
            violation(t + " threw " + thrown + " but did not fail");
          }
          continue;
        }
        Throwable failure = failureOf(t);
        expected.add(failure);
        if (thrown != null && failure != thrown) {
          violation(t + " failed with " + failure + " instead of what it threw: " + thrown);
        }
        int n = handled.getOrDefault(failure, 0);
        if (n > 1) {
          violation(t + ": its failure reached the handler " + n + " times");
        }
        if (n == 0 && !observedByJoiner.contains(t)) {
          violation(t + ": its failure " + failure + " reached neither the handler nor a joiner");
        }
      }
      for (Throwable e : scheduleThrown) {
        expected.add(e);
        int n = handled.getOrDefault(e, 0);
        if (n != 1) {
          violation("a schedule's failure reached the handler " + n + " times: " + e);
        }
      }
      for (Throwable e : cancelledGroupFailures) {
        expected.add(e);
        int n = handled.getOrDefault(e, 0);
        if (n != 1) {
          violation("a failure in the group of a cancelled task reached the handler " + n
              + " times: " + e);
        }
      }
      synchronized (handled) {
        for (Throwable f : handled.keySet()) {
          if (!expected.contains(f)) {
            violation("the handler got a failure nobody had: " + f);
          }
        }
      }
      // The toolkit: no permit held, no channel element lost, duplicated or invented. Foreign
      // offers may still be on their way: the single foreign thread does them in order.
      try {
        FOREIGN.submit(() -> { }).get();
      } catch (java.util.concurrent.ExecutionException e) {
        throw new AssertionError(e);
      }
      if (permits.available() != 2) {
        violation("permits not all returned: " + permits.available() + " of 2 free");
      }
      List<Integer> left = new ArrayList<>();
      for (Integer e; (e = channel.poll()) != null; ) {
        left.add(e);
      }
      Set<Integer> seen = new java.util.HashSet<>();
      for (Integer e : taken) {
        if (!seen.add(e)) {
          violation("channel element " + e + " taken twice");
        }
      }
      for (Integer e : left) {
        if (!seen.add(e)) {
          violation("channel element " + e + " both taken and still queued");
        }
      }
      synchronized (accepted) {
        if (!seen.equals(accepted)) {
          violation("channel: accepted " + accepted + " but taken or queued " + seen);
        }
      }
      if (channel.dropped() != refused.get()) {
        violation("channel counts " + channel.dropped() + " refusals, the program saw "
            + refused.get());
      }
      // The loop is still usable, and every resource is free with nobody waiting.
      Task<String> probe = loop.addTask("probe", () -> {
        Tasko.sleep(Duration.ofMillis(1));
        for (ResourceModel r : resources) {
          if (r.resource.holder().isPresent() || !r.resource.waiting().isEmpty()) {
            return r.resource.name() + " still held or waited for";
          }
        }
        return "ok";
      });
      Thread driver = Thread.ofPlatform().start(() -> {
        try {
          loop.run();
        } catch (Throwable t) {
          violation("final run() threw " + t);
        }
      });
      driver.join(Duration.ofSeconds(30).toMillis());
      if (driver.isAlive()) {
        violation("the final run() hung");
        return;
      }
      if (!"ok".equals(probe.join())) {
        violation(probe.join());
      }
    }

    private static Throwable failureOf(Task<?> t) {
      try {
        t.join();
        return null;
      } catch (TaskFailedException e) {
        return e.getCause();
      }
    }
  }

  /** A resource whose callbacks check the one-holder and FIFO invariants. */
  static final class ResourceModel {
    final ManagedResource<String, String> resource;
    private final Run run;
    private Task<?> holder;
    /** Tasks that found the resource held when they asked, in the order they asked. */
    private final List<Task<?>> waiting = new ArrayList<>();

    ResourceModel(String name, Run run) {
      this.run = run;
      this.resource = ManagedResource.of(name, name, cs -> granted(), cs -> released());
    }

    Lease<String> acquire(Task<?> self) {
      Handle<String> h = resource.handle(self.name());
      run.handles.add(h);
      boolean busy = resource.holder().isPresent();
      if (busy) {
        waiting.add(self);
      }
      try {
        return h.acquire();
      } catch (RuntimeException | Error e) {
        waiting.remove(self);
        throw e;
      }
    }

    private void granted() {
      Task<?> me = Tasko.currentTask();
      if (holder != null) {
        run.violation(resource.name() + " granted to " + me.name() + " while " + holder.name()
            + " holds it");
      }
      holder = me;
      int at = waiting.indexOf(me);
      for (int i = 0; i < at; i++) {
        if (!waiting.get(i).isCancelled()) {
          run.violation(resource.name() + " granted to " + me.name() + " before "
              + waiting.get(i).name() + ", who asked first: not FIFO");
        }
      }
      if (at >= 0) {
        waiting.subList(0, at + 1).clear();
      }
    }

    private void released() {
      Task<?> me = Tasko.currentTask();
      if (holder != me) {
        run.violation(resource.name() + " released by " + (me == null ? "?" : me.name())
            + " but held by " + holder);
      }
      holder = null;
    }
  }
}
