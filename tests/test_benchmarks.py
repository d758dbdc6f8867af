"""The benchmark (benchmarks/run.py) at 10,000 events: every stage runs, and the floor query,
the pandas mart and the incremental build all agree with dbt's mart.

One smoke run (about 40 s on a quiet 2-core machine) is shared by the tests of this module. It
uses --quick (no warm-up parses; the no-op and full-refresh builds overlap the build they are
compared with) and --mart-only (timed dbt builds select the engagement mart's models, no tests),
skips the DAG run, and writes its JSON and RESULTS.md into a temporary folder, so the
committed benchmarks/RESULTS.md is never touched. It benchmarks the working tree, the code
under test.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO_ROOT / "benchmarks"
TIMED_STAGES = (
    "generate",
    "load_floor",
    "load_loader",
    "mart_floor",
    "mart_legacy",
    "mart_pandas",
    "dbt_full",
    "dbt_noop",
    "check",
    "export",
    "new_day_file",
    "load_append",
    "dbt_incremental",
    "dbt_full_refresh",
)

# The benchmark's own smoke run (a whole 10k-event benchmark, ~75 s): CI runs it after the
# default suite (`pytest -m extended`, see pyproject.toml), to keep `uv run pytest` under 8 min.
pytestmark = pytest.mark.extended


def _benchmark_module(name: str):
    """Import benchmarks/<name>.py (a folder of scripts, not a package)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        path = BENCHMARKS / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while defining
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("benchmark")
    committed = BENCHMARKS / "RESULTS.md"
    before = committed.read_bytes() if committed.exists() else None
    command = [
        sys.executable,
        str(BENCHMARKS / "run.py"),
        "--events",
        "10000",
        "--repeats",
        "1",
        "--quick",
        "--mart-only",
        "--skip-dag",
        "--source",
        "working-tree",
        "--out",
        str(out),
    ]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    after = committed.read_bytes() if committed.exists() else None
    return {
        "result": json.loads((out / "results_10000.json").read_text()),
        "results_md": (out / "RESULTS.md").read_text(),
        "committed_results_md_unchanged": before == after,
    }


def test_every_stage_is_timed_with_positive_wall_and_cpu_time(smoke):
    stages = smoke["result"]["stages"]
    for name in TIMED_STAGES:
        assert stages[name]["n"] == 1, name
        assert stages[name]["wall_s"] > 0, name
        assert stages[name]["cpu_s"] > 0, name
        assert stages[name]["peak_rss_mb"] > 0, name
    assert stages["dag"]["skipped"] == "--skip-dag"


def test_floor_query_gives_the_dbt_mart_exactly(smoke):
    check = dict(smoke["result"]["checks"]["floor_equals_dbt_mart"])
    not_compared = check.pop("not_compared")  # mart columns added after the floor query
    assert check == {"equal": True, "rows": 60, "only_in_left": 0, "only_in_right": 0}
    assert "learners" not in not_compared


def test_pandas_mart_gives_the_dbt_mart_exactly(smoke):
    check = dict(smoke["result"]["checks"]["pandas_equals_dbt_mart"])
    not_compared = check.pop("not_compared")  # mart columns added after the pandas version
    assert check == {"equal": True, "rows": 60, "only_in_left": 0, "only_in_right": 0}
    assert "learners" not in not_compared


def test_incremental_build_after_an_appended_day_equals_a_full_refresh(smoke):
    (marts,) = smoke["result"]["checks"]["incremental_equals_full_refresh"]
    assert marts["mart_course_engagement"]["equal"]
    assert all(check["equal"] for check in marts.values())


def test_results_are_written_to_out_and_the_committed_results_stay_untouched(smoke):
    assert smoke["committed_results_md_unchanged"]
    assert "| loader throughput" in smoke["results_md"]
    assert smoke["result"]["complete"]
    assert set(smoke["result"]["ratios"]) >= {
        "loader_throughput_vs_floor",
        "dbt_marginal_vs_floor",
        "incremental_vs_full_refresh_marginal",
        "daily_step_wall_vs_legacy",
    }


def test_scale_follows_the_documented_rule():
    scale = _benchmark_module("plan").scale
    assert scale(10_000) == {"events": 10_000, "users": 1_000, "courses": 60, "enrolments": 3_000}
    assert scale(10_000_000) == {
        "events": 10_000_000,
        "users": 250_000,
        "courses": 200,
        "enrolments": 500_000,
    }
    assert scale(100_000_000)["courses"] == 2_000


def test_dag_breakdown_reads_task_start_and_end_lines_of_the_airflow_log():
    breakdown = _benchmark_module("results").dag_breakdown
    log = "\n".join(
        [
            "2026-01-01T00:00:05.000000Z [info     ] DAG bundles loaded",
            "2026-01-01T00:00:10.000000Z [info     ] [DAG TEST] starting task_id=load_raw map",
            "2026-01-01T00:00:12.500000Z [info     ] [DAG TEST] end task task_id=load_raw map",
            "2026-01-01T00:00:13.000000Z [info     ] [DAG TEST] starting task_id=run_base map",
            "2026-01-01T00:00:20.000000Z [info     ] [DAG TEST] end task task_id=run_base map",
        ]
    )
    started = 1767225600.0  # 2026-01-01T00:00:00Z
    assert breakdown(log, started, wall_s=22.0) == {
        "start-up: process start to Airflow's first log line": 5.0,
        "start-up: first log line to first task": 5.0,
        "task load_raw": 2.5,
        "task run_base": 7.0,
        "between tasks": 0.5,
        "after the last task (shutdown, report)": 2.0,
    }


def test_memory_guard_kills_a_process_tree_that_grows_past_the_limit(tmp_path):
    measure = _benchmark_module("measure")
    grow = "x = bytearray(600 * 2**20); import time; time.sleep(20)"
    result = measure.run(
        [sys.executable, "-c", grow], log=tmp_path / "log", memory_limit_bytes=200 * 2**20
    )
    assert result.killed_for_memory
    assert result.returncode != 0
    assert result.wall_s < 15


def test_time_series_nodes_are_the_marts_their_own_models_and_their_tests():
    results = _benchmark_module("results")
    log = "\n".join(
        [
            "12:00:01  1 of 5 OK created sql table model analytics.int_users__current "
            "........ [OK in 2.00s]",
            "12:00:02  2 of 5 OK created sql table model analytics.mart_active_learners_daily "
            "........ [OK in 1.25s]",
            "12:00:03  3 of 5 PASS not_null_mart_active_learners_daily_activity_date "
            "........ [PASS in 0.50s]",
            "12:00:04  4 of 5 PASS mart_cohort_retention_weekly::test_a_cohort_with_no_activity "
            "........ [PASS in 0.25s]",
            "12:00:05  5 of 5 OK created sql table model analytics.mart_course_engagement "
            "........ [OK in 3.00s]",
        ]
    )
    nodes = results.dbt_nodes(log)
    assert nodes["in_nodes_s"] == 7.0
    assert nodes["time_series_nodes"] == {
        "analytics.mart_active_learners_daily": 1.25,
        "not_null_mart_active_learners_daily_activity_date": 0.5,
        "mart_cohort_retention_weekly::test_a_cohort_with_no_activity": 0.25,
    }
    result = {
        "events": 10_000_000,
        "stages": {"dbt_full": {"runs": [{"returncode": 0, "wall_s": 12.0} | nodes]}},
    }
    section = _benchmark_module("report_timings").time_series_section([result])
    assert section[-2] == "| 10M | dbt_full | 12.0 | 2.0 | 20% | mart_active_learners_daily 1.2 |"
