package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What a stall warning says for each kind of stall, from stack traces written out by hand. */
class StallReportTest {
  private static final StackTraceElement PROGRAM =
      new StackTraceElement("greenhouse.Fan", "check", "Fan.java", 42);
  private static final StackTraceElement LOOP =
      new StackTraceElement("dev.tasko.Task$ThreadBody", "run", "Task.java", 330);

  private static StackTraceElement jdk(String cls, String method) {
    return new StackTraceElement(cls, method, null, -1);
  }

  @Test
  void message_threadSleep_namesLineAndSaysUseTaskoSleep() {
    StackTraceElement[] stack = {jdk("java.lang.VirtualThread", "parkNanos"),
        jdk("java.lang.Thread", "sleepNanos"), jdk("java.lang.Thread", "sleep"), PROGRAM, LOOP};

    String m = StallReport.message("loop-2", "fan", 123_400_000, stack);

    assertThat(m).startsWith("loop 'loop-2': task 'fan' has held the processor for 123 ms without "
        + "reaching a suspension point, so every other task of the loop waits. It is at "
        + "greenhouse.Fan.check(Fan.java:42), in Thread.sleep, which holds the loop: use "
        + "Tasko.sleep instead")
        .contains("noStallWarning() turns it off")
        .endsWith("\n\tat greenhouse.Fan.check(Fan.java:42)"
            + "\n\tat dev.tasko.Task$ThreadBody.run(Task.java:330)");
  }

  @Test
  void message_callbackScheduleInThreadSleepOrComputing_offersNoWaitingCall() {
    StackTraceElement[] sleeping = {jdk("java.lang.VirtualThread", "parkNanos"),
        jdk("java.lang.Thread", "sleepNanos"), jdk("java.lang.Thread", "sleep"), PROGRAM, LOOP};
    StackTraceElement[] computing = {PROGRAM, LOOP};

    String slept = StallReport.message("loop-2", "cb", 123_400_000, sleeping,
        Thread.State.TIMED_WAITING, /* callback= */ true);
    String computed = StallReport.message("loop-2", "cb", 123_400_000, computing,
        Thread.State.RUNNABLE, /* callback= */ true);

    // Before: told to use Tasko.sleep or Tasko.yieldNow, which a callback schedule may not call.
    assertThat(slept).contains("in Thread.sleep, which holds the loop: a callback schedule may "
        + "not wait (Tasko.sleep and Tasko.yieldNow throw in it): make it a schedule "
        + "(Loop.schedule)").doesNotContain("use Tasko.sleep instead");
    assertThat(computed).contains("keep each run of a callback schedule short")
        .doesNotContain("wait with Tasko.sleep");
  }

  @Test
  void message_blockedInJdkCall_namesTheCallAndSaysMoveItOffTheLoop() {
    StackTraceElement[] stack = {jdk("jdk.internal.misc.Unsafe", "park"),
        jdk("java.io.FileInputStream", "read"), PROGRAM, LOOP};

    String m = StallReport.message("loop-1", "logger", 2_500_000_000L, stack);

    assertThat(m).contains("for 2.5 s")
        .contains("It is at greenhouse.Fan.check(Fan.java:42), in a call that has not returned "
            + "(java.io.FileInputStream.read), most likely a blocking call")
        .contains("move blocking work off the loop: run the call in Tasko.blocking(() -> ...),"
            + " which the task awaits while the other tasks run, or use Tasko.sleep to wait.");
  }

  @Test
  void message_callbackScheduleBlockedInJdkCall_offersAScheduleWithBlockingWork() {
    StackTraceElement[] stack = {jdk("jdk.internal.misc.Unsafe", "park"),
        jdk("java.io.FileInputStream", "read"), PROGRAM, LOOP};

    String m = StallReport.message("loop-1", "logger", 150_000_000, stack,
        Thread.State.WAITING, /* callback= */ true);

    // From a newcomer's review: the library's own fix, Tasko.blocking, went unnamed.
    assertThat(m).contains("move blocking work off the loop: make it a schedule (Loop.schedule),"
        + " whose body may run the call in Tasko.blocking(() -> ...) (a callback schedule may not"
        + " wait).").doesNotContain("Tasko.sleep to wait");
  }

  @Test
  void message_workingInAJdkCall_saysWorkingNotBlocked() {
    // From a hostile test: a task caught while the loop grew its timer array under load was
    // said to be "most likely" in a blocking call such as I/O.
    StackTraceElement[] stack = {jdk("java.util.Arrays", "copyOf"),
        new StackTraceElement("dev.tasko.Timers", "resize", "Timers.java", 161), PROGRAM, LOOP};

    String m = StallReport.message("loop-1", "spawner", 150_000_000, stack);

    assertThat(m).contains("in a call that has not returned (java.util.Arrays.copyOf), which is "
        + "working, not waiting").doesNotContain("blocking call");
  }

  @Test
  void message_threadBlockedOnAMonitorInAJdkCall_saysBlockingCall() {
    StackTraceElement[] stack = {jdk("java.io.PrintStream", "writeln"),
        jdk("java.io.PrintStream", "println"), PROGRAM, LOOP};

    String m = StallReport.message("loop-1", "printer", 2_000_000_000L, stack,
        Thread.State.BLOCKED);

    assertThat(m).contains("(java.io.PrintStream.println), most likely a blocking call");
  }

