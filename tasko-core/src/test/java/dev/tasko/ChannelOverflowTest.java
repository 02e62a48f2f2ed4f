package dev.tasko;

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

    TaskStackSweep.check(out);
  }

  /**
   * Takes from a full channel whose putter waits, and the element handed over by a channel closed
   * right after, while another taker waits.
   */
  static final class OverflowingTakes {
    static final TaskStackSweep SWEEP = new TaskStackSweep();

    public static void main(String[] args) {
      SWEEP.run(depth -> {
        tryAt(depth, false);
        tryAt(depth, true);
      });
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
        if (SWEEP.at(depth, () -> got[0] = channel.take())) {
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
        SWEEP.broken("take at depth " + depth + (closing ? ", closed" : ", full") + ": "
            + seen + ", " + loop.taskCount() + " tasks left" + deadlock);
      }
    }

  }
}
