"""The dbt seeds the Python side reads, so a rule written there is written once.

`defect_classes.csv` (every data-quality defect class: its table, whether the generator plants
it, its exact definition) and `exclusion_reasons.csv` (every reason an event row is not counted,
in the order the first that applies wins, with the planted defect class it excludes). dbt loads
both with the base layer; mart_data_quality and mart_event_reconciliation read them, and tests
hold the models to them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from course_engagement.settings import REPO_ROOT

SEED_DIR = REPO_ROOT / "2-dbt_project" / "models" / "base" / "seeds"


@dataclass(frozen=True)
class DefectClass:
    defect: str
    entity: str  # the raw table: users, courses, enrolments or events
    is_planted: bool  # the generator plants it and counts it in data/manifest.json
    definition: str


@dataclass(frozen=True)
class ExclusionReason:
    reason_order: int
    reason: str
    is_counted: bool
    defect: str | None  # the planted defect class whose events this reason excludes
    description: str


def _rows(name: str) -> list[dict[str, str]]:
    with (SEED_DIR / name).open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _flag(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"{SEED_DIR}: a boolean column holds {text!r}; write true or false")
    return text == "true"


@cache
def defect_classes() -> tuple[DefectClass, ...]:
    return tuple(
        DefectClass(row["defect"], row["entity"], _flag(row["is_planted"]), row["definition"])
        for row in _rows("defect_classes.csv")
    )


@cache
def exclusion_reasons() -> tuple[ExclusionReason, ...]:
    return tuple(
        ExclusionReason(
            int(row["reason_order"]),
            row["reason"],
            _flag(row["is_counted"]),
            row["defect"] or None,
            row["description"],
        )
        for row in _rows("exclusion_reasons.csv")
    )
