package dev.tasko.pi4j.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.i2c.I2C;
import com.pi4j.io.spi.Spi;
import com.pi4j.io.spi.SpiBus;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MockBoardTest {
  private final Context pi4j = MockBoard.context();

  @AfterEach
  void shutDown() {
    pi4j.shutdown();
  }

  @Test
  void answerOnSelect_chipSelectLow_transfersReadTheNextAnswer() {
    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));
    DigitalOutput cs = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("cs").address(5)
        .initial(DigitalState.HIGH));
    MockBoard.answerOnSelect(pi4j, "spi", "cs", MockBoard.thermometer());

    List<String> readings = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      cs.low();
      byte[] reply = new byte[2];
      spi.read(reply);
      cs.high();
      readings.add(String.format("%.2f", ((reply[0] & 0xff) << 8 | (reply[1] & 0xff)) / 100.0));
    }

    assertThat(readings).containsExactly("21.50", "21.53");
  }

  @Test
  void answerOnSelect_anotherDevicesPinDrivenHighWhileOneIsSelected_leavesTheBusAlone() {
    // From a hostile test: any change of a pin emptied the bus, even while another device was
    // selected (a second device's chip select driven high when its handle is first made).
    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));
    DigitalOutput csA = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("csA").address(5)
        .initial(DigitalState.HIGH));
    DigitalOutput csB = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("csB").address(6));
    MockBoard.answerOnSelect(pi4j, "spi", "csA", () -> new byte[] {1, 2});
    MockBoard.answerOnSelect(pi4j, "spi", "csB", () -> new byte[] {9, 9});

    csA.low();
    csB.high();
    byte[] reply = new byte[2];
    spi.read(reply);
    csA.high();

    assertThat(reply).containsExactly(1, 2);
  }

  @Test
  void answerAfterWrite_writeRegisterThenReadRegister_readsTheAnswer() {
    // From a hostile test: the register read returned the byte just written there.
    I2C sensor = pi4j.create(I2C.newConfigBuilder(pi4j).id("sensor").bus(1).device(0x44));
    List<String> seen = new ArrayList<>();
    MockBoard.answerAfterWrite(sensor, command -> {
      seen.add(java.util.Arrays.toString(command));
      return new byte[] {0x55, 0x66};
    });

    sensor.writeRegister(0x10, (byte) 0x01);
    byte[] reply = new byte[2];
    int n = sensor.readRegister(0x10, reply);

    assertThat(seen).containsExactly("[16, 1]");
    assertThat(n).isEqualTo(2);
    assertThat(reply).containsExactly(0x55, 0x66);
    sensor.writeRegister(0x10, (byte) 0x02);
    assertThat(sensor.readRegister(0x10)).isEqualTo(0x55);
  }

  @Test
  void answerAfterWrite_command_nextReadReturnsTheAnswer() {
    I2C display = pi4j.create(I2C.newConfigBuilder(pi4j).id("display").bus(1).device(0x3c));
    MockBoard.answerAfterWrite(display, command -> new byte[] {(byte) (command[0] + 1)});

    display.write(new byte[] {41});

    assertThat(display.read()).isEqualTo(42);
  }

  @Test
  void answerAfterWrite_oneByteAndRegisterWrites_answeredToo() throws java.io.IOException {
    // From a hostile test: only write(byte[]) was answered; a driver that sent its command with
    // write(byte) or writeRegister read a stale answer or the register's echo.
    I2C sensor = pi4j.create(I2C.newConfigBuilder(pi4j).id("sensor").bus(1).device(0x44));
    List<String> written = new ArrayList<>();
    MockBoard.answerAfterWrite(sensor, command -> {
      written.add(java.util.Arrays.toString(command));
      return new byte[] {(byte) written.size()};
    });

    I2C plain = new com.pi4j.plugin.mock.provider.i2c.MockI2C(null,
        I2C.newConfigBuilder(pi4j).id("plain").bus(1).device(0x45).build());
    List<Integer> returned = new ArrayList<>();
    List<Integer> plainReturned = new ArrayList<>();
    List<Integer> read = new ArrayList<>();

    returned.add(sensor.write((byte) 0x24));
    plainReturned.add(plain.write((byte) 0x24));
    read.add(sensor.read());
    returned.add(sensor.writeRegister(0x2c, (byte) 6));
    plainReturned.add(plain.writeRegister(0x2c, (byte) 6));
    read.add(sensor.read());
    returned.add(sensor.writeRegister(0x30, new byte[] {1, 2, 3}, 1, 2));
    plainReturned.add(plain.writeRegister(0x30, new byte[] {1, 2, 3}, 1, 2));
    read.add(sensor.read());
    returned.add(sensor.write(StandardCharsets.US_ASCII, "AB"));
    plainReturned.add(plain.write(StandardCharsets.US_ASCII, "AB"));
    read.add(sensor.read());
    returned.add(sensor.writeRegister(0x31, StandardCharsets.US_ASCII, "C"));
    plainReturned.add(plain.writeRegister(0x31, StandardCharsets.US_ASCII, "C"));
    read.add(sensor.read());
    sensor.writeRegister(new byte[] {0x01, 0x02}, new byte[] {7}, 0, 1); // Pi4J's mock fails here
    read.add(sensor.read());

    assertThat(written).containsExactly("[36]", "[44, 6]", "[48, 2, 3]", "[65, 66]", "[49, 67]",
        "[1, 2, 7]");
    assertThat(read).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(returned).isEqualTo(plainReturned); // what Pi4J's own mock returns
  }

  @Test
  void answerAfterWrite_deviceOfAnotherContext_throwsNamingIt() {
    I2C plain = new com.pi4j.plugin.mock.provider.i2c.MockI2C(null,
        I2C.newConfigBuilder(pi4j).id("plain").bus(1).device(0x10).build());

    assertThatThrownBy(() -> MockBoard.answerAfterWrite(plain, command -> null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not a device of MockBoard.context(): ");
  }

  @Test
  void press_button_listenersSeeHighThenLow() {
    DigitalInput button = pi4j.create(DigitalInput.newConfigBuilder(pi4j).id("button").address(17));
    List<DigitalState> seen = new ArrayList<>();
    button.addListener(e -> seen.add(e.state()));

    MockBoard.press(pi4j, "button");

    assertThat(seen).containsExactly(DigitalState.HIGH, DigitalState.LOW);
  }

  @Test
  void answerAfterWrite_answerBytesOf0x80AndAbove_readUnsignedAsADevicesAre() {
    I2C sensor = pi4j.create(I2C.newConfigBuilder(pi4j).id("sensor").bus(1).device(0x44));
    MockBoard.answerAfterWrite(sensor, command -> new byte[] {(byte) 0x80, (byte) 0xff});
    sensor.writeRegister(0x10, (byte) 0x01);

    // Before: -128, then -1 (read as "nothing"), so readRegisterByte threw on a status of 0xff.
    assertThat(sensor.readRegister(0x10)).isEqualTo(0x80);
    assertThat(sensor.read()).isEqualTo(0xff);
    assertThat(sensor.read()).isEqualTo(-1); // the answer is used up
    sensor.writeRegister(0x10, (byte) 0x01);
    assertThat(sensor.readRegisterByte(0x10)).isEqualTo((byte) 0x80);
  }

  @Test
  void answerAfterWrite_writePastTheEndOfTheArray_refusedAsPi4jsMockDoes() {
    I2C sensor = pi4j.create(I2C.newConfigBuilder(pi4j).id("sensor").bus(1).device(0x44));
    List<String> seen = new ArrayList<>();
    MockBoard.answerAfterWrite(sensor, command -> {
      seen.add(java.util.Arrays.toString(command));
      return new byte[] {1};
    });

    // Before: taken, padded with zeros: the answer saw [1, 2, 0, 0, 0].
    assertThatThrownBy(() -> sensor.write(new byte[] {1, 2}, 0, 5))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThat(seen).isEmpty();
  }

  @Test
  void answerOnSelect_noAnswer_refusedNamingIt() {
    pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));
    pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("cs").address(5)
        .initial(DigitalState.HIGH));

    // Before: taken, and every later selection failed inside Pi4J's listener, unseen.
    assertThatThrownBy(() -> MockBoard.answerOnSelect(pi4j, "spi", "cs", null))
        .isInstanceOf(NullPointerException.class).hasMessage("answer == null");
  }

  @Test
  void answerAfterWrite_nullAnswer_refusedNamingIt() {
    I2C sensor = pi4j.create(I2C.newConfigBuilder(pi4j).id("sensor").bus(1).device(0x44));
    MockBoard.answerAfterWrite(sensor, command -> new byte[] {7});

    // Before: taken, and the device quietly stopped answering.
    assertThatThrownBy(() -> MockBoard.answerAfterWrite(sensor, null))
        .isInstanceOf(NullPointerException.class).hasMessage("answer == null");
    sensor.write((byte) 1);
    assertThat(sensor.read()).isEqualTo(7);
  }

  @Test
  void press_anOutput_refusedNamingIt() {
    pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("led").address(5));

    // Before: a bare ClassCastException.
    assertThatThrownBy(() -> MockBoard.press(pi4j, "led"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("inputId 'led' is not a digital input of a MockBoard.context(): ");
    assertThatThrownBy(() -> MockBoard.pressOnEnter(pi4j, "led", InputStream.nullInputStream()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("inputId 'led' is not a digital input of a MockBoard.context(): ");
  }

  @Test
  void answerOnSelect_idsOfTheWrongKind_refusedNamingThem() {
    pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));
    pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("cs").address(5));
    pi4j.create(DigitalInput.newConfigBuilder(pi4j).id("button").address(17));

    assertThatThrownBy(() -> MockBoard.answerOnSelect(pi4j, "cs", "cs", () -> new byte[1]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("spiId 'cs' is not a mock SPI bus of a MockBoard.context(): ");
    assertThatThrownBy(() -> MockBoard.answerOnSelect(pi4j, "spi", "button", () -> new byte[1]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("csId 'button' is not a digital output of a MockBoard.context(): ");
  }

  @Test
  void answerOnSelect_readPastTheAnswer_readsZerosNeverTheHostsOwnBytes() {
    // From a hostile test: past the answer, Pi4J's mock bus read back what the host had sent.
    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));
    DigitalOutput cs = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("cs").address(5)
        .initial(DigitalState.HIGH));
    MockBoard.answerOnSelect(pi4j, "spi", "cs", () -> new byte[] {(byte) 0xa5});

    cs.low();
    byte[] first = new byte[2];
    spi.transfer(new byte[] {0x0b, 0x0c}, first); // the command, clocking out the answer
    byte[] second = new byte[2];
    spi.read(second);
    spi.write((byte) 0x7f);
    int third = spi.read();
    cs.high();

    assertThat(first).containsExactly(0xa5, 0);
    assertThat(second).containsExactly(0, 0);
    assertThat(third).isZero();
  }

  @Test
  void answerOnSelect_answerThrowsOrGivesNothing_theTransferThrowsOrReadsZeros() {
    // From a hostile test: Pi4J swallowed what the answer threw in the pin's listener, and the
    // device read zeros, unseen.
    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));
    DigitalOutput cs = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("cs").address(5)
        .initial(DigitalState.HIGH));
    IllegalStateException unplugged = new IllegalStateException("sensor unplugged");
    boolean[] fail = {true};
    MockBoard.answerOnSelect(pi4j, "spi", "cs", () -> {
      if (fail[0]) {
        throw unplugged;
      }
      return null;
    });

    cs.low();
    assertThatThrownBy(() -> spi.read(new byte[2]))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the answer of the device selected by 'cs' on SPI 'spi' threw")
        .cause().isSameAs(unplugged);
    byte[] after = {9, 9};
    spi.read(after); // thrown once
    cs.high();
    fail[0] = false;
    cs.low();
    byte[] nothing = {9, 9};
    spi.read(nothing);
    cs.high();

    assertThat(after).containsExactly(0, 0);
    assertThat(nothing).containsExactly(0, 0);
  }

  @Test
  void answerOnSelect_anotherDeviceOnTheBus_keepsPi4jsMockBehaviour() {
    // From a review: once one device was played, what was sent to any other on the bus was
    // dropped, so a test could no longer read back what its display was sent.
    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));
    pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("sensor-cs").address(5)
        .initial(DigitalState.HIGH));
    DigitalOutput displayCs = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("display-cs")
        .address(6).initial(DigitalState.HIGH));
    MockBoard.answerOnSelect(pi4j, "spi", "sensor-cs", MockBoard.thermometer());

    displayCs.low();
    spi.write(new byte[] {0x42, 0x43});
    displayCs.high();

    assertThat(((com.pi4j.plugin.mock.provider.spi.MockSpi) spi).readEntireMockBuffer())
        .containsExactly(0x42, 0x43);
  }

  @Test
  void answerOnSelect_answerThrowsAnError_theReadThrowsItNotTheSelection() {
    // From a review: only a RuntimeException was caught, so an AssertionError in a test's answer
    // came out of the chip select's change instead.
    Spi spi = pi4j.create(Spi.newConfigBuilder(pi4j).id("spi").bus(SpiBus.BUS_0).channel(0));
    DigitalOutput cs = pi4j.create(DigitalOutput.newConfigBuilder(pi4j).id("cs").address(5)
        .initial(DigitalState.HIGH));
    AssertionError unexpected = new AssertionError("unexpected select");
    MockBoard.answerOnSelect(pi4j, "spi", "cs", () -> {
      throw unexpected;
    });

    cs.low();

    assertThatThrownBy(() -> spi.read(new byte[2])).isInstanceOf(IllegalStateException.class)
        .cause().isSameAs(unexpected);
    cs.high();
  }
}
