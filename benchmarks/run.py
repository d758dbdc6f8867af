"""Benchmark the pipeline at one scale: generate, load, build, increment, run the DAG.

    uv run python benchmarks/run.py --events 10000000            # 3 repeats, about 25 min
    uv run python benchmarks/run.py --events 10000 --repeats 1 --quick --skip-dag --out /tmp/b

Writes `results_<events>.json` into --out (default `benchmarks/`) after every stage, so a run
that dies still leaves what it measured, and at the end regenerates `RESULTS.md` there from
every `results_*.json` it finds. Scratch data (generated files, databases, dbt targets, logs)
goes to --work (default `benchmarks/work/<events>/`, git-ignored).

What is compared, on the same data in the same run (each figure the median of --repeats):

- load: the loader (`scripts/init_db.py`, all four files) against a bare DuckDB `read_csv` of
  the events file into a table (the floor), as events loaded per second.
- mart: `dbt build --full-refresh` of every model as of the generator's end date, against the
  hand-written single-statement floor (`floor_mart.sql`), the legacy query (`1-sql/`) and a
  pandas implementation (`pandas_mart.py`); floor and pandas are checked equal to the dbt mart on
  the columns they implement.
  A no-op build (the same project on the committed 20,000-event sample: every node runs,
  next to nothing to compute) gives dbt's fixed cost; wall minus no-op is the marginal compute.
- daily increment: one more day of events (1% of the total, with late, re-delivered and
  conflicting events) appended with `course-engagement load --append`, then `dbt build`
  (incremental) against `dbt build --full-refresh` on the same data; their marts must agree.
- fixed overhead: a whole DAG run (`course-engagement run`) on the committed sample, broken
  down by the task start/end lines of its Airflow log.

Every stage runs as its own child process (see measure.py): wall and CPU time, and peak
resident memory of its process tree. Child Python processes cache bytecode under --pycache
(never in .venv), so start-up is measured as an installed project has it; see RESULTS.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmark import Benchmark
from plan import BENCH_DIR, SECTIONS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, required=True, help="events to generate")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH_DIR,
        help="where results_<events>.json and RESULTS.md go (default: %(default)s)",
    )
    parser.add_argument("--work", type=Path, help="scratch folder (default: <out>/work/<events>)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument(
        "--sections",
        type=lambda text: [part for part in text.split(",") if part],
        default=list(SECTIONS),
        help="comma-separated subset of " + ",".join(SECTIONS) + " to run; the others keep "
        "the results of the earlier run in --out, and each section records its commit",
    )
    parser.add_argument(
        "--source",
        choices=("head", "working-tree"),
        default="head",
        help="benchmark the committed HEAD (a git archive under --work, so colleagues' edits "
        "in progress cannot change a long run half-way; the default) or the working tree",
    )
    _add_run_options(parser)
    args = parser.parse_args(argv)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    args.sections = [section for section in SECTIONS if section in args.sections]
    args.out = args.out.resolve()
    args.pycache = args.pycache.resolve()
    if args.work:
        args.work = args.work.resolve()
    if args.events < 10_000:
        parser.error("--events must be at least 10000 (the generator plants defects per class)")
    return args


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """What to skip, shortcuts for a smoke run, and the guards around every stage."""
    parser.add_argument("--skip-dag", action="store_true", help="no DAG run on the sample")
    parser.add_argument("--skip-pandas", action="store_true", help="no pandas comparison")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: no dbt warm-up parse, no start-up-only or re-parse "
        "figures, no run without bytecode cache",
    )
    parser.add_argument(
        "--mart-only",
        action="store_true",
        help="timed dbt builds select only the models behind the marts the gate reads, no tests "
        "(a fast smoke run; never for reported figures)",
    )
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep generated files of the same scale from an earlier run",
    )
    parser.add_argument(
        "--memory-guard-gib",
        type=float,
        default=20.0,
        help="kill a stage whose process tree passes this (default: %(default)s)",
    )
    parser.add_argument("--stage-timeout-min", type=float, default=180.0)
    parser.add_argument(
        "--pycache",
        type=Path,
        default=BENCH_DIR / "work" / "pycache",
        help="bytecode cache of the child processes (PYTHONPYCACHEPREFIX)",
    )


def main(argv: list[str] | None = None) -> int:
    benchmark = Benchmark(parse_args(argv))
    benchmark.run()
    return 0 if benchmark.result["complete"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
