"""CPU time and memory of process trees, sampled with psutil from a background thread."""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

MB = 1024 * 1024
MACHINE = "__machine__"  # a sample's entry for the whole machine: (busy CPU seconds of all cores, 0, cores)


def machine_busy() -> tuple[float, int, int]:
    """CPU seconds every core of the machine spent on any process (not idle, not waiting for the disk)."""
    times = psutil.cpu_times()
    busy = sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "guest", 0.0)
    return busy - getattr(times, "guest_nice", 0.0), 0, psutil.cpu_count() or 1


def _tree(pid: int, descendants: bool = True) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)] if descendants else [root]
    except psutil.Error:
        return []


def tree_usage(pid: int, descendants: bool = True) -> tuple[float, int, int]:
    """(CPU seconds, resident bytes, number of processes) of ``pid`` and (by default) its descendants right now."""
    cpu, rss, count = 0.0, 0, 0
    for proc in _tree(pid, descendants):
        try:
            times = proc.cpu_times()
            cpu += times.user + times.system
            rss += proc.memory_info().rss
            count += 1
        except psutil.Error:
            continue
    return cpu, rss, count


class ProcessMonitor:
    """Samples named process trees every ``interval`` seconds until ``stop()``.

    ``alone`` names the groups measured without their descendants (the benchmark's own process, whose children are
    the servers it started).
    """

    def __init__(self, groups: Mapping[str, int], interval: float = 0.25, alone: Sequence[str] = ()) -> None:
        self.groups = dict(groups)
        self.alone = set(alone)
        self.interval = interval
        self.samples: list[tuple[float, dict[str, tuple[float, int, int]]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="procmon", daemon=True)

    def _sample(self) -> None:
        now = time.monotonic()
        usage = {name: tree_usage(pid, name not in self.alone) for name, pid in self.groups.items()}
        self.samples.append((now, {**usage, MACHINE: machine_busy()}))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def start(self) -> ProcessMonitor:
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()

    def machine_percent(self, start: float | None = None, end: float | None = None) -> float | None:
        """Mean CPU % (of one core: up to 100 x cores) of every process on the machine between ``start`` and ``end``:
        beside the groups' own, what other work took from the same cores."""
        window = [s for s in self.samples if (start is None or s[0] >= start) and (end is None or s[0] <= end)]
        if len(window) < 2 or window[-1][0] <= window[0][0]:
            return None
        busy = window[-1][1][MACHINE][0] - window[0][1][MACHINE][0]
        return 100.0 * max(0.0, busy) / (window[-1][0] - window[0][0])

    def summary(self, start: float | None = None, end: float | None = None) -> dict[str, dict]:
        """Per group: peak resident MB, CPU seconds and mean CPU % of one core between ``start`` and ``end``."""
        window = [s for s in self.samples if (start is None or s[0] >= start) and (end is None or s[0] <= end)]
        result: dict[str, dict] = {}
        if len(window) < 2:
            return result
        seconds = window[-1][0] - window[0][0]
        for name in self.groups:
            cpu = window[-1][1][name][0] - window[0][1][name][0]
            result[name] = {
                "peak_rss_mb": max(sample[1][name][1] for sample in window) / MB,
                "cpu_seconds": max(0.0, cpu),
                "cpu_percent": 100.0 * max(0.0, cpu) / seconds if seconds > 0 else None,
                "processes": max(sample[1][name][2] for sample in window),
            }
        return result


@dataclass(frozen=True)
class Measured:
    returncode: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float


def run_measured(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log_path: Path, timeout: float) -> Measured:
    """Run a command to completion, its output to ``log_path``; wall time, CPU time and peak memory of its tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        monitor = ProcessMonitor({"job": process.pid}, interval=0.2).start()
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
            returncode = -9
        finally:
            monitor.stop()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = max((s[1]["job"][1] for s in monitor.samples), default=0) / MB  # sampled every 0.2 s
    return Measured(returncode, wall, cpu, peak)
