package dev.tasko.examples.demo;

import com.pi4j.io.spi.Spi;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.ScheduledTask;
import dev.tasko.Tasko;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * An SD card on the shared SPI bus, written one line (one block) per run, that sets its own rate
 * as the original README's logger does: every 100 ms while lines wait, every 10 s when there is
 * nothing to write. After each block the card is busy for a while and the host keeps it selected —
 * holding the bus — until it is done. Only the demo's tasks use it, one at a time: no locks.
 */
final class SdLogger {
  static final Duration BUSY = Duration.ofMillis(40);
  static final Duration FAST = Duration.ofMillis(100);
  static final Duration SLOW = Duration.ofSeconds(10);

  private final Handle<Spi> handle;
  private final ArrayDeque<String> lines = new ArrayDeque<>();
  private ScheduledTask schedule;
  private int blocks;
  private long bytes;

  SdLogger(Handle<Spi> handle) {
    this.handle = handle;
  }

  /** The schedule that runs {@link #logOnce()}, whose rate this logger changes. */
  void runBy(ScheduledTask schedule) {
    this.schedule = schedule;
  }

  /** Queues a line for the card. */
  void log(String line) {
    lines.add(line);
  }

  /**
   * Writes the oldest waiting line, if any; then picks the next interval. Returns bytes written.
   */
  int logOnce() {
    int written = 0;
    String line = lines.poll();
    if (line != null) {
      byte[] block = (line + "\n").getBytes(StandardCharsets.US_ASCII);
      try (Lease<Spi> bus = handle.acquire()) {
        bus.resource().write(block);
        Tasko.sleep(BUSY); // the card is busy programming the block; it stays selected
      }
      blocks++;
      bytes += block.length;
      written = block.length;
    }
    schedule.changeRate(written == 0 ? SLOW : FAST);
    return written;
  }

  int blocks() {
    return blocks;
  }

  long bytes() {
    return bytes;
  }

  int queued() {
    return lines.size();
  }

  Duration interval() {
    return schedule.interval();
  }
}
