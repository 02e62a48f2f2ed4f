package dev.tasko.pi4j.test;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.i2c.I2C;
import com.pi4j.io.i2c.I2CConfig;
import com.pi4j.io.i2c.I2CProvider;
import com.pi4j.io.spi.Spi;
import com.pi4j.io.spi.SpiConfig;
import com.pi4j.io.spi.SpiProvider;
import com.pi4j.plugin.mock.platform.MockPlatform;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInputProvider;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalOutputProvider;
import com.pi4j.plugin.mock.provider.i2c.MockI2C;
import com.pi4j.plugin.mock.provider.i2c.MockI2CProviderImpl;
import com.pi4j.plugin.mock.provider.spi.MockSpi;
import com.pi4j.plugin.mock.provider.spi.MockSpiProviderImpl;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * A Raspberry Pi that is not there, for tests and demos: Pi4J's mock platform, plus devices played
 * in software — an SPI device that answers when its chip select goes low, an I2C device that
 * answers each command, a button to press. The code under test takes the {@link Context} as any
 * Pi4J program does; only the test (or a demo's {@code main}) makes it here, where a real program
 * calls {@code Pi4J.newAutoContext()}.
 *
 * <pre>{@code
 * Context pi4j = MockBoard.context();
 * Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0)...);
 * DigitalOutput sensorCs = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("sensor-cs")...);
 * MockBoard.answerOnSelect(pi4j, "spi", "sensor-cs", MockBoard.thermometer());
 * ... run the program on a TestLoop; it reads 21.50 °C, then 21.53 °C, ...
 * MockBoard.press(pi4j, "button");
 * pi4j.shutdown();
 * }</pre>
 *
 * <p>Pi4J's mock pins and buses do nothing by themselves: a mock SPI bus answers each transfer
 * with whatever the previous one sent, a mock I2C device hands back what was written to it. The
 * methods here make them answer like a device would.
 *
 * <h2>Threads</h2>
 * Pi4J runs a mock pin's listeners on the thread that changes the pin: {@link #press} and a chip
 * select's change run them on the caller's thread. Called from a test's thread, a press acts like
 * an interrupt from outside the loop; called from a task, like a change the loop caused itself.
 */
public final class MockBoard {
  private MockBoard() {}

  /**
   * A Pi4J context on the mock platform: digital inputs and outputs, SPI and I2C, with no hardware.
   * Shut it down when done ({@link Context#shutdown()}).
   */
  public static Context context() {
    return Pi4J.newContextBuilder()
        .add(new MockPlatform())
        .add(MockDigitalInputProvider.newInstance(), MockDigitalOutputProvider.newInstance(),
            new AnsweringSpiProvider(), new AnsweringI2cProvider())
        .build();
  }

  /**
   * Plays an SPI device: whenever its chip select {@code csId} goes low, the mock bus {@code spiId}
   * is loaded with {@code answer}'s next reply (nothing, if it returns null), which the following
   * transfers and reads take in turn; once it is used up, they read zeros, as from a device with
   * nothing more to say. While it is selected, what the host sends goes to the device: unlike on
   * Pi4J's plain mock bus, it never comes back in a later read. When the pin goes high again, what
   * is left of the reply is dropped, and the bus is Pi4J's mock again for the other devices on it
   * (what is sent to them can be read back with {@code MockSpi.readEntireMockBuffer()}). A pin
   * that goes high while its device is not selected (driven inactive when first set up) leaves the
   * bus alone: another device on it may be selected. If {@code answer} throws, the next transfer,
   * read or write on the bus throws an {@link IllegalStateException} with that exception as its
   * cause, in the task that talks to the device (Pi4J would otherwise swallow it in the pin's
   * listener, and the device would read zeros); an {@link Error} too, but for a
   * {@link VirtualMachineError}.
   *
   * @throws NullPointerException if {@code answer} is null
   * @throws IllegalArgumentException if {@code spiId} is not a mock SPI bus, or {@code csId} not a
   *     digital output, of a {@link #context()}
   * @throws RuntimeException if Pi4J has no IO with those ids
   */
  public static void answerOnSelect(Context pi4j, String spiId, String csId,
      Supplier<byte[]> answer) {
    Objects.requireNonNull(answer, "answer == null");
    AnsweringSpi spi = io(pi4j, "spiId", spiId, AnsweringSpi.class, "a mock SPI bus");
    DigitalOutput cs = io(pi4j, "csId", csId, DigitalOutput.class, "a digital output");
    boolean[] selected = {false}; // Pi4J calls a pin's listeners one change at a time
    cs.addListener(e -> {
      if (e.state() == DigitalState.LOW) {
        spi.select(csId, answer);
        selected[0] = true;
      } else if (selected[0]) {
        spi.deselect(); // the transfer is over
        selected[0] = false;
      }
    });
  }

