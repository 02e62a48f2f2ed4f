package dev.tasko;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A task deep in a recursion may run out of stack inside {@link Channel#take()}. The call then
 * throws {@link StackOverflowError}, but no element is lost or doubled and a putter waiting for a
 * slot is not left waiting: taking again (as a program that caught the error would) takes the
 * element. In a JVM that only interprets, frames have the same size on every run, so trying every
 * depth near the end of a task's stack makes the overflow strike at each call on the way in turn.
 */
class ChannelOverflowTest {

  @Test
  void take_stackOverflowAtEveryDepth_nothingLostAndThePutterWoken() throws Exception {
    String out = ChildJvm.run(List.of("-Xint", "-Xss256k"), OverflowingTakes.class);

    assertThat(out).as(out).contains("broken: 0").contains("finished");
    // The controls: at some depths the overflow struck inside the call, at others it returned.
    assertThat(out).as(out).doesNotContain("overflows inside: 0,").doesNotContain("returned: 0,");
  }

  /**
   * Takes from a full channel whose putter waits, and the element handed over by a channel closed
   * right after, while another taker waits.
   */
  static final class OverflowingTakes {
    static int inside;
    static int returned;
    static int broken;

    public static void main(String[] args) {
      Loop probe = Loop.builder().virtualTime().noStallWarning().build();
      int[] low = new int[1];
      probe.addTask(() -> low[0] = StackEdge.deepestReachable()); // on a task's own stack
      probe.run();
      tryAt(-1, false); // at a shallow depth first: classes, lambdas and handles set up
      tryAt(-1, true);
      inside = 0;
      returned = 0;
      for (int depth = low[0] - 300; depth <= low[0]; depth++) {
        tryAt(depth, false);
        tryAt(depth, true);
      }
      System.out.println("overflows inside: " + inside + ", returned: " + returned + ", broken: "
          + broken + ", finished");
    }

    /**
     * A full channel ("a") with a putter waiting to put "b"; or ({@code closing}) an empty channel
     * that two takers wait on, handed "a" and closed. The taker takes at {@code depth}, and again
     * after an overflow; then what is left is drained.
     */
    static void tryAt(int depth, boolean closing) {
      Loop loop = Loop.builder().virtualTime().noStallWarning().build();
      Channel<String> channel = Channel.create("events", 1);
      List<String> seen = new ArrayList<>();
      boolean[] otherSawClose = new boolean[1];
      loop.addTask("taker", () -> {
        if (!closing) {
          Tasko.yieldNow(); // the putter has filled the channel and waits now
        }
        String[] got = new String[1];
        if (at(depth, () -> got[0] = channel.take())) {
          got[0] = channel.take();
        }
        seen.add(got[0]);
      });
      if (closing) {
        loop.addTask("other", () -> {
          try {
            seen.add("other " + channel.take()); // waits, second in line
          } catch (ChannelClosedException e) {
            otherSawClose[0] = true;
          }
        });
        loop.addTask("closer", () -> {
          channel.offer("a"); // handed to the taker, first in line
          channel.close();
        });
      } else {
        loop.addTask("putter", () -> {
          channel.put("a");
          channel.put("b"); // full: waits for the taker to make room
        });
      }
      // A taker left waiting for an element that was lost would wait for another thread to put
      // one: the loop would wait for ever, as it should.
      loop.runLater(java.time.Duration.ofSeconds(10), loop::stop);
      String deadlock = "";
      try {
        loop.run();
      } catch (DeadlockException e) {
        deadlock = ", deadlocked";
      } catch (TaskFailedException e) {
        deadlock = ", " + e.getMessage();
      }
      for (String x; (x = channel.poll()) != null; ) {
        seen.add("left " + x);
      }
      List<String> expected = closing ? List.of("a") : List.of("a", "left b");
      if (!deadlock.isEmpty() || loop.taskCount() != 0 || !seen.equals(expected)
          || (closing && !otherSawClose[0])) {
        broken++;
        System.out.println("take at depth " + depth + (closing ? ", closed" : ", full") + ": "
            + seen + ", " + loop.taskCount() + " tasks left" + deadlock);
      }
    }

    /** Runs {@code op} at {@code depth} (at once for -1); true if it did not return. */
    static boolean at(int depth, Runnable op) {
      if (depth < 0) {
        op.run();
        return false;
      }
      int outcome = StackEdge.at(depth, op);
      if (outcome == StackEdge.OVERFLOWED_INSIDE) {
        inside++;
      } else if (outcome == StackEdge.DONE) {
        returned++;
      }
      return outcome != StackEdge.DONE;
    }
  }
}
