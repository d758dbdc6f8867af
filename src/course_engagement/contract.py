"""The raw CSV contract: file names, exact headers in order, and the DuckDB type of each column.

The generator writes to it, the loader enforces it, and the dbt sources describe it. Types are
explicit because sniffing guesses wrong at scale (a column that is empty for the first million
rows is not a VARCHAR).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RawTable:
    name: str  # table name in the `raw` schema, and the `<name>` in raw_<name>.csv
    columns: tuple[tuple[str, str], ...]  # (column, DuckDB type), in file order
    # The table's own id: a row without it cannot be told apart, so the loader rejects it.
    # Foreign keys (an event's user_id, course_id) may be empty: dbt counts those rows.
    key: str

    @property
    def file_stem(self) -> str:
        return f"raw_{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [column for column, _ in self.columns]

    @property
    def header(self) -> str:
        return ",".join(self.column_names)


USERS = RawTable(
    "users",
    (
        ("id", "BIGINT"),
        ("fullName", "VARCHAR"),
        ("email", "VARCHAR"),
        ("signupDate", "DATE"),
        ("state", "VARCHAR"),
        ("isGovEmployee", "BOOLEAN"),
        ("updatedAt", "TIMESTAMP"),
        ("deleted", "BOOLEAN"),
    ),
    key="id",
)
COURSES = RawTable(
    "courses",
    (
        ("course_id", "BIGINT"),
        ("title", "VARCHAR"),
        ("category_name", "VARCHAR"),
        ("level", "VARCHAR"),
        ("publisher", "VARCHAR"),
        ("course_created_at", "DATE"),
    ),
    key="course_id",
)
ENROLMENTS = RawTable(
    "enrolments",
    (
        ("enrolment_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("course_id", "BIGINT"),
        ("enrolled_at", "TIMESTAMP"),
        ("status", "VARCHAR"),
    ),
    key="enrolment_id",
)
EVENTS = RawTable(
    "events",
    (
        ("id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("course_id", "BIGINT"),
        ("event_type", "VARCHAR"),
        ("event_timestamp", "TIMESTAMP"),
        ("session_id", "VARCHAR"),
        ("metadata", "VARCHAR"),
    ),
    key="id",
)

TABLES: tuple[RawTable, ...] = (USERS, COURSES, ENROLMENTS, EVENTS)

USER_STATES = ("active", "pending", "suspended", "deleted")
COURSE_LEVELS = ("Beginner", "Intermediate", "Advanced")
ENROLMENT_STATUSES = ("active", "cancelled", "completed")
EVENT_TYPES = (
    "video_start",
    "video_complete",
    "quiz_start",
    "quiz_submit",
    "page_view",
    "download",
    "other",
)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
# The generator writes `true`/`false` (isGovEmployee) and `TRUE` (deleted); DuckDB would also
# read `t`, `1`, `yes`, `True`... as booleans, which no export of ours writes, so they are rejected.
BOOLEAN_SPELLINGS = {"true": True, "TRUE": True, "false": False, "FALSE": False}
