"""Run one command and measure it: wall time, CPU time and peak memory of its process tree.

Stdlib only. Peak memory is the larger of two readings, so neither a short spike nor a tree of
processes is missed:

- every `interval` seconds the resident set (VmRSS) of the child and all its descendants is
  summed (descendants found through /proc/<pid>/stat parent links, so processes that start
  their own session, like dbt under Airflow, still count). The sum over-counts pages shared
  between forked processes, so for a tree it is an upper bound;
- the high-water mark (VmHWM) of each process, read at the same time, catches a spike of a
  single process between two samples.

The child is reaped with `wait4`, whose resource usage covers the child and every descendant
it waited for: CPU time is its user + system time, and its `ru_maxrss` (the largest single
process) is a third reading of the peak, which also covers a command too short to sample. A
memory guard can kill the tree when its resident
set passes a limit, so a run that would exhaust the machine stops with a clear record instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    returncode: int
    killed_for_memory: bool = False
    timed_out: bool = False

    def as_dict(self) -> dict[str, float | int | bool]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "peak_rss_mb": round(self.peak_rss_bytes / 2**20, 1),
            "returncode": self.returncode,
            "killed_for_memory": self.killed_for_memory,
            "timed_out": self.timed_out,
        }


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: parse after the last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree(root: int) -> list[int]:
    """`root` and all its live descendants."""
    children = _children_map()
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of one process in bytes; zeros once it has gone."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, hwm


def _kill_tree(root: int) -> None:
    for pid in reversed(tree(root)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def run(
    command: list[str],
    *,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 6 * 3600,
    memory_limit_bytes: int | None = None,
    interval: float = 0.1,
) -> Measurement:
    """Run `command` with stdout and stderr to `log`; never raises for a failing command."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    killed = timed_out = False
    with log.open("w") as handle:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=cwd
        )
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            readings = [_memory(p) for p in tree(process.pid)]
            peak = max(peak, sum(r for r, _ in readings), *(h for _, h in readings))
            elapsed = time.perf_counter() - started
            if not killed and memory_limit_bytes is not None and peak > memory_limit_bytes:
                killed = True
                _kill_tree(process.pid)
            elif not timed_out and elapsed > timeout_s:
                timed_out = True
                _kill_tree(process.pid)
            time.sleep(min(interval, 0.005 + elapsed / 20))  # fine-grained while short
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Measurement(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_bytes=max(peak, usage.ru_maxrss * 1024),
        returncode=process.returncode,
        killed_for_memory=killed,
        timed_out=timed_out,
    )