  /**
   * Plays an I2C device: after each write to {@code device} (any {@code write}, or any
   * {@code writeRegister}, which the device sees as the register's address and then the data),
   * the next reads return
   * {@code answer.apply(whatWasWritten)} (or nothing, when it returns null), register reads
   * included. Works on devices of a {@link #context()}.
   *
   * @throws NullPointerException if {@code answer} is null (to answer nothing, pass
   *     {@code command -> null})
   * @throws IllegalArgumentException if {@code device} was not made by a {@link #context()}
   */
  public static void answerAfterWrite(I2C device, UnaryOperator<byte[]> answer) {
    Objects.requireNonNull(answer, "answer == null");
    if (!(device instanceof AnsweringI2c a)) {
      throw new IllegalArgumentException("not a device of MockBoard.context(): " + device);
    }
    a.answer = answer;
  }

  /**
   * A pretend thermometer's replies: two bytes, big-endian, in hundredths of a degree Celsius:
   * 21.50 °C first, then 0.03 °C warmer at each reading, wrapping after 0.99 °C. Deterministic, so
   * that tests know what to expect.
   */
  public static Supplier<byte[]> thermometer() {
    int[] readings = {0};
    return () -> {
      int centi = 2150 + (readings[0]++ * 3) % 100;
      return new byte[] {(byte) (centi >> 8), (byte) centi};
    };
  }

  /**
   * Presses and releases the mock button {@code inputId}: HIGH, then LOW, a button wired to read
   * HIGH while pressed (on one wired to read LOW while pressed, a pull-up's, set the levels
   * yourself; on an input already HIGH this sends only the LOW). Pi4J calls the input's
   * listeners on the calling thread, whichever it is. The press lasts no time at all, so a
   * debounced watcher ignores it as a glitch: to test one, set the levels yourself
   * ({@code MockDigitalInput.mockState}) with the time between them a press takes.
   *
   * @throws IllegalArgumentException if {@code inputId} is not a digital input of a
   *     {@link #context()}
   * @throws RuntimeException if Pi4J has no IO with that id
   */
  public static void press(Context pi4j, String inputId) {
    MockDigitalInput button = io(pi4j, "inputId", inputId, MockDigitalInput.class,
        "a digital input");
    button.mockState(DigitalState.HIGH);
    button.mockState(DigitalState.LOW);
  }