  @Test
  void message_programFrameOnTopButBlocked_saysWaitingForALock() {
    // From a review: a task blocked entering a synchronized block was said to be computing.
    String m = StallReport.message("loop-1", "counter", 600_000_000, new StackTraceElement[] {
        PROGRAM, LOOP}, Thread.State.BLOCKED);

    assertThat(m).contains("It is at greenhouse.Fan.check(Fan.java:42), waiting for a lock")
        .doesNotContain("computing")
        // From a newcomer's review: a lock a task of the same loop held across a Tasko.sleep
        // stopped the loop for good, and the warning blamed another thread only.
        .contains("If another task of this loop holds it, having suspended inside it (a"
            + " Tasko.sleep in a synchronized block), this never ends")
        .contains("run the call in Tasko.blocking(() -> ...)");
  }

  @Test
  void message_programsOwnNativeMethodOnTop_saysBlockingNotLock() {
    // From a review: a library's JNI call on top was said to wait for a lock.
    StackTraceElement[] stack = {new StackTraceElement("com.pi4j.library.pigpio.internal.PIGPIO",
        "gpioRead", "PIGPIO.java", -2), PROGRAM, LOOP};

    String m = StallReport.message("loop-1", "gpio", 600_000_000, stack, Thread.State.RUNNABLE);

    assertThat(m).contains("in native code that has not returned, most likely a blocking call")
        .doesNotContain("lock (a synchronized");
    String racing = StallReport.message("loop-1", "gpio", 600_000_000,
        new StackTraceElement[] {PROGRAM, LOOP}, Thread.State.TIMED_WAITING);
    assertThat(racing).contains("Fan.java:42), waiting (its thread was timed_waiting a moment "
        + "after this stack was taken)");
  }

  @Test
  void message_nativeReadOnTop_saysBlockingCall() {
    StackTraceElement[] stack = {new StackTraceElement("sun.nio.ch.SocketDispatcher", "read0",
        null, -2), jdk("java.net.Socket$SocketInputStream", "read"), PROGRAM, LOOP};

    String m = StallReport.message("loop-1", "modem", 2_000_000_000L, stack);

    assertThat(m).contains("(java.net.Socket$SocketInputStream.read), most likely a blocking call");
  }

  @Test
  void message_programFrameOnTop_saysComputingAndYield() {
    StackTraceElement[] stack = {PROGRAM, LOOP};

    String m = StallReport.message("loop-1", "busy", 150_000_000, stack);

    assertThat(m).contains("It is at greenhouse.Fan.check(Fan.java:42), computing: a long "
        + "computation or a busy-wait loop").contains("Tasko.yieldNow()");
  }

  @Test
  void message_turnGivenButThreadNotYetRun_saysTheCarriersAreBusy() {
    // The task's wait ended and the loop handed it the processor, but no carrier thread has run
    // its virtual thread since: it is still parked inside the loop's own switch.
    StackTraceElement[] stack = {jdk("jdk.internal.vm.Continuation", "yield"),
        jdk("java.lang.VirtualThread", "park"),
        jdk("java.util.concurrent.locks.LockSupport", "park"),
        new StackTraceElement("dev.tasko.Runner", "park", "Runner.java", 810),
        new StackTraceElement("dev.tasko.Tasko", "sleep", "Tasko.java", 50), PROGRAM, LOOP};

    String m = StallReport.message("loop-1", "pinger", 104_000_000, stack);

    assertThat(m).contains("It is at greenhouse.Fan.check(Fan.java:42), in Tasko.sleep, whose "
        + "wait has ended: its turn came, but no carrier thread has run it since")
        .contains("-Djdk.virtualThreadScheduler.parallelism")
        .doesNotContain("blocking call such as I/O");
  }

  @Test
  void message_scheduleDueButItsThreadNotYetRun_saysSoAndThatTheCarriersAreBusy() {
    StackTraceElement[] stack = {jdk("java.lang.VirtualThread", "park"),
        jdk("java.util.concurrent.locks.LockSupport", "park"),
        new StackTraceElement("dev.tasko.Runner", "park", "Runner.java", 810),
        new StackTraceElement("dev.tasko.Traps", "sleepUntil", "Traps.java", 90),
        new StackTraceElement("dev.tasko.ScheduledTask", "runLoop", "ScheduledTask.java", 420),
        LOOP, jdk("java.lang.VirtualThread", "run")};

    String m = StallReport.message("loop-1", "blink", 104_000_000, stack);

    assertThat(m).contains("It is between two runs of its schedule, and the next one is due: its"
        + " turn came, but no carrier thread has run it since");
  }

  @Test
  void message_loopCodeOtherThanTheSwitchOnTop_isNotBlamedOnTheCarriers() {
    StackTraceElement[] stack = {new StackTraceElement("dev.tasko.Runner", "handTo", "Runner.java",
        700), new StackTraceElement("dev.tasko.Runner", "park", "Runner.java", 810), PROGRAM, LOOP};

    String m = StallReport.message("loop-1", "busy", 150_000_000, stack);

    assertThat(m).doesNotContain("carrier");
  }

  @Test
  void isWarmingUp_classInitialiserOrLoaderOnStack_trueElseFalse() {
    StackTraceElement[] init = {jdk("java.lang.Thread", "sleep"),
        new StackTraceElement("greenhouse.Tables", "<clinit>", "Tables.java", 9), PROGRAM, LOOP};
    StackTraceElement[] load = {jdk("jdk.internal.loader.BuiltinClassLoader", "loadClass"),
        jdk("java.lang.ClassLoader", "loadClass"), PROGRAM, LOOP};
    StackTraceElement[] sleep = {jdk("java.lang.Thread", "sleep"), PROGRAM, LOOP};

    assertThat(StallReport.isWarmingUp(init)).isTrue();
    assertThat(StallReport.isWarmingUp(load)).isTrue();
    assertThat(StallReport.isWarmingUp(sleep)).isFalse();
  }
}
