#!/usr/bin/env python3
"""Python peers for the tasko-java benchmarks.

Runs the same workloads as tasko-bench against two Python schedulers so the
Java numbers have something to be compared with:

  --impl asyncio   the standard library's asyncio event loop
  --impl tasko     the original Python tasko, imported from a checkout given
                   with --tasko-src DIR (nothing of it is bundled here)

Workloads: switch, accuracy, idle, scale (or --workload all).  Every result is
printed twice: as a small table for people, and as lines of the form

    <impl>.<workload> <metric> <value> <unit>

for machines (impl is "asyncio" or "tasko-py").  No other line printed by this
script has that shape.

Standard library only; Python 3.8 or newer (tested with 3.11).
"""

import argparse
import asyncio
import gc
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time

WORKLOADS = ("switch", "accuracy", "idle", "scale")
IMPL_LABEL = {"asyncio": "asyncio", "tasko": "tasko-py"}

# Defaults (full run) and --smoke sizes (about one second per workload).
DEFAULT_SECONDS = {"switch": 5.0, "accuracy": 10.0, "idle": 10.0}
SMOKE_SECONDS = {"switch": 1.0, "accuracy": 1.0, "idle": 1.0}
DEFAULT_TASKS = 100_000
# The original tasko re-sorts its whole sleeper list (with a key function) on
# every sleep, so scale is quadratic there: 10,000 tasks take seconds, 100,000
# did not finish in 19 minutes.  Its default is therefore smaller.
DEFAULT_TASKS_TASKO = 10_000
SMOKE_TASKS = 1_000
SWITCH_TASKS = 100
ACCURACY_JOBS = 96
SCALE_SEED = 20240601


def accuracy_rates(jobs=ACCURACY_JOBS):
    """The original tasko's rate test: job i runs at 3*(i+1)+5 Hz (8 Hz .. 293 Hz)."""
    return [3 * (i + 1) + 5 for i in range(jobs)]


