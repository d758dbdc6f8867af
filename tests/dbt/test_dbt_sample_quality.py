"""The quality models find exactly the defects the generator planted in the sample.

The sample (data/raw_*.csv, described by data/manifest.json) is loaded by the real loader into
a temporary database and built with one full `dbt build` (every data and unit test included).
as_of_date is the manifest's end_date, the last day of generated activity, so the generator's
"future" (after the end of --end-date) and the models' "future" (after as_of_date) coincide.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt_harness import REPO_ROOT, DbtRun

from course_engagement.dbt_seeds import defect_classes, exclusion_reasons
from course_engagement.synthetic.defects import DEFECTS

# Planted event classes are disjoint and each maps onto one exclusion reason of the
# reconciliation (the first rule that applies is the only one that applies): the seed's mapping.
RECONCILIATION_REASON_OF_DEFECT = {r.defect: r.reason for r in exclusion_reasons() if r.defect}


@pytest.fixture(scope="module")
def sample(sample_build) -> tuple[dict, DbtRun, list]:
    """The committed sample, built once per session by tests/conftest.py."""
    return sample_build.manifest, sample_build.run, sample_build.commands


def _quality(run: DbtRun) -> dict[str, int]:
    return dict(run.query("select defect, defect_count from analytics.mart_data_quality"))


# Counted by the pipeline only; the generator never plants them (see mart_data_quality).
PIPELINE_ONLY_DEFECTS = {c.defect for c in defect_classes() if not c.is_planted}


def test_manifest_and_quality_model_know_the_same_defect_classes(sample: tuple) -> None:
    manifest, run, _ = sample
    assert set(manifest["defects"]) == set(DEFECTS)
    assert set(_quality(run)) == set(DEFECTS) | PIPELINE_ONLY_DEFECTS
    entities = dict(run.query("select defect, entity from analytics.mart_data_quality"))
    assert entities == {c.defect: c.entity for c in defect_classes()}
    assert {defect: _quality(run)[defect] for defect in PIPELINE_ONLY_DEFECTS} == {
        "enrolments_status_unknown": 0,
        "enrolments_enrolled_at_empty": 0,
    }


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_quality_model_finds_exactly_the_planted_count(sample: tuple, defect: str) -> None:
    manifest, run, _ = sample
    assert _quality(run)[defect] == manifest["defects"][defect], (
        f"{defect}: the generator planted {manifest['defects'][defect]}, "
        f"analytics.mart_data_quality counts {_quality(run)[defect]}. "
        f"Definition: {DEFECTS[defect]}"
    )


def test_reconciliation_reasons_match_the_planted_event_defects(sample: tuple) -> None:
    manifest, run, _ = sample
    reasons = dict(run.query("select reason, event_rows from analytics.mart_event_reconciliation"))
    assert {
        defect: reasons[reason] for defect, reason in RECONCILIATION_REASON_OF_DEFECT.items()
    } == {defect: manifest["defects"][defect] for defect in RECONCILIATION_REASON_OF_DEFECT}
    # the generator never writes events of deleted users or without user/course ids
    assert reasons["deleted_user"] == 0
    assert reasons["missing_user_or_course"] == 0
    # nor enrolments after its end date, the as_of_date here
    assert reasons["enrolled_after_as_of_date"] == 0
    events_file = next(name for name in manifest["files"] if name.startswith("raw_events."))
    assert sum(reasons.values()) == manifest["files"][events_file]["rows"]


def test_full_build_passes_every_test_without_warnings(sample: tuple) -> None:
    _, _, commands = sample
    (build,) = [c for c in commands if c.args[0] == "build"]
    statuses = {node: s for node, s in build.statuses.items() if not node.startswith("exposure.")}
    kinds = {node.split(".")[0] for node in statuses}
    assert {"model", "test", "unit_test"} <= kinds
    assert set(statuses.values()) <= {"success", "pass"}, {
        node: s for node, s in statuses.items() if s not in {"success", "pass"}
    }


def test_docs_generate_succeeds_and_catalogues_the_mart(sample: tuple) -> None:
    _, run, commands = sample
    assert commands[-1].args == ["docs", "generate"] and commands[-1].success
    catalog = json.loads((run.target_path / "catalog.json").read_text())
    mart = catalog["nodes"]["model.course_engagement.mart_course_engagement"]
    assert set(mart["columns"]) >= {"course_id", "learners", "engagement_rate", "as_of_date"}


def test_sample_mart_has_one_row_per_catalogue_course(sample: tuple) -> None:
    manifest, run, _ = sample
    courses_file = next(name for name in manifest["files"] if name.startswith("raw_courses."))
    ((rows, distinct),) = run.query(
        "select count(*), count(distinct course_id) from analytics.mart_course_engagement"
    )
    assert rows == distinct == manifest["files"][courses_file]["rows"]


def test_tests_never_touch_the_repo_database(sample: tuple) -> None:
    _, run, _ = sample
    assert Path(run.db_path).resolve() != (REPO_ROOT / "mock_data.duckdb").resolve()
    assert REPO_ROOT not in Path(run.db_path).resolve().parents


def test_reconciliation_has_exactly_the_seeds_reasons_in_its_order(sample: tuple) -> None:
    _, run, _ = sample
    rows = run.query(
        "select reason_order, reason, is_counted from analytics.mart_event_reconciliation "
        "order by reason_order"
    )
    assert rows == [(r.reason_order, r.reason, r.is_counted) for r in exclusion_reasons()]
