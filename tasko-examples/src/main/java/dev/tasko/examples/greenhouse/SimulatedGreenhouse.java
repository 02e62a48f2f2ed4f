package dev.tasko.examples.greenhouse;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.i2c.I2C;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import dev.tasko.Loop;
import dev.tasko.Tasko;
import dev.tasko.pi4j.test.MockBoard;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.time.Duration;

/**
 * The world around a {@link Greenhouse} on Pi4J's mock platform: the sun warms the inside by
 * {@value #SUN_WARMS} °C a second, the fan, when on, cools it by {@value #FAN_COOLS} °C a second;
 * the outside sways slowly around 18 °C. The sensors answer with the temperature at the moment
 * they are read (loop time, so virtual time in tests), and a finger presses the button with the
 * contact bouncing, as a real one does. Made after {@link Greenhouse#start}, which creates the
 * devices.
 */
public final class SimulatedGreenhouse {
  /** How fast the sun warms the inside, in °C per second. */
  public static final double SUN_WARMS = 0.2;
  /** How fast the fan cools the inside, in °C per second, while it runs. */
  public static final double FAN_COOLS = 0.5;

  private final Loop loop;
  private final MockDigitalInput button;
  private final DigitalOutput fan;
  private final long origin;
  // ---- read by the sensors' answers, on the task that talks to them ----
  private double insideC = 24.0;
  private long lastNanos;

  private SimulatedGreenhouse(Loop loop, Context pi4j) {
    this.loop = loop;
    this.button = pi4j.io("button");
    this.fan = pi4j.io("fan");
    this.origin = loop.nanoTime();
    this.lastNanos = origin;
    MockBoard.answerAfterWrite(pi4j.<I2C>io("i2c-1-0x44"), command -> encode(insideNow()));
    MockBoard.answerAfterWrite(pi4j.<I2C>io("i2c-1-0x45"), command -> encode(outsideNow()));
  }

  /** Plays the world around the greenhouse's devices in {@code pi4j}, on {@code loop}'s clock. */
  public static SimulatedGreenhouse attach(Loop loop, Context pi4j) {
    return new SimulatedGreenhouse(loop, pi4j);
  }

  private synchronized double insideNow() {
    long now = loop.nanoTime();
    double seconds = (now - lastNanos) / 1e9;
    lastNanos = now;
    insideC += seconds * (SUN_WARMS - (fan.state() == DigitalState.HIGH ? FAN_COOLS : 0));
    return insideC;
  }

  private double outsideNow() {
    double seconds = (loop.nanoTime() - origin) / 1e9;
    return 18.0 + Math.sin(seconds / 600 * 2 * Math.PI); // a ten-minute sway
  }

  private static byte[] encode(double celsius) {
    int centi = (int) Math.round(celsius * 100);
    return new byte[] {(byte) (centi >> 8), (byte) centi};
  }

  /**
   * A finger presses the button for 200 ms; the contact bounces for 2 ms on the way down and on the
   * way up. Call it from a task of the loop: it sleeps there.
   */
  public void press() {
    for (DigitalState s : new DigitalState[] {DigitalState.HIGH, DigitalState.LOW,
        DigitalState.HIGH}) {
      button.mockState(s);
      Tasko.sleep(Duration.ofMillis(1));
    }
    Tasko.sleep(Duration.ofMillis(200));
    for (DigitalState s : new DigitalState[] {DigitalState.LOW, DigitalState.HIGH,
        DigitalState.LOW}) {
      button.mockState(s);
      Tasko.sleep(Duration.ofMillis(1));
    }
  }

  /** Presses the button each time a line (Enter) arrives on {@code in}, from a daemon thread. */
  public void pressOnEnter(InputStream in) {
    Thread keys = new Thread(() -> {
      try (BufferedReader lines =
          new BufferedReader(new InputStreamReader(in, Charset.defaultCharset()))) {
        while (lines.readLine() != null) {
          loop.addTask("finger", this::press);
        }
      } catch (IOException | IllegalStateException e) {
        // stdin closed, or the loop shut down: no more presses
      }
    }, "enter-presses");
    keys.setDaemon(true);
    keys.start();
  }
}
