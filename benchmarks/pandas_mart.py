"""The course-engagement mart written the way an analyst would write it in pandas.

One of the comparisons in `benchmarks/run.py`: read the four raw tables into DataFrames, clean,
de-duplicate, join and group, all in memory, with the metric definitions of
`2-dbt_project/models/_metrics.md`. The benchmark checks its result equals the dbt mart on the
same data, so the comparison is between implementations of the same numbers.

Two deliberate simplifications an analyst would make, neither of which changes a number on
generated data (the equality check would say so): the latest user version is the row with the
greatest `updatedAt` (ties, which the generator never writes, are broken by row order, not by
dbt's value rules), and among rows sharing an event id the kept one is the earliest by
timestamp, then session id, then metadata (dbt breaks a remaining tie on a hash of the raw row).

    uv run python benchmarks/pandas_mart.py --db warehouse.duckdb --as-of-date 2026-10-31 \
        --out mart.parquet

prints one JSON line: {"read_s", "compute_s", "rows"}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import duckdb
import pandas as pd

WHITESPACE = " \t\n\r"
CATEGORIES = (  # the catalogue's spellings: dbt_project.yml var course_categories
    "Data Science",
    "Cloud Computing",
    "Leadership",
    "Cyber Security",
    "Project Management",
    "Design",
    "Policy",
    "Digital Skills",
)
ACTIVITY_WINDOW_DAYS = 30
QUIZ_COMPLETED = "quiz_submit"
VIDEO_COMPLETED = "video_complete"


def clean(values: pd.Series) -> pd.Series:
    """Trimmed text, blank as missing."""
    stripped = values.str.strip(WHITESPACE)
    return stripped.mask(stripped == "")


def read_raw(db_path: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return {
            name: con.table(f"raw.{name}").df()
            for name in ("users", "courses", "enrolments", "events")
        }


def current_users(users: pd.DataFrame) -> pd.DataFrame:
    latest = users.sort_values(["id", "updatedAt"], ascending=[True, False], na_position="last")
    latest = latest.drop_duplicates("id", keep="first")
    state = clean(latest["state"]).str.lower()
    is_deleted = latest["deleted"].fillna(False).astype(bool) | (state == "deleted")
    return pd.DataFrame({"user_id": latest["id"], "is_deleted": is_deleted.to_numpy()})


def learners(
    users: pd.DataFrame, courses: pd.DataFrame, enrolments: pd.DataFrame, end: pd.Timestamp
) -> pd.DataFrame:
    live = current_users(users).query("not is_deleted")["user_id"]
    cancelled = clean(enrolments["status"]).str.lower() == "cancelled"
    # made before the end of as_of_date; one without a time counts on every date
    enrolled_by_then = enrolments["enrolled_at"].isna() | (enrolments["enrolled_at"] < end)
    valid = enrolments[
        ~cancelled
        & enrolled_by_then
        & enrolments["user_id"].isin(live)
        & enrolments["course_id"].isin(courses["course_id"])
    ]
    return valid[["user_id", "course_id"]].drop_duplicates()


def deduplicated_events(events: pd.DataFrame) -> pd.DataFrame:
    events = events.assign(
        session_id=clean(events["session_id"]),
        metadata=clean(events["metadata"]),
        event_type=clean(events["event_type"]).str.lower(),
    )
    events = events.sort_values(
        ["id", "event_timestamp", "session_id", "metadata"], na_position="last", kind="stable"
    )
    return events.drop_duplicates("id", keep="first")


def compute_mart(raw: dict[str, pd.DataFrame], as_of_date: dt.date) -> pd.DataFrame:
    users, courses, enrolments = raw["users"], raw["courses"], raw["enrolments"]
    end = pd.Timestamp(as_of_date) + pd.Timedelta(days=1)
    window_start = pd.Timestamp(as_of_date) - pd.Timedelta(days=ACTIVITY_WINDOW_DAYS - 1)

    pairs = learners(users, courses, enrolments, end)
    events = deduplicated_events(raw["events"])
    events = events[events["event_timestamp"] < end]  # NaT compares False: dropped too
    counted = events.merge(pairs, on=["user_id", "course_id"], how="inner")
    counted = counted.assign(
        is_quiz=counted["event_type"] == QUIZ_COMPLETED,
        is_video=counted["event_type"] == VIDEO_COMPLETED,
    )
    per_learner = counted.groupby(["user_id", "course_id"], as_index=False).agg(
        counted_events=("id", "size"),
        quizzes=("is_quiz", "sum"),
        videos=("is_video", "sum"),
        first_activity=("event_timestamp", "min"),
        last_activity=("event_timestamp", "max"),
    )
    activity = pairs.merge(per_learner, on=["user_id", "course_id"], how="left")
    activity["is_active"] = activity["counted_events"].notna()
    activity["is_active_30d"] = activity["last_activity"] >= window_start
    per_course = activity.groupby("course_id", as_index=False).agg(
        learners=("user_id", "size"),
        active_learners=("is_active", "sum"),
        active_learners_30d=("is_active_30d", "sum"),
        total_quizzes_completed=("quizzes", "sum"),
        total_videos_completed=("videos", "sum"),
        first_activity=("first_activity", "min"),
        last_activity=("last_activity", "max"),
    )

    spelling = {name.lower(): name for name in CATEGORIES}
    category = clean(courses["category_name"])
    catalogue = pd.DataFrame(
        {
            "course_id": courses["course_id"],
            "course_title": clean(courses["title"]),
            "category": category.str.lower().map(spelling).fillna(category),
            "level": clean(courses["level"]).str.lower(),
            "publisher": clean(courses["publisher"]),
        }
    )
    mart = catalogue.merge(per_course, on="course_id", how="left")
    counts = [
        "learners",
        "active_learners",
        "active_learners_30d",
        "total_quizzes_completed",
        "total_videos_completed",
    ]
    mart[counts] = mart[counts].fillna(0).astype("int64")
    rate = mart["active_learners"] / mart["learners"].where(mart["learners"] > 0)
    mart["engagement_rate"] = rate.astype("Float64")  # missing, not NaN, without learners
    mart["as_of_date"] = as_of_date
    return mart


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="DuckDB file with raw.* loaded")
    parser.add_argument("--as-of-date", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, required=True, help="parquet file for the result")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    raw = read_raw(args.db)
    read = time.perf_counter()
    mart = compute_mart(raw, args.as_of_date)
    computed = time.perf_counter()
    mart.to_parquet(args.out, index=False)
    print(
        json.dumps({"read_s": read - started, "compute_s": computed - read, "rows": len(mart)}),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
