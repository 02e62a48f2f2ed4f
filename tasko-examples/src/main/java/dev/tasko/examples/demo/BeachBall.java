package dev.tasko.examples.demo;

/** The "loading" spinner: moves on a frame each time it is animated while the sensor reads. */
final class BeachBall {
  private static final char[] FRAMES = {'|', '/', '-', '\\'};

  private final Sensor sensor;
  private int frames;

  BeachBall(Sensor sensor) {
    this.sensor = sensor;
  }

  /** One animation step: a new frame if a read is in flight, nothing otherwise. */
  boolean animate() {
    if (!sensor.busy()) {
      return false;
    }
    frames++;
    return true;
  }

  /** What to draw now: the current frame while reading, a dot at rest. */
  char glyph() {
    return sensor.busy() ? FRAMES[frames % FRAMES.length] : '.';
  }

  int frames() {
    return frames;
  }
}