# --------------------------------------------------------------------------
# helpers


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = math.ceil(p / 100.0 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def current_rss_bytes():
    """Resident set size right now, from /proc/self/statm (Linux).

    Falls back to the peak (ru_maxrss) where /proc is not available, which
    makes deltas an upper bound rather than a snapshot."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()


def peak_rss_bytes():
    """Peak RSS of this process; ru_maxrss is KiB on Linux, bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class Report:
    """Collects metrics for one (impl, workload) and prints both forms."""

    def __init__(self, impl, workload):
        self.name = "%s.%s" % (IMPL_LABEL[impl], workload)
        self.rows = []
        self.notes = []

    def add(self, metric, value, unit, label=None):
        self.rows.append((metric, value, unit, label or metric))

    def note(self, text):
        self.notes.append(text)

    def emit(self):
        def fmt(v):
            if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
                v = int(v)
            if isinstance(v, int):
                return str(v)
            if abs(v) >= 100:
                return "%.1f" % v
            return "%.3f" % v if abs(v) >= 1 else "%.4g" % v

        width = max(len(r[3]) for r in self.rows)
        print("== %s ==" % self.name)
        for metric, value, unit, label in self.rows:
            print("  %-*s  %14s %s" % (width, label, fmt(value), unit))
        for text in self.notes:
            print("  (%s)" % text)
        for metric, value, unit, _ in self.rows:
            print("%s %s %s %s" % (self.name, metric, fmt(value), unit))
        sys.stdout.flush()


def load_tasko(src):
    """Import the original tasko's loop module from a checkout directory."""
    if not src:
        sys.exit("--impl tasko needs --tasko-src DIR (a checkout of the original Python tasko)")
    src = os.path.abspath(src)
    if not os.path.isfile(os.path.join(src, "tasko", "loop.py")):
        sys.exit("--tasko-src %s: no tasko/loop.py there" % src)
    sys.path.insert(0, src)
    import tasko.loop as tasko_loop  # noqa: E402  (path set just above)
    return tasko_loop


# --------------------------------------------------------------------------
# switch: 100 tasks yielding to each other in turn


def switch_round_asyncio(seconds, ntasks):
    stop = [False]

    async def worker():
        sleep = asyncio.sleep
        n = 0
        while not stop[0]:
            await sleep(0)
            n += 1
        return n

    async def main():
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        loop.call_later(seconds, stop.__setitem__, 0, True)
        counts = await asyncio.gather(*[worker() for _ in range(ntasks)])
        return sum(counts), time.perf_counter() - t0

    return asyncio.run(main())


def switch_round_tasko(tl, seconds, ntasks):
    loop = tl.Loop()
    yield_once = tl._yield_once
    stop = [False]
    total = [0]

    async def worker():
        n = 0
        while not stop[0]:
            await yield_once()
            n += 1
        total[0] += n

    async def stopper():
        await loop.sleep(seconds)
        stop[0] = True

    loop.add_task(stopper())
    for _ in range(ntasks):
        loop.add_task(worker())
    t0 = time.perf_counter()
    loop.run()
    return total[0], time.perf_counter() - t0


def run_switch(impl, tl, seconds, rounds):
    per_round = seconds / rounds
    results = []
    for _ in range(rounds):
        if impl == "asyncio":
            switches, elapsed = switch_round_asyncio(per_round, SWITCH_TASKS)
        else:
            switches, elapsed = switch_round_tasko(tl, per_round, SWITCH_TASKS)
        results.append((elapsed * 1e9 / switches, switches, elapsed))
    ns = sorted(r[0] for r in results)
    rep = Report(impl, "switch")
    rep.add("switch_ns_median", statistics.median(ns), "ns", "ns per switch (median)")
    rep.add("switch_ns_min", ns[0], "ns", "ns per switch (best round)")
    rep.add("switch_ns_max", ns[-1], "ns", "ns per switch (worst round)")
    rep.add("switches_per_round", int(statistics.median(r[1] for r in results)), "switches",
            "switches per round (median)")
    rep.add("rounds", rounds, "rounds")
    rep.note("%d tasks, %d rounds of %.2f s; a switch is one task resumed after one yield"
             % (SWITCH_TASKS, rounds, per_round))
    rep.emit()


# --------------------------------------------------------------------------
# accuracy / idle: periodic jobs on a drift-free fixed-rate grid
#
# Each returns (counts per job, lateness list in microseconds, cpu seconds,
# wall seconds).  A run is counted when it starts before first + seconds; the
# first run of a job that starts at or after that deadline ends the job.


def periodic_asyncio(rates, seconds):
    counts = [0] * len(rates)
    late = []  # seconds
    cpu_end = [None]
    wall_end = [None]

    async def job(i, first, deadline):
        loop = asyncio.get_running_loop()
        clock = loop.time
        sleep = asyncio.sleep
        record = late.append
        interval = 1.0 / rates[i]
        target = first
        while True:
            await sleep(target - clock())
            now = clock()
            if now >= deadline:
                if cpu_end[0] is None:
                    cpu_end[0] = time.process_time()
                    wall_end[0] = now
                return
            record(now - target)
            counts[i] += 1
            # next run on the grid; if two or more intervals behind, skip ahead
            target += interval
            now = clock()
            if now - target >= 2 * interval:
                target = now

    async def main():
        loop = asyncio.get_running_loop()
        cpu0 = time.process_time()
        first = loop.time()
        deadline = first + seconds
        await asyncio.gather(*[job(i, first, deadline) for i in range(len(rates))])
        return cpu_end[0] - cpu0, wall_end[0] - first

    cpu, wall = asyncio.run(main())
    return counts, [x * 1e6 for x in late], cpu, wall


def periodic_tasko(tl, rates, seconds):
    """Drives the original tasko with loop.schedule(hz, fn).

    The original has no lateness hook, so the job body tracks the grid time
    the original targets for its next run, mirroring ScheduledTask's
    _run_at_fixed_rate: the first target is the clock reading taken just
    before the first call; after a run the target advances by the interval
    (float nanoseconds, (1/hz)*1e9); if the clock read after the run is past
    that target, the original re-bases the target to that reading and only
    yields once before the next run.  Our end-of-body clock reading stands in
    for the original's (taken a few microseconds later)."""
    loop = tl.Loop()
    clock = time.monotonic_ns  # the original's default time provider
    n = len(rates)
    counts = [0] * n
    late = []  # nanoseconds
    grid = [None] * n
    intervals = [(1 / hz) * 1000000000 for hz in rates]
    handles = [None] * n
    cpu_end = [None]
    wall_end = [None]
    deadline = [0]
    record = late.append

    async def body(i):
        start = clock()
        if start >= deadline[0]:
            handles[i].stop()  # the original checks stop before its next sleep
            if cpu_end[0] is None:
                cpu_end[0] = time.process_time()
                wall_end[0] = start
            return
        target = grid[i]
        if target is None:
            target = start
        record(start - target)
        counts[i] += 1
        target += intervals[i]
        end = clock()
        if end > target:
            target = end
        grid[i] = target

    for i, hz in enumerate(rates):
        handles[i] = loop.schedule(hz, body, i)
    cpu0 = time.process_time()
    first = clock()
    deadline[0] = first + int(seconds * 1e9)
    loop.run()
    return counts, [x / 1000.0 for x in late], cpu_end[0] - cpu0, (wall_end[0] - first) / 1e9


def run_periodic(impl, tl, rates, seconds):
    if impl == "asyncio":
        return periodic_asyncio(rates, seconds)
    return periodic_tasko(tl, rates, seconds)


def run_accuracy(impl, tl, seconds):
    rates = accuracy_rates()
    counts, late, cpu, wall = run_periodic(impl, tl, rates, seconds)
    errors = [abs(c - seconds * hz) for c, hz in zip(counts, rates)]
    worst = max(range(len(rates)), key=lambda i: errors[i])
    late.sort()
    expected = seconds * sum(rates)
    rep = Report(impl, "accuracy")
    rep.add("count_error_max", errors[worst], "runs", "max |count - S*rate| per job")
    rep.add("runs", sum(counts), "runs", "runs in total (expected %d)" % round(expected))
    rep.add("lateness_p50", percentile(late, 50), "us", "lateness p50")
    rep.add("lateness_p99", percentile(late, 99), "us", "lateness p99")
    rep.add("lateness_max", late[-1], "us", "lateness max")
    rep.add("cpu", cpu, "s", "process CPU during the run")
    rep.add("wall", wall, "s", "wall time of the run")
    rep.note("%d jobs at 8..293 Hz for %g s; worst job %d (%d Hz) ran %d times"
             % (len(rates), seconds, worst, rates[worst], counts[worst]))
    rep.emit()


def run_idle(impl, tl, seconds):
    counts, late, cpu, wall = run_periodic(impl, tl, [1], seconds)
    late.sort()
    rep = Report(impl, "idle")
    rep.add("cpu", cpu, "s", "process CPU during the run")
    rep.add("cpu_fraction", cpu / wall, "ratio", "CPU / wall")
    rep.add("runs", counts[0], "runs", "runs of the 1 Hz job")
    rep.add("lateness_max", late[-1], "us", "lateness max")
    rep.add("wall", wall, "s", "wall time of the run")
    rep.note("one 1 Hz job for %g s; CPU measured across the run only" % seconds)
    rep.emit()


# --------------------------------------------------------------------------
# scale: N tasks, each sleeping once for a random 0..1 s
#
# Memory per task is an RSS delta (/proc/self/statm): baseline taken just
# before creating the tasks, snapshot taken when the last task starts (all
# others are asleep by then, none has woken yet), divided by N.


def scale_asyncio(delays):
    n = len(delays)
    state = {"started": 0, "remaining": n, "rss": 0}

    async def sleeper(d, done):
        state["started"] += 1
        if state["started"] == n:
            state["rss"] = current_rss_bytes()
        await asyncio.sleep(d)
        state["remaining"] -= 1
        if state["remaining"] == 0:
            done.set_result(time.perf_counter())

    async def main():
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        gc.collect()
        base = current_rss_bytes()
        t0 = time.perf_counter()
        create = asyncio.create_task
        tasks = [create(sleeper(d, done)) for d in delays]
        t1 = time.perf_counter()
        t_done = await done
        del tasks
        return t1 - t0, t_done - t0, state["rss"] - base

    return asyncio.run(main())


def scale_tasko(tl, delays):
    n = len(delays)
    loop = tl.Loop()
    state = {"started": 0, "remaining": n, "rss": 0, "done": 0.0}

    async def sleeper(d):
        state["started"] += 1
        if state["started"] == n:
            state["rss"] = current_rss_bytes()
        await loop.sleep(d)
        state["remaining"] -= 1
        if state["remaining"] == 0:
            state["done"] = time.perf_counter()

    gc.collect()
    base = current_rss_bytes()
    t0 = time.perf_counter()
    add = loop.add_task
    for d in delays:
        add(sleeper(d))
    t1 = time.perf_counter()
    loop.run()
    return t1 - t0, state["done"] - t0, state["rss"] - base


def run_scale(impl, tl, ntasks):
    rng = random.Random(SCALE_SEED)
    delays = [rng.random() for _ in range(ntasks)]  # made before timing starts
    if impl == "asyncio":
        create, total, delta = scale_asyncio(delays)
    else:
        if ntasks > 20000:
            print("note: the original tasko re-sorts every sleeper on each sleep (quadratic); "
                  "%d tasks may take a very long time" % ntasks, file=sys.stderr)
        create, total, delta = scale_tasko(tl, delays)
    rep = Report(impl, "scale")
    rep.add("tasks", ntasks, "tasks")
    rep.add("create_time", create, "s", "time to create the tasks")
    rep.add("total_time", total, "s", "create + all sleeps done")
    rep.add("peak_rss", peak_rss_bytes(), "bytes", "peak RSS (ru_maxrss)")
    rep.add("bytes_per_task", delta / ntasks, "bytes", "RSS delta per sleeping task")
    rep.note("each task sleeps once for random 0..1 s (seed %d); bytes_per_task = "
             "(RSS with all tasks asleep - RSS before creating them) / N, from /proc/self/statm"
             % SCALE_SEED)
    rep.emit()


# --------------------------------------------------------------------------
# command line


def main(argv=None):
    p = argparse.ArgumentParser(description="Python peers (asyncio, original tasko) for tasko-bench")
    p.add_argument("--workload", choices=WORKLOADS + ("all",), default="all")
    p.add_argument("--impl", choices=("asyncio", "tasko", "both"), default="asyncio")
    p.add_argument("--tasko-src", metavar="DIR", default=os.environ.get("TASKO_SRC"),
                   help="checkout of the original Python tasko (or env TASKO_SRC)")
    p.add_argument("--seconds", type=float, metavar="S",
                   help="run length for switch/accuracy/idle (defaults: switch 5, accuracy 10, idle 10)")
    p.add_argument("--rounds", type=int, default=5, help="switch: rounds, median reported (default 5)")
    p.add_argument("--tasks", type=int, metavar="N", help="scale: number of tasks (default %d; %d for --impl tasko)"
                   % (DEFAULT_TASKS, DEFAULT_TASKS_TASKO))
    p.add_argument("--smoke", action="store_true", help="about one second per workload (CI)")
    args = p.parse_args(argv)

    workloads = WORKLOADS if args.workload == "all" else (args.workload,)
    impls = ("asyncio", "tasko") if args.impl == "both" else (args.impl,)
    if "tasko" in impls and not args.tasko_src:
        p.error("--impl tasko needs --tasko-src DIR")

    if len(workloads) * len(impls) > 1:
        # One process per (impl, workload): peak RSS, gc state and the original
        # tasko's module-level clock stay separate, and nothing runs concurrently.
        rc = 0
        for impl in impls:
            for w in workloads:
                cmd = [sys.executable, os.path.abspath(__file__), "--workload", w, "--impl", impl,
                       "--rounds", str(args.rounds)]
                if impl == "tasko":
                    cmd += ["--tasko-src", args.tasko_src]
                if args.seconds is not None:
                    cmd += ["--seconds", repr(args.seconds)]
                if args.tasks is not None:
                    cmd += ["--tasks", str(args.tasks)]
                if args.smoke:
                    cmd.append("--smoke")
                rc = subprocess.call(cmd) or rc
        return rc

    impl, w = impls[0], workloads[0]
    tl = load_tasko(args.tasko_src) if impl == "tasko" else None
    if w == "scale":
        ntasks = args.tasks or (SMOKE_TASKS if args.smoke else
                                DEFAULT_TASKS if impl == "asyncio" else DEFAULT_TASKS_TASKO)
        run_scale(impl, tl, ntasks)
        return 0
    seconds = args.seconds or (SMOKE_SECONDS if args.smoke else DEFAULT_SECONDS)[w]
    if w == "switch":
        run_switch(impl, tl, seconds, max(1, args.rounds))
    elif w == "accuracy":
        run_accuracy(impl, tl, seconds)
    else:
        run_idle(impl, tl, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
