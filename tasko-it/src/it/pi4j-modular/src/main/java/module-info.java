/** A Raspberry Pi program on tasko-pi4j, as a module: the README's requires lines, nothing else. */
module example.sensor {
  requires dev.tasko;
  requires dev.tasko.pi4j;

  exports example.sensor;
}
