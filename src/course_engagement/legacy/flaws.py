"""The ways the legacy query departs from the mart, and the metrics they move.

Each flaw is a boolean variable of `model.sql` (true: the flaw is present). The order of
`FLAWS` is the order in which the comparison removes them: population first (which rows exist,
which users count), then which event rows count, then how events are classified, then how the
rate is shown, so each step's evidence is about the thing it fixes.
"""

from __future__ import annotations

from dataclasses import dataclass

# The legacy query's idea of an "active" event, spelled exactly as it spells it.
LEGACY_ACTIVE_TYPES = ("video_start", "video_complete", "quiz_start", "quiz_submit")


@dataclass(frozen=True)
class Flaw:
    """One way the legacy query departs from the mart's definitions; removable in the model."""

    key: str  # the variable of model.sql
    short: str  # the cause in a summary table
    label: str  # the cause for one course: `{ids}` / `{values}` filled with the step's evidence
    evidence: str = "none"  # what fills the label: "users", "statuses", "event_types", "as_of",
    # "as_of_users" (both)


FLAWS: tuple[Flaw, ...] = (
    Flaw(
        "drops_courses_without_enrolments",
        "legacy drops courses without enrolments",
        "legacy drops courses without enrolments (it drives from users, not the catalogue)",
    ),
    Flaw(
        "emits_null_course_row",
        "legacy emits a row with no course",
        "legacy emits a row with no course for {ids} without a catalogue enrolment",
        "users",
    ),
    Flaw(
        "resurrects_deleted_users",
        "legacy counts deleted users (via an older version)",
        "legacy counts deleted {ids} (latest version deleted, an older one is not)",
        "users",
    ),
    Flaw(
        "ignores_deleted_state",
        "legacy counts users whose state is 'deleted'",
        "legacy counts {ids} whose latest state is 'deleted'",
        "users",
    ),
    Flaw(
        "status_not_normalised",
        "legacy does not normalise cancelled status variants",
        "legacy does not normalise status {values} ({ids})",
        "statuses",
    ),
    Flaw(
        "counts_later_enrolments",
        "legacy counts enrolments made after as_of_date",
        "legacy counts {ids} enrolled only after as_of_date {values}",
        "as_of_users",
    ),
    Flaw(
        "fans_out_duplicate_enrolments",
        "legacy counts events once per duplicate enrolment",
        "legacy counts events once per duplicate enrolment ({ids})",
        "users",
    ),
    Flaw(
        "counts_duplicate_event_rows",
        "legacy counts duplicate event rows",
        "legacy counts duplicate event rows",
    ),
    Flaw(
        "counts_conflicting_event_rows",
        "legacy counts both rows of a conflicting event id",
        "legacy counts every row of an event id re-delivered with a different payload",
    ),
    Flaw(
        "counts_events_without_timestamp",
        "legacy counts events without a timestamp",
        "legacy counts events without a timestamp",
    ),
    Flaw(
        "counts_events_after_as_of",
        "legacy counts events after as_of_date",
        "legacy counts events after as_of_date {values}",
        "as_of",
    ),
    Flaw(
        "event_type_not_normalised",
        "legacy does not normalise event_type variants",
        "legacy does not normalise event_type {values}",
        "event_types",
    ),
    Flaw(
        "active_only_video_quiz",
        "legacy counts only video/quiz events as active",
        "legacy counts only video/quiz events as active ({ids})",
        "users",
    ),
    Flaw(
        "rounds_engagement_rate",
        "legacy rounds engagement_rate to 2 decimals",
        "legacy rounds engagement_rate to 2 decimals",
    ),
)
FLAW_KEYS = tuple(flaw.key for flaw in FLAWS)


@dataclass(frozen=True)
class Metric:
    key: str  # the model's column, and the legacy query's
    mart_column: str
    kind: str  # "presence", "count", "timestamp" or "rate"
    short: str  # column header of the cause table

    @property
    def title(self) -> str:
        if self.kind == "presence":
            return "course presence"
        if self.key == self.mart_column:
            return self.key
        return f"{self.key} vs {self.mart_column}"


PRESENCE = Metric("present", "present", "presence", "presence")
METRICS: tuple[Metric, ...] = (
    PRESENCE,
    Metric("learners", "learners", "count", "learners"),
    Metric("active_learners", "active_learners", "count", "active"),
    Metric("quizzes", "total_quizzes_completed", "count", "quizzes"),
    Metric("videos", "total_videos_completed", "count", "videos"),
    Metric("first_activity", "first_activity", "timestamp", "first"),
    Metric("last_activity", "last_activity", "timestamp", "last"),
    Metric("engagement_rate", "engagement_rate", "rate", "rate"),
)
VALUE_METRICS = METRICS[1:]

# The event types that can move each metric in the legacy query, for quoting the raw spellings
# a step normalised.
TYPES_MOVING: dict[str, tuple[str, ...]] = {
    "quizzes": ("quiz_submit",),
    "videos": ("video_complete",),
    "active_learners": LEGACY_ACTIVE_TYPES,
    "engagement_rate": LEGACY_ACTIVE_TYPES,
}
