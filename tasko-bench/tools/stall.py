#!/usr/bin/env python3
"""Makes the machine stall on purpose, to see how a scheduler copes (Linux, as root).

    python3 stall.py CPU MS PERIOD

Pins itself to processor CPU, takes real-time priority (SCHED_FIFO 50, above every ordinary
thread) and, at each multiple of PERIOD seconds of the wall clock, spins for MS milliseconds.
One copy per processor, with the same MS and PERIOD, stalls them all at once:

    python3 stall.py 0 10 2 & python3 stall.py 1 10 2 &

Linux's real-time throttling (by default at most 95% of each second) keeps the machine usable
whatever the arguments. Stop the copies with kill.
"""
import os
import sys
import time

cpu, ms, period = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
os.sched_setaffinity(0, {cpu})
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
while True:
    time.sleep(period - time.time() % period)
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass
