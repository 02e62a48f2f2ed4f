package dev.tasko.examples.demo;

import com.pi4j.io.spi.Spi;
import dev.tasko.Channel;
import dev.tasko.Handle;
import dev.tasko.Lease;
import dev.tasko.Tasko;
import java.nio.charset.StandardCharsets;
import java.util.function.IntConsumer;

/**
 * An SD card on the shared SPI bus, written one line (one block) at a time by a task that takes
 * its lines from a {@link Channel}: it sleeps on the channel while nothing is to be written, and
 * writes each line as soon as the bus is free. After each block the card is busy for a while and
 * the host keeps it selected — holding the bus — until it is done. Lines are offered without ever
 * blocking the task that logs them; if the card falls {@link #CAPACITY} lines behind, a line is
 * refused and counted, never merged.
 */
final class SdLogger {
  static final java.time.Duration BUSY = java.time.Duration.ofMillis(40);
  static final int CAPACITY = 64;

  private final Handle<Spi> handle;
  private final Channel<String> lines = Channel.create("sd-card lines", CAPACITY);
  // Written by the logger's task only; read by the status view on the loop.
  private int blocks;
  private long bytes;

  SdLogger(Handle<Spi> handle) {
    this.handle = handle;
  }

  /** Queues a line for the card; any thread. False (and counted) if the card is too far behind. */
  boolean log(String line) {
    return lines.offer(line);
  }

  /**
   * The logger's task: writes each line as it comes, telling {@code written} how many bytes, until
   * the channel is closed.
   */
  void run(IntConsumer written) {
    for (String line : lines) {
      written.accept(write(line));
    }
  }

  private int write(String line) {
    byte[] block = (line + "\n").getBytes(StandardCharsets.US_ASCII);
    try (Lease<Spi> bus = handle.acquire()) {
      bus.resource().write(block);
      Tasko.sleep(BUSY); // the card is busy programming the block; it stays selected
    }
    blocks++;
    bytes += block.length;
    return block.length;
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

  long dropped() {
    return lines.dropped();
  }
}
