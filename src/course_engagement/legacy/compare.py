"""Compare the legacy query with the mart on one database, attributing every difference.

Saying "they differ" is not enough to retire the old report: every difference has to be traced
to a known flaw, or it is a bug in one of the two. The model (`model.sql`) with every flaw
present must reproduce the legacy query course by course; each step removes one more flaw, in
the order of `FLAWS`; with none left it must equal the mart. Whatever that chain does not
bridge is UNEXPLAINED, and the command fails.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from course_engagement.legacy.attribution import (
    Cause,
    Evidence,
    attribute,
    same,
    status_variants,
    value_in,
)
from course_engagement.legacy.flaws import FLAW_KEYS, FLAWS, METRICS, Metric
from course_engagement.legacy.outputs import (
    LEGACY_SQL_PATH,
    MART,
    ComparisonError,
    Snapshot,
    run_legacy,
    run_mart,
    run_model,
)


@dataclass(frozen=True)
class Difference:
    course_id: int | None
    course_title: str | None
    metric: str
    legacy: Any
    mart: Any
    causes: tuple[Cause, ...]

    @property
    def explained(self) -> bool:
        return bool(self.causes) and all(cause.explained for cause in self.causes)


@dataclass(frozen=True)
class MetricResult:
    metric: Metric
    compared: int  # courses compared: both outputs for values, either output for presence
    differences: tuple[Difference, ...]

    @property
    def agree(self) -> int:
        return self.compared - len(self.differences)


BRIDGE_METRICS = ("learners", "active_learners", "quizzes", "videos")


@dataclass(frozen=True)
class BridgeStep:
    """Totals over all courses after one step of the model (the NULL-course row left out)."""

    label: str
    rows: int  # output rows, the NULL-course row included
    totals: dict[str, int]  # metric key (BRIDGE_METRICS) -> sum over courses

    @classmethod
    def of(cls, label: str, snapshot: Snapshot) -> BridgeStep:
        courses = [row for course_id, row in snapshot.items() if course_id is not None]
        totals = {key: sum(row.values[key] for row in courses) for key in BRIDGE_METRICS}
        return cls(label, len(snapshot), totals)


@dataclass(frozen=True)
class Comparison:
    db_path: Path
    as_of_date: dt.date
    legacy_rows: int
    mart_rows: int
    metrics: tuple[MetricResult, ...]
    bridge: tuple[BridgeStep, ...]  # legacy, model steps, mart: where the totals move
    legacy_sql: Path = LEGACY_SQL_PATH

    @property
    def differences(self) -> list[Difference]:
        return [d for result in self.metrics for d in result.differences]

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if not d.explained]

    def result(self, metric_key: str) -> MetricResult:
        return next(r for r in self.metrics if r.metric.key == metric_key)

    def cause_counts(self) -> Counter[tuple[str, str]]:
        """(metric key, flaw key) -> number of courses where that flaw moved that metric."""
        counts: Counter[tuple[str, str]] = Counter()
        for diff in self.differences:
            for flaw in dict.fromkeys(cause.flaw for cause in diff.causes):
                counts[diff.metric, flaw] += 1
        return counts


def _connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    if not db_path.exists():
        raise ComparisonError(
            f"database {db_path} does not exist; load the raw CSVs and build the dbt project "
            "first, or pass --db / set COURSE_ENGAGEMENT_DB."
        )
    try:
        return duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise ComparisonError(
            f"cannot open {db_path} read-only: {exc}. If a writer (dbt, the loader, an Airflow "
            "run) holds it, wait for it to finish."
        ) from exc


def _metric_result(
    metric: Metric,
    legacy: Snapshot,
    steps: list[Snapshot],
    mart: Snapshot,
    evidence: Evidence,
) -> MetricResult:
    """Values are compared on the courses in both outputs, presence on those in either."""
    if metric.kind == "presence":
        courses = sorted(legacy.keys() | mart.keys(), key=_sort_key)
    else:
        courses = sorted(legacy.keys() & mart.keys(), key=_sort_key)
    differences = []
    for course_id in courses:
        legacy_value = value_in(legacy, course_id, metric)
        mart_value = value_in(mart, course_id, metric)
        if same(metric, legacy_value, mart_value):
            continue
        row = mart.get(course_id) or legacy[course_id]
        causes = attribute(course_id, metric, legacy, steps, mart, evidence)
        differences.append(
            Difference(course_id, row.title, metric.key, legacy_value, mart_value, causes)
        )
    return MetricResult(metric, len(courses), tuple(differences))


def compare(db_path: Path, legacy_sql: Path = LEGACY_SQL_PATH) -> Comparison:
    """Compare legacy and mart on one database, attributing every difference (read-only)."""
    with _connect(db_path) as con:
        mart, as_of = run_mart(con)
        legacy = run_legacy(con, legacy_sql)
        steps = [run_model(con, FLAW_KEYS[i:], as_of) for i in range(len(FLAWS) + 1)]
        evidence = Evidence(as_of, status_variants(con))
    results = tuple(_metric_result(m, legacy, steps, mart, evidence) for m in METRICS)
    bridge = (
        BridgeStep.of("legacy query", legacy),
        BridgeStep.of("model, every flaw present", steps[0]),
        *(
            BridgeStep.of(f"fixed: {flaw.short.removeprefix('legacy ')}", step)
            for flaw, step in zip(FLAWS, steps[1:], strict=True)
        ),
        BridgeStep.of(MART, mart),
    )
    return Comparison(db_path, as_of, len(legacy), len(mart), results, bridge, legacy_sql)


def _sort_key(course_id: int | None) -> tuple[bool, int]:
    return (course_id is None, course_id or 0)
