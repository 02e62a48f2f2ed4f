package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A thread outside the loop that wakes its tasks (a listener called deep inside a library, say)
 * may run out of stack inside {@link Suspension#resume()} or {@link Event#set()}. The call then
 * throws {@link StackOverflowError}, but no task is stranded: one called again from a thread with
 * stack to spare wakes what the failed call did not. In a JVM that only interprets, frames have the
 * same size on every run, so trying every depth near the end of a small stack makes the overflow
 * strike at each call on the way in turn.
 */
class WakeOverflowTest {

  @Test
  void resume_stackOverflowAtEveryDepth_aRetryWakesTheTask() throws Exception {
    String out = ChildJvm.run(List.of("-Xint"), OverflowingResumes.class);

    assertThat(out).as(out).contains("stranded: 0").contains("finished");
    // The controls: the overflow struck inside resume() at some depths, and at others it returned.
    assertThat(out).as(out).doesNotContain("overflows inside: 0,").doesNotContain("returned: 0,");
  }

  @Test
  void set_stackOverflowAtEveryDepth_aRetryWakesEveryWaiter() throws Exception {
    String out = ChildJvm.run(List.of("-Xint"), OverflowingSets.class);

    assertThat(out).as(out).contains("stranded: 0").contains("finished");
    assertThat(out).as(out).doesNotContain("overflows inside: 0,").doesNotContain("returned: 0,");
  }

  @Test
  void channelOffer_stackOverflowAtEveryDepth_aRetryHandsTheElementOver() throws Exception {
    check(ChildJvm.run(List.of("-Xint"), OverflowingOffers.class));
  }

  @Test
  void channelClose_stackOverflowAtEveryDepth_aRetryWakesEveryWaiter() throws Exception {
    check(ChildJvm.run(List.of("-Xint"), OverflowingCloses.class));
  }

  @Test
  void channelPoll_stackOverflowAtEveryDepth_nothingLostAndThePutterWoken() throws Exception {
    check(ChildJvm.run(List.of("-Xint"), OverflowingPolls.class));
  }

  private static void check(String out) {
    assertThat(out).as(out).contains("stranded: 0").contains("finished");
    assertThat(out).as(out).doesNotContain("overflows inside: 0,").doesNotContain("returned: 0,");
  }

  /** Counts, over the depths tried: overflows inside the call, calls that returned, stranded. */
  private abstract static class Program {
    final int[] counts = new int[3];

    void main() throws Exception {
      boolean[] finished = new boolean[1];
      StackEdge.onSmallStack(() -> {
        tryOnce(-1); // at a shallow depth first: classes, lambdas and handles set up
        int low = StackEdge.deepestReachable();
        for (int depth = low - 300; depth <= low; depth++) {
          tryOnce(depth);
        }
        finished[0] = true; // not reached if anything but a stack overflow ended the run
      });
      System.out.println("overflows inside: " + counts[0] + ", returned: " + counts[1]
          + ", stranded: " + counts[2] + (finished[0] ? ", finished" : ", did not finish"));
    }

    /** Makes the waiters, wakes them at {@code depth} (-1: not deep), retries, checks. */
    abstract void tryOnce(int depth);

    /**
     * Wakes at {@code depth} (or at once, for -1), counting the outcome; returns whether the
     * call failed to return (it overflowed inside, or was not reached), so that the caller, as a
     * program that saw the error would, calls again.
     */
    boolean wakeAt(int depth, Runnable wake) {
      if (depth < 0) {
        wake.run();
        return false;
      }
      int outcome = StackEdge.at(depth, wake);
      if (outcome == StackEdge.OVERFLOWED_INSIDE) {
        counts[0]++;
      } else if (outcome == StackEdge.DONE) {
        counts[1]++;
      }
      return outcome != StackEdge.DONE;
    }

    /** Counts a failed check at {@code depth}, saying what went wrong. */
    void broken(int depth, String what) {
      counts[2]++;
      System.out.println("depth " + depth + ": " + what);
    }

    /** Runs the loop's passes until its tasks have ended (a few suffice); counts a failure. */
    void checkEnded(Loop loop, int depth) {
      for (int i = 0; i < 10 && loop.taskCount() > 0; i++) {
        loop.step();
      }
      if (loop.taskCount() > 0) {
        counts[2]++;
        System.out.println("depth " + depth + ": " + loop.taskCount() + " task(s) never woken");
      }
    }
  }

  /** A task awaits a suspension; this thread resumes it at each depth, then once more. */
  static final class OverflowingResumes extends Program {
    public static void main(String[] args) throws Exception {
      new OverflowingResumes().main();
    }

    @Override
    void tryOnce(int depth) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      Suspension[] s = new Suspension[1];
      loop.addTask(() -> {
        s[0] = Tasko.suspend("a listener's call");
        s[0].await();
      });
      loop.step(); // it awaits; this thread is outside the loop
      wakeAt(depth, () -> s[0].resume());
      s[0].resume(); // the retry: false if the first took effect
      checkEnded(loop, depth);
    }
  }

  /** Three tasks await an event; this thread sets it at each depth, then once more. */
  static final class OverflowingSets extends Program {
    public static void main(String[] args) throws Exception {
      new OverflowingSets().main();
    }

    @Override
    void tryOnce(int depth) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      Event event = Event.create("ready");
      for (int i = 0; i < 3; i++) {
        loop.addTask(() -> event.await());
      }
      loop.step(); // they await; this thread is outside the loop
      wakeAt(depth, event::set);
      event.set(); // the retry: does nothing if the first woke every waiter
      checkEnded(loop, depth);
    }
  }

  /** A task waits to take; this thread offers an element at each depth, again if that threw. */
  static final class OverflowingOffers extends Program {
    public static void main(String[] args) throws Exception {
      new OverflowingOffers().main();
    }

    @Override
    void tryOnce(int depth) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      Channel<String> channel = Channel.create("events", 4);
      String[] took = new String[1];
      loop.addTask(() -> took[0] = channel.take());
      loop.step(); // it waits to take
      if (wakeAt(depth, () -> channel.offer("a"))) {
        channel.offer("a"); // the retry, as a caller that saw the error would
      }
      checkEnded(loop, depth);
      if (!"a".equals(took[0]) || channel.size() > 1) {
        broken(depth, "took " + took[0] + ", " + channel);
      }
    }
  }

  /** Two tasks wait to take, or two to put; this thread closes the channel, again if it threw. */
  static final class OverflowingCloses extends Program {
    public static void main(String[] args) throws Exception {
      new OverflowingCloses().main();
    }

    @Override
    void tryOnce(int depth) {
      for (boolean putters : new boolean[] {false, true}) {
        Loop loop = Loop.builder().virtualTime().noStallWarning().build();
        Channel<String> channel = Channel.create("events", 1);
        if (putters) {
          channel.offer("full");
        }
        int[] closedSeen = new int[1];
        for (int i = 0; i < 2; i++) {
          loop.addTask(() -> {
            try {
              if (putters) {
                channel.put("more");
              } else {
                channel.take();
              }
            } catch (ChannelClosedException e) {
              closedSeen[0]++;
            }
          });
        }
        loop.step(); // they wait
        if (wakeAt(depth, channel::close)) {
          channel.close();
        }
        checkEnded(loop, depth);
        if (closedSeen[0] != 2) {
          broken(depth, closedSeen[0] + " of 2 " + (putters ? "putters" : "takers") + " saw it");
        }
      }
    }
  }

  /** A task waits to put into a full channel; this thread polls at each depth, again if needed. */
  static final class OverflowingPolls extends Program {
    public static void main(String[] args) throws Exception {
      new OverflowingPolls().main();
    }

    @Override
    void tryOnce(int depth) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      Channel<String> channel = Channel.create("events", 1);
      channel.offer("a");
      loop.addTask(() -> channel.put("b"));
      loop.step(); // it waits to put
      String[] polled = new String[1];
      if (wakeAt(depth, () -> polled[0] = channel.poll())) {
        polled[0] = channel.poll();
      }
      checkEnded(loop, depth);
      String left = channel.poll();
      if (!"a".equals(polled[0]) || !"b".equals(left) || channel.size() != 0) {
        broken(depth, "polled " + polled[0] + ", then " + left + ", " + channel);
      }
    }
  }
}
