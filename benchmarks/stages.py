"""The benchmark's own child processes: one stage each, so each can be timed and its memory read.

    python benchmarks/stages.py load-floor --csv raw_events.csv --db floor.duckdb
    python benchmarks/stages.py query --db w.duckdb --sql benchmarks/floor_mart.sql \
        --into bench.floor_mart --as-of-date 2026-10-31
    python benchmarks/stages.py check --db w.duckdb
    python benchmarks/stages.py export --db w.duckdb --reports-dir out/ --date 2026-10-31
    python benchmarks/stages.py new-day --db w.duckdb --date 2026-11-01 --rows 10000 --out f.csv

Every stage opens DuckDB with the project's settings (`course_engagement.settings`: memory
limit, threads, temp directory) and prints one JSON line with what it did and how long its core
took (`query_s`), so the report can tell the work from the process start-up around it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import duckdb

from course_engagement.contract import EVENTS, TIMESTAMP_FORMAT
from course_engagement.settings import Settings, duckdb_config
from course_engagement.sql_files import sql_file


def connect(db: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(db), read_only=read_only, config=duckdb_config(Settings.from_env()))
    con.execute("SET enable_progress_bar = false")
    return con


def _report(**values: object) -> None:
    print(json.dumps(values, default=str), flush=True)


def load_floor(csv: Path, db: Path) -> None:
    """The floor of loading: a bare `read_csv` of the events file into a table, no checks."""
    columns = "{" + ", ".join(f"'{n}': '{t}'" for n, t in EVENTS.columns) + "}"
    with connect(db) as con:
        started = time.perf_counter()
        rows = con.execute(
            f"CREATE TABLE events AS SELECT * FROM read_csv(?, columns = {columns}, "
            f"header = true, auto_detect = false, timestampformat = '{TIMESTAMP_FORMAT}')",
            [str(csv)],
        ).fetchone()[0]
        _report(query_s=time.perf_counter() - started, rows=rows)


def query(db: Path, sql: Path, into: str, as_of_date: dt.date) -> None:
    """Materialise a SELECT file (the floor or the legacy query) into a table, as dbt would."""
    schema = into.split(".")[0]
    with connect(db) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(f"SET VARIABLE as_of_date = DATE '{as_of_date.isoformat()}'")
        started = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TABLE {into} AS\n{sql.read_text()}")
        elapsed = time.perf_counter() - started
        rows = con.execute(f"SELECT count(*) FROM {into}").fetchone()[0]
    _report(query_s=elapsed, rows=rows)


def check(db: Path) -> None:
    from course_engagement.publishing.quality import check_mart

    started = time.perf_counter()
    rows = check_mart(db)
    _report(query_s=time.perf_counter() - started, rows=rows)


def export(db: Path, reports_dir: Path, date: dt.date) -> None:
    from course_engagement.publishing.export import export_report

    started = time.perf_counter()
    report = export_report(db, reports_dir, date.isoformat())
    _report(query_s=time.perf_counter() - started, rows=report.rows, path=report.path)


def new_day(db: Path, date: dt.date, rows: int, out: Path, seed: int) -> None:
    """Write one more day of events in the raw contract's format, as the next export would be.

    Organic rows copy the activity of the week before `date` (same learners, courses, event
    types and time of day) onto `date` with new event ids. Like a real feed it also carries:
    late events (new ids, timestamps in the three days before `date`), exact re-deliveries of
    events loaded on earlier days and of events in this file, and a few re-used ids with
    another session id (conflicting payloads). Row order is by timestamp, as the generator
    writes files.
    """
    extra = max(3, rows // 200)  # each defect class: 0.5% of the day, at least three rows
    organic = rows - 4 * extra
    if organic <= 0:
        raise SystemExit(f"--rows {rows} is too small for a day with late and duplicate events")
    with connect(db, read_only=True) as con:
        started = time.perf_counter()
        con.execute(f"SELECT setseed({(seed % 1000) / 1000})")
        first_id = con.execute("SELECT coalesce(max(id), 0) + 1 FROM raw.events").fetchone()[0]
        con.execute(sql_file(__file__, "new_day_recent.sql"), {"day": date})
        available = con.execute("SELECT count(*) FROM recent").fetchone()[0]
        if available == 0:
            raise SystemExit(f"no events in the week before {date} to model the new day on")
        counts = {"day": date, "organic": organic, "extra": extra, "first_id": first_id}
        con.execute(sql_file(__file__, "new_day_rows.sql"), counts)
        con.execute(sql_file(__file__, "new_day_file.sql"), {"extra": extra})
        con.execute(
            "COPY (SELECT * FROM day_file ORDER BY event_timestamp NULLS LAST, id) "
            f"TO '{out}' (HEADER, DELIMITER ',', TIMESTAMPFORMAT '{TIMESTAMP_FORMAT}')"
        )
        written = con.execute("SELECT count(*) FROM day_file").fetchone()[0]
    _report(
        query_s=time.perf_counter() - started,
        rows=written,
        organic=organic,
        late=extra,
        redelivered=extra,
        duplicated_in_file=extra,
        conflicting=extra,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("load-floor")
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--db", type=Path, required=True)
    p = commands.add_parser("query")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--sql", type=Path, required=True)
    p.add_argument("--into", required=True)
    p.add_argument("--as-of-date", type=dt.date.fromisoformat, required=True)
    p = commands.add_parser("check")
    p.add_argument("--db", type=Path, required=True)
    p = commands.add_parser("export")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--reports-dir", type=Path, required=True)
    p.add_argument("--date", type=dt.date.fromisoformat, required=True)
    p = commands.add_parser("new-day")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--date", type=dt.date.fromisoformat, required=True)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.command == "load-floor":
        load_floor(args.csv, args.db)
    elif args.command == "query":
        query(args.db, args.sql, args.into, args.as_of_date)
    elif args.command == "check":
        check(args.db)
    elif args.command == "export":
        export(args.db, args.reports_dir, args.date)
    else:
        new_day(args.db, args.date, args.rows, args.out, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
