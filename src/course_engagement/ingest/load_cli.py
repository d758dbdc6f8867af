"""`course-engagement load` and `scripts/init_db.py`: a full load, or `--append` day files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_engagement.ingest import event_files, raw_zone
from course_engagement.ingest.load_error import LoadError
from course_engagement.ingest.loader import append, load
from course_engagement.settings import (
    DEFAULT_MAX_REJECT_SHARE,
    ENGINE_ENV,
    ENGINES,
    MAX_REJECT_SHARE_ENV,
    RAW_ZONE_ENV,
    Settings,
    SettingsError,
    check_database_path,
)


def _share(value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not a share between 0 and 1")
    return share


ENGINE_HELP = (
    "the engine the data is loaded for: spark also writes the raw zone, by default beside the "
    f"database (default: env {ENGINE_ENV}, else duckdb)"
)


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(
            "Load raw_<table>.csv|parquet, then every raw_events_<YYYY-MM-DD>.csv, into the raw "
            "schema of a DuckDB database (replacing it); or, with --append, add day files to "
            "raw.events without reloading history."
        ),
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=settings.data_dir,
        help="folder with the raw files (default: %(default)s, env COURSE_ENGAGEMENT_DATA_DIR)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=settings.db_path,
        help="DuckDB file to load into (default: %(default)s, env COURSE_ENGAGEMENT_DB)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--append",
        nargs="+",
        type=Path,
        metavar="PATH",
        help=(
            "add these raw_events_YYYY-MM-DD.csv files to raw.events, keeping history; a file "
            "already loaded (same sha256) adds nothing. Keep them in the data directory so a "
            "full reload includes them"
        ),
    )
    mode.add_argument(
        event_files.DROP_MISSING_FLAG,
        action="store_true",
        help=(
            "full load only: drop from raw.events the events files the data directory no longer "
            "holds (without it, such a load is refused, naming them)"
        ),
    )
    parser.add_argument(
        "--max-reject-share",
        type=_share,
        default=None,
        help=(
            "fail when a file rejects more than this share of its data lines "
            f"(default: {DEFAULT_MAX_REJECT_SHARE}, env {MAX_REJECT_SHARE_ENV})"
        ),
    )
    parser.add_argument(
        "--raw-zone",
        type=lambda value: Path(value).expanduser().resolve(),
        default=settings.raw_zone,
        metavar="PATH",
        help=(
            "after the load, make the Parquet files under this folder equal the raw tables "
            f"(the Spark engine reads them; default: %(default)s, env {RAW_ZONE_ENV})"
        ),
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        engine = argparse.ArgumentParser(add_help=False)
        engine.add_argument("--engine", choices=ENGINES)
        settings = Settings.from_env(engine=engine.parse_known_args(argv)[0].engine)
        parser = _parser(settings)
        parser.add_argument("--engine", choices=ENGINES, help=ENGINE_HELP)
        args = parser.parse_args(argv)
        check_database_path(args.db.expanduser(), "--db")
        if args.append:
            outcomes = append(
                args.append,
                args.db,
                max_reject_share=args.max_reject_share,
                raw_zone=args.raw_zone,
            )
        else:
            outcomes = load(
                args.data_dir,
                args.db,
                max_reject_share=args.max_reject_share,
                drop_missing_day_files=args.drop_missing_day_files,
                raw_zone=args.raw_zone,
            )
    except (LoadError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for outcome in outcomes:
        print(outcome.summary())
    if args.raw_zone is not None:
        print(raw_zone.summary(args.raw_zone))
    for path in args.append or []:
        if path.resolve().parent != args.data_dir.resolve():
            print(
                f"warning: {path} is not in the data directory {args.data_dir}; a full load "
                "(course-engagement load) refuses to run until it is there. Keep it: "
                f"cp {path} {args.data_dir}/",
                file=sys.stderr,
            )
    return 0
