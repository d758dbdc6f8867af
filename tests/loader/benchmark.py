"""Time the loader against a bare DuckDB `read_csv` of the same events file.

    uv run course-engagement generate --out /tmp/g10m --events 10000000 --quiet
    uv run python tests/loader/benchmark.py /tmp/g10m --repeats 3

The budget is loader time <= 1.5x bare (later 1.25x). "bare" is what the loader cannot avoid:
CREATE TABLE AS read_csv of raw_events.csv with the contract's columns, no rejects, no checks,
on a connection with the same settings. The loader's time includes all four files, hashing,
line counting and the audit, so the ratio is conservative. Runs alternate so that a busy
machine slows both sides alike; the median is reported, for wall time and for CPU time (user +
system of this process, DuckDB's threads included), which a busy machine disturbs less.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from course_engagement.contract import EVENTS
from course_engagement.loader import load
from course_engagement.settings import Settings, duckdb_config


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare_events(data_dir: Path, db_path: Path) -> None:
    columns = "{" + ", ".join(f"'{n}': '{t}'" for n, t in EVENTS.columns) + "}"
    with duckdb.connect(str(db_path), config=duckdb_config(Settings.from_env())) as con:
        con.execute(
            f"CREATE TABLE events AS SELECT * FROM read_csv(?, columns = {columns}, "
            "header = true, auto_detect = false)",
            [str(data_dir / "raw_events.csv")],
        )


def loader(data_dir: Path, db_path: Path) -> None:
    load(data_dir, db_path, max_reject_share=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    wall: dict[str, list[float]] = {"bare": [], "loader": []}
    cpu: dict[str, list[float]] = {"bare": [], "loader": []}
    with tempfile.TemporaryDirectory(prefix="loader-bench-") as tmp:
        for run in range(args.repeats):
            for name, func in (("bare", bare_events), ("loader", loader)):
                db = Path(tmp) / f"{name}-{run}.duckdb"
                start_wall, start_cpu = time.perf_counter(), cpu_seconds()
                func(args.data_dir, db)
                wall[name].append(time.perf_counter() - start_wall)
                cpu[name].append(cpu_seconds() - start_cpu)
                db.unlink()
                print(f"run {run + 1} {name}: {wall[name][-1]:.2f}s wall, {cpu[name][-1]:.2f}s cpu")
    for label, times in (("wall", wall), ("cpu", cpu)):
        bare, full = statistics.median(times["bare"]), statistics.median(times["loader"])
        print(f"median {label}: bare {bare:.2f}s, loader {full:.2f}s, ratio {full / bare:.2f}x")


if __name__ == "__main__":
    main()