  /**
   * Presses the mock button {@code inputId} each time a line (Enter) arrives on {@code in}, from a
   * daemon thread of its own: a thread outside the loop, like Pi4J's listener threads on a real Pi.
   *
   * @throws IllegalArgumentException if {@code inputId} is not a digital input of a
   *     {@link #context()}
   * @throws RuntimeException if Pi4J has no IO with that id
   */
  public static void pressOnEnter(Context pi4j, String inputId, InputStream in) {
    io(pi4j, "inputId", inputId, MockDigitalInput.class, "a digital input"); // refused now, here
    Thread keys = new Thread(() -> {
      Charset charset = Charset.defaultCharset();
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(in, charset))) {
        while (lines.readLine() != null) {
          press(pi4j, inputId);
        }
      } catch (IOException e) {
        // stdin closed: no more presses
      }
    }, "enter-presses-" + inputId);
    keys.setDaemon(true);
    keys.start();
  }

  /**
   * The IO of {@code pi4j} with id {@code id}, if it is a {@code type}; else an exception naming
   * the parameter, the id and what the IO is (a {@code ClassCastException} from deep in a
   * listener says neither).
   */
  private static <T> T io(Context pi4j, String param, String id, Class<T> type, String what) {
    Object io = pi4j.io(id);
    if (!type.isInstance(io)) {
      throw new IllegalArgumentException(param + " '" + id + "' is not " + what + " of a"
          + " MockBoard.context(): " + io.getClass().getSimpleName());
    }
    return type.cast(io);
  }

  /** A mock I2C device that can be told how to answer a command. */
  private static final class AnsweringI2c extends MockI2C {
    /** Set before the loop runs; read by the task that talks to the device. */
    volatile UnaryOperator<byte[]> answer;

    AnsweringI2c(I2CProvider provider, I2CConfig config) {
      super(provider, config);
    }

    @Override
    public int write(byte[] data, int offset, int length) {
      if (answer == null) {
        return super.write(data, offset, length);
      }
      // As Pi4J's mock refuses them, rather than pad the command with zeros.
      Objects.checkFromIndexSize(offset, length, data.length);
      loadAnswer(Arrays.copyOfRange(data, offset, offset + length));
      return length;
    }

    // The other writes return what Pi4J's mock returns for them; what the answer sees is what a
    // device sees on the wire: a register write is the register's address, then the data.

    @Override
    public int write(byte b) {
      int n = super.write(b);
      answerIfPlayed(new byte[] {b});
      return n;
    }

    @Override
    public int write(Charset charset, CharSequence text) {
      int n = super.write(charset, text);
      answerIfPlayed(text.toString().getBytes(charset));
      return n;
    }

    @Override
    public int writeRegister(int register, byte b) {
      int n = super.writeRegister(register, b);
      answerIfPlayed(new byte[] {(byte) register, b});
      return n;
    }

    @Override
    public int writeRegister(int register, byte[] data, int offset, int length) {
      int n = super.writeRegister(register, data, offset, length);
      answerIfPlayed(concat(new byte[] {(byte) register}, data, offset, length));
      return n;
    }

    @Override
    public int writeRegister(int register, Charset charset, CharSequence text) {
      int n = super.writeRegister(register, charset, text);
      byte[] bytes = text.toString().getBytes(charset);
      answerIfPlayed(concat(new byte[] {(byte) register}, bytes, 0, bytes.length));
      return n;
    }

    @Override
    public int writeRegister(byte[] register, byte[] data, int offset, int length) {
      if (answer == null) {
        return super.writeRegister(register, data, offset, length);
      }
      // Not through Pi4J's mock, whose version of this call fails on its own buffer.
      loadAnswer(concat(register, data, offset, length));
      return length;
    }

    // Reads of a register read the answer too, as a device answers its last command whatever
    // register is named; without an answer, Pi4J's mock reads back what was written there.

    @Override
    public int readRegister(int register) {
      return answer == null ? super.readRegister(register) : read();
    }

    /**
     * One byte of the answer, 0 to 255 as a real device's read gives it, or -1 when there is none;
     * Pi4J's mock gives it signed, so that a byte of 0x80 or more would read negative (0xff as -1,
     * "nothing").
     */
    @Override
    public int read() {
      if (answer == null) {
        return super.read();
      }
      byte[] one = new byte[1];
      return read(one, 0, 1) < 1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int readRegister(int register, byte[] buffer, int offset, int length) {
      return answer == null ? super.readRegister(register, buffer, offset, length)
          : read(buffer, offset, length);
    }

    @Override
    public int readRegister(byte[] register, byte[] buffer, int offset, int length) {
      return answer == null ? super.readRegister(register, buffer, offset, length)
          : read(buffer, offset, length);
    }

    @Override
    public String readRegisterString(int register, Charset charset, int length) {
      return answer == null ? super.readRegisterString(register, charset, length)
          : readString(charset, length);
    }

    private void answerIfPlayed(byte[] written) {
      if (answer != null) {
        loadAnswer(written);
      }
    }

    private static byte[] concat(byte[] head, byte[] data, int offset, int length) {
      byte[] all = Arrays.copyOf(head, head.length + length);
      System.arraycopy(data, offset, all, head.length, length);
      return all;
    }

    /** Loads the answer to {@code written} for the next reads; a command replaces an unread one. */
    private void loadAnswer(byte[] written) {
      raw.clear();
      byte[] reply = answer.apply(written);
      if (reply != null) {
        for (byte b : reply) {
          raw.add(b);
        }
      }
    }
  }

  /**
   * A mock SPI bus whose played devices ({@link #answerOnSelect}) answer: while one is selected,
   * what the host sends is taken by the device rather than put back on the bus, and reads past the
   * answer read zeros. Otherwise, Pi4J's mock as it is. Its methods are synchronized: the thread
   * that selects a device (a pin's listener) may not be the one that transfers.
   */
  private static final class AnsweringSpi extends MockSpi {
    /** Whether a played device is selected now. */
    private boolean played;
    /** What the selected device's answer threw, for the next call to throw; null if nothing. */
    private RuntimeException answerFailed;

    AnsweringSpi(SpiProvider provider, SpiConfig config) {
      super(provider, config);
    }

    synchronized void select(String csId, Supplier<byte[]> answer) {
      raw.clear(); // a new selection starts from a clean bus
      answerFailed = null;
      played = true;
      byte[] reply;
      try {
        reply = answer.get();
      } catch (VirtualMachineError e) {
        throw e;
      } catch (RuntimeException | Error e) {
        answerFailed = new IllegalStateException("the answer of the device selected by '" + csId
            + "' on SPI '" + id() + "' threw", e);
        return;
      }
      if (reply != null) {
        for (byte b : reply) {
          raw.add(b);
        }
      }
    }

    synchronized void deselect() {
      raw.clear();
      answerFailed = null;
      played = false;
    }

    @Override
    public synchronized byte[] readEntireMockBuffer() {
      return super.readEntireMockBuffer();
    }

    @Override
    public synchronized void close() {
      super.close();
    }

    /** Throws what the selected device's answer threw, once. */
    private void throwIfAnswerFailed() {
      RuntimeException e = answerFailed;
      if (e != null) {
        answerFailed = null;
        throw e;
      }
    }

    /** Fills {@code n} bytes from {@code offset} with the answer, then zeros. */
    private void answer(byte[] into, int offset, int n) {
      for (int i = 0; i < n; i++) {
        Byte b = raw.poll();
        into[offset + i] = b == null ? 0 : b;
      }
    }

    @Override
    public synchronized int transfer(byte[] write, int writeOffset, byte[] read, int readOffset,
        int length) {
      if (!played) {
        return super.transfer(write, writeOffset, read, readOffset, length);
      }
      throwIfAnswerFailed();
      Objects.checkFromIndexSize(writeOffset, length, write.length);
      Objects.checkFromIndexSize(readOffset, length, read.length);
      answer(read, readOffset, length);
      return length;
    }

    @Override
    public synchronized int read(byte[] buffer, int offset, int length) {
      if (!played) {
        return super.read(buffer, offset, length);
      }
      throwIfAnswerFailed();
      Objects.checkFromIndexSize(offset, length, buffer.length);
      answer(buffer, offset, length);
      return length;
    }

    @Override
    public synchronized int read() {
      if (!played) {
        return super.read();
      }
      throwIfAnswerFailed();
      Byte b = raw.poll();
      return b == null ? 0 : b & 0xff;
    }

    @Override
    public synchronized int write(byte[] data, int offset, int length) {
      if (!played) {
        return super.write(data, offset, length);
      }
      throwIfAnswerFailed();
      Objects.checkFromIndexSize(offset, length, data.length);
      return length; // taken by the device
    }

    @Override
    public synchronized int write(byte b) {
      if (!played) {
        return super.write(b);
      }
      throwIfAnswerFailed();
      return 1;
    }

    @Override
    public synchronized int write(Charset charset, CharSequence text) {
      if (!played) {
        return super.write(charset, text);
      }
      throwIfAnswerFailed();
      return text.toString().getBytes(charset).length;
    }
  }

  /** Pi4J's mock SPI provider, making {@link AnsweringSpi} buses. */
  private static final class AnsweringSpiProvider extends MockSpiProviderImpl {
    @Override
    public Spi create(SpiConfig config) {
      AnsweringSpi spi = new AnsweringSpi(this, config);
      context.registry().add(spi);
      return spi;
    }
  }

  /** Pi4J's mock I2C provider, making {@link AnsweringI2c} devices. */
  private static final class AnsweringI2cProvider extends MockI2CProviderImpl {
    @Override
    public I2C create(I2CConfig config) {
      AnsweringI2c device = new AnsweringI2c(this, config);
      context.registry().add(device);
      return device;
    }
  }
}
