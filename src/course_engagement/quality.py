"""The quality gate between the mart and the report: publish nothing that looks wrong.

dbt's tests already ran in each layer; this gate checks the published table as the stakeholder
will see it, in one place, and reports every failed check at once so one run shows the whole
picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

MART = "analytics.mart_course_engagement"
CATALOGUE = "analytics.base_raw__courses"
KEY_COLUMNS = ("course_id", "course_title", "learners", "active_learners", "active_learners_30d")


class QualityGateError(RuntimeError):
    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        lines = "\n".join(f"  - {failure}" for failure in failures)
        super().__init__(f"quality gate failed on {MART}, nothing will be exported:\n{lines}")


@dataclass(frozen=True)
class Check:
    name: str
    sql: str  # returns one row: (number of offending rows, sample of offending keys)


def _checks() -> list[Check]:
    checks = [
        Check(
            "mart has at least one row",
            f"select (count(*) = 0)::int, null from {MART}",
        ),
        Check(
            "one row per catalogue course",
            f"""
            with catalogue as (select distinct course_id from {CATALOGUE}),
            mart as (select course_id, count(*) as n from {MART} group by course_id),
            problems as (
                select coalesce(c.course_id, m.course_id) as course_id
                from catalogue c full join mart m using (course_id)
                where m.course_id is null or c.course_id is null or m.n <> 1
            )
            select count(*), string_agg(course_id::varchar, ', ' order by course_id)
            from problems
            """,
        ),
        Check(
            "active_learners_30d <= active_learners <= learners",
            f"""
            select count(*), string_agg(course_id::varchar, ', ' order by course_id)
            from {MART}
            where not (active_learners_30d <= active_learners and active_learners <= learners)
            """,
        ),
    ]
    for column in KEY_COLUMNS:
        checks.append(
            Check(
                f"no null {column}",
                f"""select count(*), string_agg(coalesce(course_id::varchar, 'null'), ', ')
                from {MART} where {column} is null""",
            )
        )
    return checks


def failed_checks(con: duckdb.DuckDBPyConnection) -> list[str]:
    failures = []
    for check in _checks():
        offending, sample = con.execute(check.sql).fetchone()
        if offending:
            where = f" (course_id {sample})" if sample else ""
            failures.append(f"{check.name}: {offending} offending row(s){where}")
    return failures


def check_mart(db_path: Path) -> int:
    """Run every check; raise `QualityGateError` naming all failures, else return the row count."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        try:
            failures = failed_checks(con)
        except duckdb.CatalogException as error:
            raise QualityGateError([f"mart or catalogue missing: {error}"]) from None
        rows = con.execute(f"select count(*) from {MART}").fetchone()[0]
    if failures:
        raise QualityGateError(failures)
    print(f"quality gate passed: {rows} courses in {MART}")
    return rows
