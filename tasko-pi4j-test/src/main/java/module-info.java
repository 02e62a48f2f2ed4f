/**
 * Test helpers for Pi4J programs written with tasko: {@link dev.tasko.pi4j.test.MockBoard}, Pi4J's
 * mock platform with devices that answer like real ones. For tests and demos; a program on a
 * Raspberry Pi does not need it.
 */
module dev.tasko.pi4j.test {
  requires transitive com.pi4j;
  requires transitive com.pi4j.plugin.mock;

  exports dev.tasko.pi4j.test;
}
