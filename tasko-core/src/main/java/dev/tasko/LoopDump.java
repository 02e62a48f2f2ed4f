package dev.tasko;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * What a loop was doing at one moment, taken by {@link Loop#dump()}: its tasks, schedules and
 * resources. {@link #toString()} prints it like a JVM thread dump, for a terminal or a log. A
 * snapshot: it does not change as the loop runs on.
 *
 * @param loop the loop's name
 * @param takenAt the wall-clock time when the snapshot was taken
 * @param time the loop's time when the snapshot was taken (nanoseconds of its ticker)
 * @param complete false if the loop did not answer in time because a task held the processor: then
 *     {@link #tasks()} holds only that task, read without the loop's cooperation, and the
 *     schedules and resources are left out
 * @param stats the loop's counters
 * @param tasks every task not finished yet, oldest first
 * @param schedules every schedule whose task is alive
 * @param resources every managed resource the loop's tasks have used and the program still holds,
 *     but for one that has passed to another loop since this one ended
 */
public record LoopDump(String loop, Instant takenAt, long time, boolean complete, Loop.Stats stats,
    List<TaskEntry> tasks, List<ScheduleEntry> schedules, List<ResourceEntry> resources) {

  /**
   * Copies the lists.
   *
   * @throws NullPointerException if an argument is null, or a list holds null
   */
  public LoopDump {
    Objects.requireNonNull(loop, "loop == null");
    Objects.requireNonNull(takenAt, "takenAt == null");
    Objects.requireNonNull(stats, "stats == null");
    Objects.requireNonNull(tasks, "tasks == null");
    Objects.requireNonNull(schedules, "schedules == null");
    Objects.requireNonNull(resources, "resources == null");
    tasks = List.copyOf(tasks);
    schedules = List.copyOf(schedules);
    resources = List.copyOf(resources);
  }

  /**
   * One task.
   *
   * @param name the task's name
   * @param state its state
   * @param waitsFor what it waits for, as deadlock reports say it: a timer and its deadline, a
   *     resource and its holder, a channel, an event, a semaphore, a group, a join, blocking work,
   *     a suspension's description; {@code "its turn"} when ready, {@code "nothing (running)"}
   *     when it holds the processor
   * @param since how long it has been sleeping or waiting (to within one pass of the loop); empty
   *     when it is not waiting
   * @param holds the leases and permits it holds
   * @param stack its thread's stack, innermost frame first; empty before its first turn, and
   *     for a callback schedule's task (it has no thread between runs)
   */
  public record TaskEntry(String name, Task.State state, String waitsFor, Optional<Duration> since,
      List<String> holds, List<StackTraceElement> stack) {
    /**
     * Copies the lists.
     *
     * @throws NullPointerException if an argument is null, or a list holds null
     */
    public TaskEntry {
      Objects.requireNonNull(name, "name == null");
      Objects.requireNonNull(state, "state == null");
      Objects.requireNonNull(waitsFor, "waitsFor == null");
      Objects.requireNonNull(since, "since == null");
      Objects.requireNonNull(holds, "holds == null");
      Objects.requireNonNull(stack, "stack == null");
      holds = List.copyOf(holds);
      stack = List.copyOf(stack);
    }
  }

  /**
   * One schedule.
   *
   * @param name the schedule's name
   * @param rate its rate
   * @param running whether its body is running (or suspended inside a run) now
   * @param stats its counters since it was made
   */
  public record ScheduleEntry(String name, Rate rate, boolean running, ScheduledTask.Stats stats) {
    /**
     * Checks the arguments.
     *
     * @throws NullPointerException if an argument is null
     */
    public ScheduleEntry {
      Objects.requireNonNull(name, "name == null");
      Objects.requireNonNull(rate, "rate == null");
      Objects.requireNonNull(stats, "stats == null");
    }
  }

  /**
   * One managed resource.
   *
   * @param name the resource's name
   * @param holder the task holding it and the handle it holds it through; empty when free
   * @param heldFor how long the holder has held it (to within one pass); empty when free, or
   *     while it is being handed to the next task
   * @param waiters the tasks waiting for it, first in line first, each with its handle
   */
  public record ResourceEntry(String name, Optional<String> holder, Optional<Duration> heldFor,
      List<String> waiters) {
    /**
     * Copies the list.
     *
     * @throws NullPointerException if an argument is null, or the list holds null
     */
    public ResourceEntry {
      Objects.requireNonNull(name, "name == null");
      Objects.requireNonNull(holder, "holder == null");
      Objects.requireNonNull(heldFor, "heldFor == null");
      Objects.requireNonNull(waiters, "waiters == null");
      waiters = List.copyOf(waiters);
    }
  }

  /** Takes a dump of {@code loop} as {@link Loop#dump()} says. Any thread. */
  static LoopDump of(Loop loop) {
    Runner r = loop.runner;
    if (r.driver() == null || r.isOnLoop()) {
      return take(loop, r.live.oldest(), r.resources);
    }
    CompletableFuture<LoopDump> answer = new CompletableFuture<>();
    Runnable command = () -> answer.complete(take(loop, r.live.oldest(), r.resources));
    r.submit(command);
    long deadline = System.nanoTime() + Loop.DUMP_WAIT_MILLIS * 1_000_000L;
    boolean interrupted = false;
    try {
      for (;;) {
        try {
          return answer.get(10, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          if (r.driver() == null && r.unsubmit(command)) {
            return take(loop, r.live.oldest(), r.resources); // run() returned meanwhile
          }
          if (System.nanoTime() - deadline >= 0) {
            return unanswered(loop, r.current);
          }
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          throw new IllegalStateException("dump of loop '" + loop.name() + "' failed",
              e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Takes the snapshot; the caller holds the loop's baton, or no thread drives the loop. */
  static LoopDump take(Loop loop, Task<?> oldest, Set<ManagedResource<?, ?>> resources) {
    long now = loop.nanoTime();
    List<TaskEntry> tasks = new ArrayList<>();
    List<ScheduleEntry> schedules = new ArrayList<>();
    for (Task<?> t = oldest; t != null; t = t.nextLive) {
      tasks.add(entry(t, loop.runner.timers, now));
      ScheduledTask s = t.schedule();
      if (s != null) {
        schedules.add(new ScheduleEntry(s.name(), s.rate(), s.isRunning(), s.stats()));
      }
    }
    List<ResourceEntry> rs = new ArrayList<>();
    for (ManagedResource<?, ?> r : resources) {
      // A resource this loop used may have passed to another loop once this one ended: its
      // state is that loop's, guarded by that loop's baton, and no business of this dump.
      if (!r.isBoundTo(loop)) {
        continue;
      }
      ResourceEntry e;
      try {
        e = r.dumpEntry(now);
      } catch (RuntimeException raced) {
        if (r.isBoundTo(loop)) {
          throw raced;
        }
        continue; // taken over while it was read
      }
      if (r.isBoundTo(loop)) {
        rs.add(e);
      }
    }
    rs.sort((a, b) -> a.name().compareTo(b.name()));
    return new LoopDump(loop.name(), Instant.now(), now, /* complete= */ true, loop.stats(),
        tasks, schedules, rs);
  }

  /** The snapshot of a loop stuck in {@code running}'s turn: that task alone, read racily. */
  static LoopDump unanswered(Loop loop, Task<?> running) {
    List<TaskEntry> tasks = new ArrayList<>();
    if (running != null) {
      tasks.add(new TaskEntry(running.name(), running.state(), "nothing (running: it has not "
          + "reached a suspension point for " + Loop.DUMP_WAIT_MILLIS + " ms or more)",
          Optional.empty(), List.of(), Arrays.asList(running.stackTrace())));
    }
    return new LoopDump(loop.name(), Instant.now(), loop.nanoTime(), /* complete= */ false,
        loop.stats(), tasks, List.of(), List.of());
  }

  private static TaskEntry entry(Task<?> t, Timers timers, long now) {
    Task.State state = t.state();
    boolean timer = t.heapIndex >= 0;
    String waitsFor;
    Optional<Duration> since = Optional.empty();
    switch (state) {
      case RUNNING -> waitsFor = "nothing (running)";
      case READY -> waitsFor = "its turn";
      case NEW -> waitsFor =
          timer ? "its start, " + in(timers.deadlineOf(t), now) : "its first turn";
      case WAITING -> {
        Suspension s = t.waitingOn;
        if (s != null) {
          waitsFor = DeadlockException.describe(s)
              + (timer ? ", or its timeout " + in(timers.deadlineOf(t), now) : "");
        } else if (timer) {
          waitsFor = "a timer, " + in(timers.deadlineOf(t), now);
        } else {
          waitsFor = "nothing known";
        }
        since = Optional.of(Duration.ofNanos(Math.max(0, now - t.waitSince)));
      }
      default -> waitsFor = "nothing (finished)";
    }
    List<String> holds = new ArrayList<>();
    for (AutoCloseable l : t.heldLeases()) {
      if (l instanceof Lease<?> lease && lease.stage != Lease.HELD) {
        continue; // listed by an acquire() still waiting, or one that failed: not held
      }
      holds.add(l instanceof Lease<?> lease ? "lease of " + lease.handle + " for "
          + DurationText.approximate(Math.max(0, now - lease.acquiredAt)) : l.toString());
    }
    return new TaskEntry(t.name(), state, waitsFor, since, holds,
        Arrays.asList(t.stackTrace()));
  }

  /** {@code "due in 12 ms"}, or {@code "due 3 ms ago"} for a deadline the loop has not reached. */
  private static String in(long deadline, long now) {
    long d = deadline - now;
    return d >= 0 ? "due in " + DurationText.approximate(d)
        : "due " + DurationText.approximate(-d) + " ago";
  }

  /**
   * The snapshot as a thread dump: a header with the loop's counters, then each task with its
   * state, what it waits for, what it holds and its stack, then the schedules and resources.
   */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    b.append("Loop '").append(loop).append("' at ").append(takenAt)
        .append(": ").append(tasks.size()).append(" task(s), ").append(stats);
    if (!complete) {
      b.append("\n  (incomplete: the loop did not answer; a task holds the processor)");
    }
    for (TaskEntry t : tasks) {
      b.append("\n\n\"").append(t.name()).append("\" ").append(t.state());
      if (t.state() != Task.State.RUNNING) {
        b.append(" for ").append(t.waitsFor());
      }
      t.since().ifPresent(d -> b.append(" (since ").append(DurationText.approximate(d))
          .append(')'));
      for (String h : t.holds()) {
        b.append("\n    holds ").append(h);
      }
      for (StackTraceElement f : t.stack()) {
        b.append("\n\tat ").append(f);
      }
    }
    if (!schedules.isEmpty()) {
      b.append("\n\nSchedules:");
      for (ScheduleEntry s : schedules) {
        b.append("\n  \"").append(s.name()).append("\" ").append(s.rate())
            .append(s.running() ? ", running" : "").append(": ").append(s.stats());
      }
    }
    if (!resources.isEmpty()) {
      b.append("\n\nResources:");
      for (ResourceEntry r : resources) {
        b.append("\n  ").append(r.name()).append(": ");
        if (r.holder().isEmpty()) {
          b.append("free");
        } else {
          b.append("held by ").append(r.holder().get());
          r.heldFor().ifPresent(d -> b.append(" for ").append(DurationText.approximate(d)));
        }
        if (!r.waiters().isEmpty()) {
          b.append("; waiting: ").append(String.join(", ", r.waiters()));
        }
      }
    }
    return b.toString();
  }
}
