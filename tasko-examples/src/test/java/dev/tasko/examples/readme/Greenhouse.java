package dev.tasko.examples.readme;

// The README's "Example", verbatim from its first import (ReadmeTest checks it), compiled only:
// its main runs on the real clock until stopped. These stand for the devices it leaves out:
import static dev.tasko.examples.readme.ReadmeSnippets.GreenhouseDevices.buttonPin;
import static dev.tasko.examples.readme.ReadmeSnippets.GreenhouseDevices.sensor;
import static dev.tasko.examples.readme.ReadmeSnippets.GreenhouseDevices.spinner;

import static dev.tasko.Rate.hz;

import dev.tasko.Loop;
import dev.tasko.Tasko;
import dev.tasko.pi4j.EdgeWatcher;
import java.time.Duration;

public class Greenhouse {
  static boolean reading;                      // no volatile, no lock: one task runs at a time

  public static void main(String[] args) {
    Loop loop = Loop.create();
    loop.schedule(Duration.ofSeconds(10), () -> {   // every 10 s, on a fixed grid
      reading = true;
      sensor.startMeasurement();
      Tasko.sleep(Duration.ofSeconds(1));           // the other jobs keep running meanwhile
      System.out.println("temperature " + sensor.result());
      reading = false;
    });
    loop.schedule(hz(10), () -> spinner.animate(reading));   // 10 times a second
    EdgeWatcher presses = EdgeWatcher.builder(buttonPin)     // a Pi4J input (tasko-pi4j)
        .loop(loop)
        .direction(EdgeWatcher.Direction.RISING)             // pressed: LOW to HIGH
        .debounce(Duration.ofMillis(20))                     // a bouncing contact is one press
        .build();
    loop.addTask("button", () -> {
      for (EdgeWatcher.Edge press : presses.edges()) {       // sleeps until a press: no polling
        loop.runLater(Duration.ofSeconds(1), () -> sensor.startMeasurement());
      }
    });
    loop.run();                                     // while (true), redefined
  }
}
