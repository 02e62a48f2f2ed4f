/** A thermostat on tasko, as a module. */
module example.thermostat {
  requires dev.tasko;

  exports example.thermostat;
}
