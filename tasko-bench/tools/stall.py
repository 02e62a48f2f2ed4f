#!/usr/bin/env python3
"""Makes the machine stall on purpose, to see how a scheduler copes (Linux, as root).

    python3 stall.py CPU MS PERIOD

Pins itself to processor CPU, takes real-time priority (SCHED_FIFO 50, above every ordinary
thread) and, at each multiple of PERIOD seconds of the wall clock, spins for MS milliseconds
(MS must be under PERIOD). One copy per processor, with the same MS and PERIOD, stalls them all
at once:

    sudo python3 stall.py 0 10 2 & sudo python3 stall.py 1 10 2 &

Linux's real-time throttling (kernel.sched_rt_runtime_us, by default 95% of each second) keeps
the machine usable; with it switched off (-1) a long MS can starve everything else on that
processor. Stop the copies with (sudo) kill.
"""
import os
import sys
import time

if len(sys.argv) != 4:
    sys.exit(__doc__)
cpu, ms, period = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
if not 0 < ms < period * 1000:
    sys.exit(f"MS not between 0 and PERIOD: {ms} ms every {period} s")
os.sched_setaffinity(0, {cpu})
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
while True:
    time.sleep(period - time.time() % period)
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass
