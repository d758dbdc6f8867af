"""The house rules of STYLE.md, enforced on dbt's own view of the project (target/manifest.json).

`dbt parse` runs once into a temporary target path (it needs no data; the database path points
into the temporary folder too), and every test reads the manifest it writes. A rule broken by a
new model fails here with the model's name and the rule, before anyone reviews the SQL.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from course_engagement.contract import EVENTS, TABLES
from course_engagement.ingest.load_batches import BATCH_COLUMN
from course_engagement.mart_contract import contract_columns
from course_engagement.publishing.export import MART as REPORT_MART
from course_engagement.publishing.export import TIME_SERIES_MARTS

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "2-dbt_project"
PROJECT = "course_engagement"
LAYERS = ("base", "intermediate", "marts")
# The folder a model sits in, and how its models are named. intermediate/core holds the
# conformed dimensions and facts the marts read (built in the intermediate layer: the learner
# rule reads them).
CORE = "intermediate/core"
FOLDER_NAME = {
    "base": re.compile(r"^base_[a-z0-9]+__[a-z0-9_]+$"),
    "intermediate": re.compile(r"^int_[a-z0-9_]+__[a-z0-9_]+$"),
    CORE: re.compile(r"^(dim|fct)_[a-z0-9_]+$"),
    "marts": re.compile(r"^mart_[a-z0-9_]+$"),
}
# The one mart that reads base models: it counts the defects flagged on raw rows.
MARTS_READING_BASE = {"mart_data_quality"}
MART = f"model.{PROJECT}.mart_course_engagement"
PAGE_DATA = "src/course_engagement/page/data.py"  # the daily page's reads of the marts
# The mart's columns are its contract (models/marts/_marts__models.yml), read, never copied:
# the course's attributes first, then what the mart computes.
MART_COLUMNS = contract_columns("mart_course_engagement")
ATTRIBUTE_COLUMNS = ("course_id", "course_title", "category", "level", "publisher")
# Mart columns whose meaning is a stakeholder definition: described by the doc block of the
# same name, never by words of their own.
METRIC_COLUMNS = tuple(MART_COLUMNS)[len(ATTRIBUTE_COLUMNS) :]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run_dir = tmp_path_factory.mktemp("dbt_parse")
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt)] if dbt.exists() else [sys.executable, "-m", "dbt.cli.main"]
    command += [
        "parse",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(run_dir / "target"),
        "--log-path",
        str(run_dir / "logs"),
    ]
    env = os.environ | {
        "COURSE_ENGAGEMENT_DB": str(run_dir / "parse_only.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"dbt parse failed:\n{result.stdout[-4000:]}{result.stderr}"
    return json.loads((run_dir / "target" / "manifest.json").read_text())


def _models(manifest: dict) -> dict[str, dict]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == PROJECT
    }


def _layer(node: dict) -> str:
    return Path(node["original_file_path"]).parts[1]


def _folder(node: dict) -> str:
    return Path(node["original_file_path"]).parent.relative_to("models").as_posix()


def _tests_on(manifest: dict, model_id: str) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("attached_node") == model_id
        and node.get("test_metadata")
    ]


def test_every_model_sits_in_a_layer_and_is_named_for_it(manifest: dict) -> None:
    wrong = {
        node["name"]: node["original_file_path"]
        for node in _models(manifest).values()
        if _folder(node) not in FOLDER_NAME or not FOLDER_NAME[_folder(node)].match(node["name"])
    }
    assert not wrong, (
        "models must live in models/base|intermediate|intermediate/core|marts and be named "
        f"base_<source>__<entity>, int_<entity>__<what>, dim_|fct_<what>, mart_<what>: {wrong}"
    )


def test_core_models_open_their_description_with_their_grain(manifest: dict) -> None:
    wrong = [
        node["name"]
        for node in _models(manifest).values()
        if _folder(node) == CORE and not node["description"].startswith("Grain: one row per ")
    ]
    assert not wrong, f"start these core descriptions with 'Grain: one row per ...': {wrong}"


def test_marts_read_the_core_rather_than_base_models(manifest: dict) -> None:
    models = _models(manifest)
    readers = [
        f"{node['name']} refs {models[dep]['name']}"
        for node in models.values()
        if _layer(node) == "marts" and node["name"] not in MARTS_READING_BASE
        for dep in node["depends_on"]["nodes"]
        if dep in models and _layer(models[dep]) == "base"
    ]
    assert not readers, f"marts read the core dimensions (dim_*), not base models: {readers}"


def test_only_base_models_read_sources(manifest: dict) -> None:
    readers = {
        node["name"]
        for node in _models(manifest).values()
        if any(dep.startswith("source.") for dep in node["depends_on"]["nodes"])
    }
    base = {node["name"] for node in _models(manifest).values() if _layer(node) == "base"}
    assert readers <= base, f"only base models may call source(): {sorted(readers - base)}"


def test_base_models_read_one_source_table_and_nothing_else(manifest: dict) -> None:
    for node in _models(manifest).values():
        if _layer(node) == "base":
            deps = node["depends_on"]["nodes"]
            assert len(deps) == 1 and deps[0].startswith("source."), (
                f"{node['name']} must select from exactly one source table, no joins: {deps}"
            )
            source = manifest["sources"][deps[0]]
            assert node["name"] == f"base_{source['source_name']}__{source['name']}"


def test_dependencies_only_flow_downward(manifest: dict) -> None:
    models = _models(manifest)
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    upward = [
        f"{node['name']} ({_layer(node)}) refs {models[dep]['name']} ({_layer(models[dep])})"
        for node in models.values()
        for dep in node["depends_on"]["nodes"]
        if dep in models
        and (rank[_layer(models[dep])] > rank[_layer(node)] or _layer(models[dep]) == "marts")
    ]
    assert not upward, "a model may only ref base/intermediate models of its layer or below:\n" + (
        "\n".join(upward)
    )


def test_every_model_has_a_description_that_states_its_grain(manifest: dict) -> None:
    missing = [
        node["name"]
        for node in _models(manifest).values()
        if "grain" not in node["description"].lower()
    ]
    assert not missing, (
        f"describe these models and say their grain ('Grain: one row per ...'): {missing}"
    )


def test_every_model_has_a_primary_key_test(manifest: dict) -> None:
    """`unique` + `not_null` on one column, or a combination-unique test plus not_null on each."""
    without = []
    for uid, node in _models(manifest).items():
        tests = _tests_on(manifest, uid)
        unique = {t["column_name"] for t in tests if t["test_metadata"]["name"] == "unique"}
        not_null = {t["column_name"] for t in tests if t["test_metadata"]["name"] == "not_null"}
        combinations = [
            set(t["test_metadata"]["kwargs"]["combination_of_columns"])
            for t in tests
            if t["test_metadata"]["name"] == "unique_combination_of_columns"
            and t["config"]["severity"].lower() == "error"
        ]
        if not (unique & not_null or any(combo <= not_null for combo in combinations)):
            without.append(node["name"])
    assert not without, f"these models have no primary-key test (unique + not_null): {without}"


def test_every_mart_column_is_described(manifest: dict) -> None:
    undocumented = [
        f"{node['name']}.{column['name']}"
        for node in _models(manifest).values()
        if _layer(node) == "marts"
        for column in node["columns"].values()
        if not column["description"].strip()
    ]
    assert not undocumented, f"describe these mart columns: {undocumented}"


def test_every_model_column_is_described(manifest: dict) -> None:
    undocumented = [
        f"{node['name']}.{column['name']}"
        for node in _models(manifest).values()
        for column in node["columns"].values()
        if not column["description"].strip()
    ]
    assert not undocumented, f"describe these columns: {undocumented}"


def test_engagement_mart_has_an_enforced_contract_with_every_column_typed(
    manifest: dict,
) -> None:
    mart = manifest["nodes"][MART]
    assert mart["config"]["contract"]["enforced"] is True
    assert mart["config"]["materialized"] == "table"
    assert {name: col["data_type"] for name, col in mart["columns"].items()} == MART_COLUMNS
    assert tuple(MART_COLUMNS)[: len(ATTRIBUTE_COLUMNS)] == ATTRIBUTE_COLUMNS
    assert all(MART_COLUMNS.values()), "type every contract column (data_type)"


@pytest.mark.parametrize("column", METRIC_COLUMNS)
def test_mart_metric_columns_are_described_by_their_doc_block(manifest: dict, column: str) -> None:
    block = manifest["docs"].get(f"doc.{PROJECT}.{column}")
    assert block, f"write the definition of {column} once, as {{% docs {column} %}}"
    described = manifest["nodes"][MART]["columns"][column]
    assert described["description"].strip() == block["block_contents"].strip()


def test_learner_and_counted_event_definitions_are_doc_blocks_used_by_the_mart(
    manifest: dict,
) -> None:
    description = manifest["nodes"][MART]["description"]
    for name in ("mart_course_engagement", "learner", "counted_event"):
        block = manifest["docs"].get(f"doc.{PROJECT}.{name}")
        assert block, f"write the definition once, as {{% docs {name} %}}"
        assert block["block_contents"].strip() in description, (
            f"the mart's description must use {{{{ doc('{name}') }}}}"
        )


def test_marts_are_tables(manifest: dict) -> None:
    # an incremental mart is a table too, merged into rather than rebuilt
    not_tables = [
        node["name"]
        for node in _models(manifest).values()
        if _layer(node) == "marts"
        and node["config"]["materialized"] not in ("table", "incremental")
    ]
    assert not not_tables


def test_yaml_sits_beside_its_models_one_file_per_folder(manifest: dict) -> None:
    misplaced = {
        node["name"]: node["patch_path"]
        for node in _models(manifest).values()
        if node["patch_path"]
        != f"{PROJECT}://models/{_folder(node)}/_{Path(_folder(node)).name}__models.yml"
    }
    assert not misplaced, f"document models in models/<folder>/_<folder>__models.yml: {misplaced}"


def test_yaml_uses_the_data_tests_key(dbt_yaml_files: list[Path]) -> None:
    offenders = []
    for path in dbt_yaml_files:
        document = yaml.safe_load(path.read_text()) or {}
        for kind in ("models", "sources"):
            for item in document.get(kind) or []:
                entries = [item, *(item.get("columns") or []), *(item.get("tables") or [])]
                for table in item.get("tables") or []:
                    entries += table.get("columns") or []
                offenders += [
                    f"{path.name}: {entry['name']}" for entry in entries if "tests" in entry
                ]
    assert not offenders, f"use `data_tests:`, not `tests:`: {offenders}"


@pytest.fixture(scope="module")
def dbt_yaml_files() -> list[Path]:
    return sorted((DBT_PROJECT_DIR / "models").rglob("*.yml"))


def test_no_foreign_key_constraints(manifest: dict) -> None:
    # dbt-duckdb cannot replace a table a foreign key points at: per-layer builds would break
    foreign = [
        f"{node['name']}.{column['name']}"
        for node in _models(manifest).values()
        for column in node["columns"].values()
        for constraint in column.get("constraints", [])
        if constraint["type"] == "foreign_key"
    ] + [
        node["name"]
        for node in _models(manifest).values()
        for constraint in node.get("constraints", [])
        if constraint["type"] == "foreign_key"
    ]
    assert not foreign


def test_sources_describe_every_raw_table_and_column(manifest: dict) -> None:
    sources = {
        node["name"]: node for node in manifest["sources"].values() if node["source_name"] == "raw"
    }
    # the contract's tables, and the loader's list of load batches
    assert set(sources) == {table.name for table in TABLES} | {"load_batches"}
    for table in TABLES:
        node = sources[table.name]
        assert node["description"].strip()
        # raw.events also carries the load batch each row came in (the loader's, not the file's)
        extra = {BATCH_COLUMN: "BIGINT"} if table == EVENTS else {}
        assert {
            name: column["data_type"].upper() for name, column in node["columns"].items()
        } == dict(table.columns) | extra
        assert all(column["description"].strip() for column in node["columns"].values())


def test_event_source_freshness_warns_only(manifest: dict) -> None:
    events = manifest["sources"][f"source.{PROJECT}.raw.events"]
    assert events["loaded_at_field"] == "event_timestamp"
    assert events["freshness"]["warn_after"]["count"]
    assert events["freshness"]["error_after"]["count"] is None


def test_exposure_declares_the_stakeholder_report(manifest: dict) -> None:
    exposure = manifest["exposures"][f"exposure.{PROJECT}.course_engagement_report"]
    assert exposure["owner"]["name"] == "Learning Ops"
    assert exposure["depends_on"]["nodes"] == [MART]
    assert "output/reports/course_engagement_<ds>.csv" in exposure["description"]


def test_business_constants_are_not_copied_into_models(manifest: dict) -> None:
    """Event types, code lists and the window live in dbt_project.yml vars, read via macros."""
    constants = re.compile(
        r"'(quiz_submit|video_complete|cancelled|deleted|active|beginner|page_view)'"
        r"|interval\s+'?30|\b29\b|\b30\b",
        re.IGNORECASE,
    )
    # the one model that turns a code into a business flag (is_cancelled, is_deleted) names it
    allowed = {
        "base_raw__enrolments": {"'cancelled'"},
        "dim_users": {"'deleted'"},
    }
    comments = re.compile(r"\{#.*?#\}|--[^\n]*", re.DOTALL)
    copied = {}
    for node in _models(manifest).values():
        code = comments.sub("", node["raw_code"])
        found = {m.group(0).lower() for m in constants.finditer(code)}
        found -= allowed.get(node["name"], set())
        if found:
            copied[node["name"]] = sorted(found)
    assert not copied, f"use the vars/macros instead of literal constants: {copied}"


def test_exposure_declares_every_exported_time_series_mart(manifest: dict) -> None:
    exposure = manifest["exposures"][f"exposure.{PROJECT}.time_series_reports"]
    assert exposure["owner"]["name"] == "Learning Ops"
    assert sorted(exposure["depends_on"]["nodes"]) == sorted(
        f"model.{PROJECT}.{mart}" for mart in TIME_SERIES_MARTS
    )


def test_exposure_of_the_daily_page_declares_every_mart_the_page_reads(manifest: dict) -> None:
    named = set(re.findall(r"\b(mart_\w+)", (REPO_ROOT / PAGE_DATA).read_text()))
    read = named | {REPORT_MART.removeprefix("analytics.")}  # data.py reads it as export.MART
    exposure = manifest["exposures"][f"exposure.{PROJECT}.daily_page"]
    assert exposure["owner"]["name"] == "Learning Ops"
    assert sorted(exposure["depends_on"]["nodes"]) == sorted(f"model.{PROJECT}.{m}" for m in read)
    assert len(read) == 5


HEALTH_MART = f"model.{PROJECT}.mart_course_health_weekly"
# The weekly course health mart's columns, and the doc block each metric column uses.
HEALTH_MART_COLUMNS = {
    "course_id": ("bigint", None),
    "week_start": ("date", "course_health_week_start"),
    "week_end_date": ("date", "course_health_week_end_date"),
    "learners": ("bigint", "course_health_learners"),
    "active_learners": ("bigint", "course_health_active_learners"),
    "active_learners_previous_week": ("bigint", "course_health_active_learners_previous_week"),
    "active_learners_30d": ("bigint", "course_health_active_learners_30d"),
    "quizzes_completed": ("bigint", "course_health_quizzes_completed"),
    "videos_completed": ("bigint", "course_health_videos_completed"),
    "active_learners_baseline": ("double", "course_health_active_learners_baseline"),
    "active_learners_change": ("double", "course_health_active_learners_change"),
    "health_status": ("string", "course_health_status"),
    "as_of_date": ("date", "as_of_date"),
}


def test_course_health_mart_has_an_enforced_contract_and_doc_block_metrics(
    manifest: dict,
) -> None:
    mart = manifest["nodes"][HEALTH_MART]
    assert mart["config"]["contract"]["enforced"] is True
    assert {name: col["data_type"] for name, col in mart["columns"].items()} == {
        name: data_type for name, (data_type, _) in HEALTH_MART_COLUMNS.items()
    }
    for name, (_, doc) in HEALTH_MART_COLUMNS.items():
        if doc:
            block = manifest["docs"][f"doc.{PROJECT}.{doc}"]["block_contents"]
            assert mart["columns"][name]["description"].strip() == block.strip(), name
    for name in ("mart_course_health_weekly", "learner", "counted_event"):
        block = manifest["docs"][f"doc.{PROJECT}.{name}"]["block_contents"]
        assert block.strip() in mart["description"]


@pytest.mark.parametrize("table", ["users", "courses", "enrolments"])
def test_whole_file_sources_are_fresh_when_last_loaded_and_warn_only(
    manifest: dict, table: str
) -> None:
    """No per-row load time: freshness is the file's last load in raw.load_audit."""
    source = manifest["sources"][f"source.{PROJECT}.raw.{table}"]
    assert source["loaded_at_query"] == (
        f"select max(loaded_at) from raw.load_audit where file_name like 'raw_{table}.%'"
    )
    assert source["freshness"]["warn_after"] == {"count": 36, "period": "hour"}
    assert source["freshness"]["error_after"]["count"] is None


def test_every_model_an_exposure_reads_is_public(manifest: dict) -> None:
    parents = {
        uid
        for exposure in manifest["exposures"].values()
        for uid in exposure["depends_on"]["nodes"]
    }
    assert parents, "the project declares its reports as exposures"
    assert {uid: manifest["nodes"][uid]["access"] for uid in parents} == dict.fromkeys(
        parents, "public"
    )


def test_open_catalogue_attributes_have_no_closed_list(manifest: dict) -> None:
    """Categories belong to the catalogue: a new one must neither fail nor warn a build."""
    closed = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") == "accepted_values"
        and node.get("column_name") == "category"
    ]
    assert closed == []


def test_the_evaluator_counts_our_combination_test_as_a_primary_key_test() -> None:
    """Our generic test is named and shaped like dbt_utils' (which the evaluator knows); the
    evaluator's var says ours counts too (dbt-project-evaluator, run offline)."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    macros = project["vars"]["dbt_project_evaluator"]["primary_key_test_macros"]
    assert [f"{PROJECT}.test_unique_combination_of_columns"] in macros
    generic = DBT_PROJECT_DIR / "tests" / "generic" / "unique_combination_of_columns.sql"
    assert "{% test unique_combination_of_columns(model, combination_of_columns) %}" in (
        generic.read_text()
    )
