"""Run a command that dies, with everything it started, when the process that started us dies.

`python -m course_engagement.orchestration.die_with_parent <parent pid> <command...>`, started
as the leader of a new process group (`dbt_runner.run_in_process_group` does). A SIGKILLed
Airflow task can clean nothing up, so the kernel does it: PR_SET_PDEATHSIG sends this guard
SIGTERM when its parent dies, and the guard then SIGKILLs its whole process group (the command
and anything the command started), so no orphaned dbt keeps the DuckDB lock. A parent that died
before prctl took effect is seen as a changed getppid(). Linux only; elsewhere the command just
runs.

PDEATHSIG fires when the parent *thread* that started the guard exits: start it from a thread
that waits for it (build_layer blocks until dbt ends).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _kill_own_group(signum: int | None = None, frame: object = None) -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)  # this guard included


def set_parent_death_signal(signum: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send `signum` when the parent dies; False where prctl is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    return True


def main(argv: list[str]) -> int:
    parent, command = int(argv[0]), argv[1:]
    signal.signal(signal.SIGTERM, _kill_own_group)
    if set_parent_death_signal() and os.getppid() != parent:
        _kill_own_group()  # the parent died before prctl: nobody waits for this command
    child = subprocess.Popen(command)  # same process group: the group kill reaches it
    returncode = child.wait()
    return returncode if returncode >= 0 else 128 - returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
