"""What the benchmark measures: the scale rule, its sections and stages, the marts it compares."""

from __future__ import annotations

import sys
from pathlib import Path

from course_engagement.publishing import export

BENCH_DIR = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
FLOOR_SQL = BENCH_DIR / "floor_mart.sql"
MARTS = ("mart_course_engagement", "mart_data_quality", "mart_event_reconciliation")
# what the quality gate reads (it compares counted events too)
GATED_MARTS = ("mart_course_engagement", "mart_event_reconciliation")
# what a daily build rebuilds and the increment is checked on (mart_data_quality is a
# full-history check: tag full_history)
DAILY_MARTS = (*GATED_MARTS, *export.TIME_SERIES_MARTS)
# the nodes the time-series marts add to a build: the marts and the models only they read
TIME_SERIES_MODELS = (*export.TIME_SERIES_MARTS, "fct_learner_course_days")
NOTHING = "tag:benchmark_selects_nothing"  # a selector no node matches: dbt start-up only
# The day every scale appends besides its own 1%: "the cost of one day as history grows"
# compares this same day at 10M and 100M (at 10M it is the 1% day itself).
SAME_DAY_ROWS = 100_000
GIB = 2**30
SECTIONS = ("generate", "load", "mart", "incremental", "dag")
SECTION_STAGES = {
    "generate": ("generate",),
    "load": ("load_floor", "load_loader"),
    "mart": (
        "mart_floor",
        "mart_legacy",
        "mart_pandas",
        "dbt_full",
        "dbt_noop",
        "dbt_startup",
        "check",
        "export",
    ),
    "incremental": (
        "new_day_file",
        "dbt_parse_new_date",
        "load_append",
        "dbt_incremental",
        "dbt_full_refresh",
    ),
    "dag": ("dag_cold", "dag", "dag_without_bytecode_cache"),
}
SECTION_CHECKS = {
    "mart": ("floor_equals_dbt_mart", "pandas_equals_dbt_mart"),
    "incremental": ("incremental_equals_full_refresh",),
}


def scale(events: int) -> dict[str, int]:
    """Users, courses and enrolments for a number of events (the rule RESULTS.md states).

    A learner generates about 20 events a year in a course and holds two enrolments, so
    users = events / 40 and enrolments = events / 20; the catalogue grows one course per
    50,000 events; never below the committed sample (1,000 users, 60 courses, 3,000
    enrolments), and capped at the 100M shape (2.5M users, 2,000 courses, 5M enrolments) so
    the generator's in-memory tables stay small.
    """
    return {
        "events": events,
        "users": min(2_500_000, max(1_000, events // 40)),
        "courses": min(2_000, max(60, events // 50_000)),
        "enrolments": min(5_000_000, max(3_000, events // 20)),
    }


SCALING_RULE = (
    "users = events/40, enrolments = events/20 (two enrolments per user, ~20 events per "
    "enrolment a year), courses = events/50,000; at least the committed sample's 1,000 users, "
    "60 courses and 3,000 enrolments, at most 2.5M users, 2,000 courses and 5M enrolments "
    "(the 100M shape)"
)


PIPELINE_STAGES = ("load_loader", "dbt_full", "check", "export", "load_append", "dbt_incremental")
