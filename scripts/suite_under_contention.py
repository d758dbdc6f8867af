"""Run the default test suite N times in a row while another process keeps every core busy.

A flaky test shows itself on a busy machine (a timeout, a race with a child process), so this
is how the suite's stability is checked before a change lands (docs/RELIABILITY.md):

    uv run python scripts/suite_under_contention.py --runs 5

The load is one spinning process per core (`os.cpu_count()`), at the same priority as the
tests. Each run's outcome and wall time are printed, and failing test ids are listed; the
script stops at the first failing run and exits 1, so "passed N times in a row" is its exit 0.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _spin() -> None:
    while True:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--log-dir", type=Path, default=REPO / "output" / "contention")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = parser.parse_args(argv)
    args.log_dir.mkdir(parents=True, exist_ok=True)

    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(os.cpu_count())]
    for spinner in spinners:
        spinner.start()
    try:
        for run in range(1, args.runs + 1):
            log = args.log_dir / f"run_{run}.log"
            started = time.monotonic()
            with log.open("w") as out:
                code = subprocess.call(
                    [sys.executable, "-m", "pytest", "-q", *args.pytest_args],
                    cwd=REPO,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            summary = log.read_text().strip().splitlines()[-1]
            print(f"run {run}: exit {code} in {time.monotonic() - started:.0f} s: {summary}")
            if code != 0:
                failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", log.read_text(), re.M)
                print("failing:", *failed, sep="\n  ")
                return 1
    finally:
        for spinner in spinners:
            spinner.terminate()
    print(f"{args.runs} runs in a row passed with {len(spinners)} spinning processes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
