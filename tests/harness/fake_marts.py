"""A hand-filled analytics.mart_course_engagement for tests of what reads it (export, run).

The table takes its columns and types from the mart's dbt contract, so a test names only the
columns it is about (by name); every other column is null, and a new mart column changes no
test that does not look at it.
"""

from __future__ import annotations

from typing import Any

import duckdb

from course_engagement.mart_contract import contract_columns

MART = "analytics.mart_course_engagement"
# Two courses as the export tests and the engine tests fill the mart: a title with a comma,
# a course without activity (nulls), and a fraction that prints with every digit.
TWO_COURSES = """
    select * from (values
        (2, 'Beta, with comma', 'Design', 'beginner', 'Pub', 0, 0, 0, 0, 0,
         null::timestamp, null::timestamp, null::double, date '2026-10-31'),
        (1, 'Alpha', 'Policy', 'advanced', 'Pub', 3, 2, 1, 4, 5,
         timestamp '2026-01-02 03:04:05', timestamp '2026-10-30 23:59:59', 2 / 3,
         date '2026-10-31')
    ) t(course_id, course_title, category, level, publisher, learners,
        active_learners, active_learners_30d, total_quizzes_completed,
        total_videos_completed, first_activity, last_activity, engagement_rate, as_of_date)
"""


def create_engagement_mart(
    con: duckdb.DuckDBPyConnection, select_sql: str, params: list[Any] | None = None
) -> None:
    """Create the mart as its contract types it and insert `select_sql`'s rows by column name."""
    typed = contract_columns("mart_course_engagement").items()
    columns = ", ".join(f"{name} {data_type}" for name, data_type in typed)
    con.execute("create schema if not exists analytics")
    con.execute(f"create table {MART} ({columns})")
    con.execute(f"insert into {MART} by name {select_sql}", params)
