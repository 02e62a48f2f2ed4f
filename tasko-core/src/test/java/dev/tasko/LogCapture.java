package dev.tasko;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Captures what the loop logs through System.Logger (backed by java.util.logging). */
final class LogCapture implements AutoCloseable {
  private final Logger logger = Logger.getLogger(Loop.class.getName());
  private final Level previous = logger.getLevel();
  private final List<LogRecord> records = new ArrayList<>();
  private final Handler handler;

  LogCapture(Level level, Consumer<LogRecord> onRecord) {
    handler = new Handler() {
      @Override
      public void publish(LogRecord r) {
        synchronized (records) {
          records.add(r);
        }
        onRecord.accept(r);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    handler.setLevel(Level.ALL);
    logger.setLevel(level);
    logger.addHandler(handler);
  }

  List<String> messages(Level atLeast) {
    List<String> out = new ArrayList<>();
    synchronized (records) {
      for (LogRecord r : records) {
        if (r.getLevel().intValue() >= atLeast.intValue()) {
          Object[] params = r.getParameters();
          String text = params == null ? r.getMessage()
              : java.text.MessageFormat.format(r.getMessage(), params);
          out.add(text);
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    logger.removeHandler(handler);
    logger.setLevel(previous);
  }
}
