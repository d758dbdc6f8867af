"""Each business list has one source, and every place that uses it agrees with it.

The exclusion reasons and the defect classes are dbt seeds (`course_engagement.dbt_seeds`).
These tests read the project's files: a reason a model can produce that the seed lacks, a seed
reason no model produces, or a copy of a list left in a yml test, the notebook or the package
fails here, before any build. (The built sample is checked in tests/dbt/test_dbt_sample_quality.py
and the legacy comparison's shared rules in tests/legacy/test_compare.py.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from course_engagement.dbt_seeds import SEED_DIR, defect_classes, exclusion_reasons
from course_engagement.settings import REPO_ROOT
from course_engagement.synthetic import defects

MODELS = REPO_ROOT / "2-dbt_project" / "models"
REASONS = [r.reason for r in exclusion_reasons()]
# the reasons a CASE expression decides, and the ones the reconciliation unpivots
DECIDING_MODELS = (
    "intermediate/int_user_course__activity.sql",
    "intermediate/int_events__flagged.sql",
)
DEDUPLICATION_REASONS = {"exact_duplicate", "id_conflict"}


def _case_reasons(sql_file: str) -> set[str]:
    """The string literals a model's CASE branches produce (`then 'reason'`)."""
    return set(re.findall(r"then '([a-z_]+)'", (MODELS / sql_file).read_text()))


def test_the_seeds_sit_where_dbt_loads_them_with_the_base_layer() -> None:
    project = (REPO_ROOT / "2-dbt_project" / "dbt_project.yml").read_text()
    assert 'seed-paths: ["models/base/seeds"]' in project
    assert SEED_DIR == MODELS / "base" / "seeds"
    assert sorted(p.name for p in SEED_DIR.glob("*.csv")) == [
        "defect_classes.csv",
        "exclusion_reasons.csv",
    ]


def test_every_reason_a_model_decides_is_in_the_seed_and_every_seed_reason_is_decided() -> None:
    decided = set().union(*(_case_reasons(f) for f in DECIDING_MODELS))
    assert decided <= set(REASONS), f"reasons missing from the seed: {decided - set(REASONS)}"
    assert set(REASONS) - decided == {"counted"} | DEDUPLICATION_REASONS


def test_the_first_reason_that_applies_wins_in_the_seeds_order() -> None:
    """The CASE branches of the two deciding models, read in order, follow the seed's order."""
    flagged = re.findall(
        r"then '([a-z_]+)'", (MODELS / "intermediate/int_events__flagged.sql").read_text()
    )
    per_pair = re.findall(
        r"then '([a-z_]+)'", (MODELS / "intermediate/int_user_course__activity.sql").read_text()
    )
    excluded = [r for r in REASONS if r != "counted" and r not in DEDUPLICATION_REASONS]
    assert flagged + per_pair == excluded


def test_the_reconciliation_mart_reads_the_seed_and_lists_no_reason_itself() -> None:
    sql = (MODELS / "marts" / "mart_event_reconciliation.sql").read_text()
    assert "ref('exclusion_reasons')" in sql
    assert "values" not in sql.lower().split("reasons as (")[1].split("),")[0]
    unpivoted = re.search(r"unpivot \(event_rows for reason in \(([^)]*)\)", sql)
    assert unpivoted is not None
    assert {name.strip() for name in unpivoted.group(1).split(",")} <= set(REASONS)


def _accepted_values(node: object) -> list[str]:
    """Every value of every accepted_values test anywhere in a parsed yml document."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "accepted_values" and isinstance(value, dict):
                found += [str(v) for v in value.get("arguments", value).get("values", [])]
            else:
                found += _accepted_values(value)
    elif isinstance(node, list):
        for item in node:
            found += _accepted_values(item)
    return found


@pytest.mark.parametrize("listed", ["reasons", "defect classes"])
def test_no_yml_test_copies_a_list_of_the_seeds(listed: str) -> None:
    """accepted_values on a reason or a defect class would be a second copy of the list: the
    columns have relationships tests to the seed instead."""
    names = set(REASONS if listed == "reasons" else [c.defect for c in defect_classes()])
    copies = {
        str(path.relative_to(REPO_ROOT)): sorted(
            names & set(_accepted_values(yaml.safe_load(path.read_text())))
        )
        for path in MODELS.rglob("*.yml")
    }
    assert {path: found for path, found in copies.items() if found} == {}


def test_the_notebook_reads_the_reasons_from_the_seed() -> None:
    notebook = json.loads((REPO_ROOT / "notebooks" / "example_data_exploration.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert "analytics.exclusion_reasons" in code
    quoted = [r for r in REASONS if f'"{r}"' in code or f"'{r}'" in code]
    assert quoted == []


def test_the_package_reads_the_planted_defect_classes_from_the_seed() -> None:
    assert {c.defect: c.definition for c in defect_classes() if c.is_planted} == defects.DEFECTS
    manifest = json.loads((REPO_ROOT / "data" / "manifest.json").read_text())
    assert list(manifest["defects"]) == list(defects.DEFECTS)


def test_every_reason_maps_to_a_planted_defect_class_or_none() -> None:
    planted = {c.defect for c in defect_classes() if c.is_planted}
    mapped = [r.defect for r in exclusion_reasons() if r.defect]
    assert set(mapped) <= planted
    assert len(mapped) == len(set(mapped))


def test_a_seed_with_a_bad_boolean_is_refused(tmp_path: Path, monkeypatch) -> None:
    from course_engagement import dbt_seeds

    (tmp_path / "defect_classes.csv").write_text(
        "defect,entity,is_planted,definition\nx,users,yes,d\n"
    )
    monkeypatch.setattr(dbt_seeds, "SEED_DIR", tmp_path)
    dbt_seeds.defect_classes.cache_clear()
    try:
        with pytest.raises(ValueError, match="write true or false"):
            dbt_seeds.defect_classes()
    finally:
        dbt_seeds.defect_classes.cache_clear()
