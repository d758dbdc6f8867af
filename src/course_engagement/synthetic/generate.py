"""Seeded synthetic raw exports that look, and misbehave, like a real learning platform's.

Popular courses and power users, a working-week rhythm, sessions in sensible sequences, and
every defect class of `synthetic.defects.DEFECTS` planted at a configurable rate and counted
exactly into `manifest.json`. Events are written a day at a time, so 100M never sit in memory;
every draw is seeded, so the same arguments give byte-identical files on any machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa

from course_engagement.contract import COURSES, ENROLMENTS, EVENTS, USERS
from course_engagement.synthetic.config import CATEGORIES, LEVELS, GeneratorConfig
from course_engagement.synthetic.defects import DEFECTS
from course_engagement.synthetic.entities import (
    Courses,
    Enrolments,
    Users,
    generate_courses,
    generate_enrolments,
    generate_users,
)
from course_engagement.synthetic.event_stream import generate_events
from course_engagement.synthetic.files import sha256_of, write_table


def generate(config: GeneratorConfig, out: Path, progress: bool = False) -> dict:
    """Write the four raw files and `manifest.json` into `out`; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    users = generate_users(config)
    courses = generate_courses(config)
    enrolments = generate_enrolments(config, users, courses)
    suffix = config.file_format
    for table, rows in (
        (USERS, users.table),
        (COURSES, courses.table),
        (ENROLMENTS, enrolments.table),
    ):
        write_table(rows, table, out / f"{table.file_stem}.{suffix}", config.file_format)
    event_counts = generate_events(
        config, users, courses, enrolments, out / f"{EVENTS.file_stem}.{suffix}", progress
    )
    defects = _count_table_defects(users, courses, enrolments) | event_counts
    files = {}
    for table in (USERS, COURSES, ENROLMENTS, EVENTS):
        name = f"{table.file_stem}.{suffix}"
        files[name] = {"sha256": sha256_of(out / name)}
    files[f"{USERS.file_stem}.{suffix}"]["rows"] = users.table.num_rows
    files[f"{COURSES.file_stem}.{suffix}"]["rows"] = courses.table.num_rows
    files[f"{ENROLMENTS.file_stem}.{suffix}"]["rows"] = enrolments.table.num_rows
    files[f"{EVENTS.file_stem}.{suffix}"]["rows"] = config.events
    settings = asdict(config)
    settings["end_date"] = config.end_date.isoformat()
    manifest = {
        "generator": "course-engagement generate",
        "settings": settings,
        "start_date": config.start_date.isoformat(),
        "end_date": config.end_date.isoformat(),
        "files": files,
        "defects": {name: int(defects[name]) for name in DEFECTS},
        "definitions": DEFECTS,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return manifest


def _empty_and_variant(values: list, valid: tuple[str, ...]) -> tuple[int, int]:
    """Blank values, and values that are a whitespace or case variant of a valid one."""
    lowered = {v.lower() for v in valid}
    empty = sum(1 for v in values if v is None or v.strip() == "")
    variant = sum(
        1
        for v in values
        if v is not None and v.strip() != "" and v not in valid and v.strip().lower() in lowered
    )
    return empty, variant


def _count_user_defects(users: Users) -> tuple[dict[str, int], dict[int, bool]]:
    """The user defect counts, and whether each user's latest version is deleted."""
    counts: dict[str, int] = {}
    u = users.table
    ids = np.array(u["id"].to_pylist())
    updated = np.array(u["updatedAt"].cast(pa.int64()).to_pylist())
    deleted = np.array(u["deleted"].to_pylist()) == "TRUE"
    counts["user_older_versions"] = len(ids) - len(np.unique(ids))
    latest_deleted, any_live, any_deleted = {}, Counter(), Counter()
    latest_at: dict[int, int] = {}
    for user_id, at, is_deleted in zip(
        ids.tolist(), updated.tolist(), deleted.tolist(), strict=True
    ):
        if at >= latest_at.get(user_id, -1):
            latest_at[user_id], latest_deleted[user_id] = at, is_deleted
        any_live[user_id] += not is_deleted
        any_deleted[user_id] += is_deleted
    counts["users_deleted_latest_with_live_older"] = sum(
        1 for user_id, is_del in latest_deleted.items() if is_del and any_live[user_id]
    )
    counts["users_restored"] = sum(
        1 for user_id, is_del in latest_deleted.items() if not is_del and any_deleted[user_id]
    )
    states = ("active", "pending", "suspended", "deleted")
    counts["users_state_empty"], counts["users_state_variant"] = _empty_and_variant(
        u["state"].to_pylist(), states
    )
    return counts, latest_deleted


def _count_table_defects(users: Users, courses: Courses, enrolments: Enrolments) -> dict[str, int]:
    """Recount the non-event defects from the tables themselves, by their definitions."""
    counts, latest_deleted = _count_user_defects(users)
    c = courses.table
    counts["courses_category_empty"], counts["courses_category_variant"] = _empty_and_variant(
        c["category_name"].to_pylist(), CATEGORIES
    )
    counts["courses_level_empty"], counts["courses_level_variant"] = _empty_and_variant(
        c["level"].to_pylist(), LEVELS
    )
    e = enrolments.table
    statuses = e["status"].to_pylist()
    counts["enrolments_status_empty"], counts["enrolments_status_variant"] = _empty_and_variant(
        statuses, ("active", "cancelled", "completed")
    )
    counts["enrolments_cancelled"] = sum(
        1 for s in statuses if s and s.strip().lower() == "cancelled"
    )
    pairs = list(zip(e["user_id"].to_pylist(), e["course_id"].to_pylist(), strict=True))
    counts["enrolments_duplicate_user_course"] = len(pairs) - len(set(pairs))
    counts["enrolments_of_deleted_users"] = sum(
        1 for user_id, _ in pairs if latest_deleted[user_id]
    )
    return counts


def _parse_rates(text: str) -> dict[str, float]:
    rates = {}
    for item in filter(None, text.split(",")):
        name, _, value = item.partition("=")
        if name not in DEFECTS:
            raise argparse.ArgumentTypeError(f"unknown defect class {name!r}; see defects.py")
        rates[name] = float(value)
    return rates


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser()
    defaults = GeneratorConfig()
    parser.add_argument(
        "--out", type=Path, default=Path("data"), help="output folder (default: data/)"
    )
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--courses", type=int, default=defaults.courses)
    parser.add_argument("--enrolments", type=int, default=defaults.enrolments)
    parser.add_argument("--events", type=int, default=defaults.events)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=defaults.end_date,
        help="last day of organic activity (YYYY-MM-DD)",
    )
    parser.add_argument("--days", type=int, default=defaults.days, help="days of history")
    parser.add_argument(
        "--defect-rate",
        type=float,
        default=defaults.defect_rate,
        help="share of rows given each defect class (at least 3 each when positive)",
    )
    parser.add_argument(
        "--defect-rates",
        type=_parse_rates,
        default={},
        help="per-class overrides, e.g. events_future=0.05,users_restored=0",
    )
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = GeneratorConfig(
        users=args.users,
        courses=args.courses,
        enrolments=args.enrolments,
        events=args.events,
        seed=args.seed,
        end_date=args.end_date,
        days=args.days,
        defect_rate=args.defect_rate,
        defect_rates=args.defect_rates,
        file_format=args.format,
    )
    manifest = generate(config, args.out, progress=not args.quiet and sys.stderr.isatty())
    for name, info in manifest["files"].items():
        print(f"{args.out / name}: {info['rows']} rows")
    print(f"{args.out / 'manifest.json'}: {sum(manifest['defects'].values())} planted defects")
    return 0
