package dev.tasko.examples.demo;

/**
 * The 3D printer the toy app polls 5 times a second. Here it prints by itself: each poll finds it
 * 0.05 % further along (a job of about 7 minutes), and it starts over when done.
 */
final class Printer {
  private int polls;

  /** Asks the printer how far it is. */
  void poll() {
    polls++;
  }

  /** How far the job is, in percent. */
  double progress() {
    return (polls * 0.05) % 100.0;
  }

  int polls() {
    return polls;
  }
}
