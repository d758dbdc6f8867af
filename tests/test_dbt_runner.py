"""The dbt runner: commands, failure classification from run_results.json, process groups."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from course_engagement import dbt_runner
from course_engagement.settings import Settings


def test_build_command_selects_one_layer_with_the_date_and_per_run_paths(tmp_path):
    settings = Settings.from_env()
    command = dbt_runner.build_command("intermediate", "2026-10-31", settings, tmp_path)
    assert command[1:] == [
        "build",
        "--select",
        "path:models/intermediate",
        "--indirect-selection",
        "buildable",
        # the nodes that read all history run only in a full-history check
        "--exclude",
        "tag:full_history",
        "--vars",
        '{"as_of_date": "2026-10-31"}',
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target-path",
        str(tmp_path / "target"),
        "--log-path",
        str(tmp_path / "logs"),
    ]


@pytest.mark.parametrize("bad", ["2026-13-01", "2026-10-31; drop table x", "../../etc", ""])
def test_build_command_refuses_anything_but_a_date(tmp_path, bad):
    with pytest.raises(ValueError, match=r"YYYY-MM-DD|calendar date"):
        dbt_runner.build_command("base", bad, Settings.from_env(), tmp_path)


def test_unknown_layer_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown dbt layer 'staging'"):
        dbt_runner.build_command("staging", "2026-10-31", Settings.from_env(), tmp_path)


def _write_results(target: Path, results: list[dict]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / "run_results.json").write_text(json.dumps({"results": results}))


def test_run_results_name_failing_nodes_with_message_and_failure_count(tmp_path):
    _write_results(
        tmp_path,
        [
            {"unique_id": "model.p.a", "status": "success", "message": "OK", "failures": None},
            {
                "unique_id": "test.p.unique_a_id",
                "status": "fail",
                "message": "Got 3 results, configured to fail if != 0",
                "failures": 3,
            },
        ],
    )
    nodes = dbt_runner.read_run_results(tmp_path)
    assert [node.describe() for node in nodes if node.status == "fail"] == [
        "test.p.unique_a_id [fail] (3 failing rows): Got 3 results, configured to fail if != 0"
    ]


def test_timeout_kills_the_whole_process_group(tmp_path):
    """A hung dbt and any child it started are both gone after the timeout."""
    pid_file = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {pid_file}; wait"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        dbt_runner.run_in_process_group(
            ["bash", "-c", script], env=dict(os.environ), cwd=tmp_path, timeout_s=1.5
        )
    assert time.monotonic() - started < 30
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and Path(f"/proc/{child}").exists():
        time.sleep(0.05)
    state = (
        Path(f"/proc/{child}/stat").read_text().split()[2]
        if Path(f"/proc/{child}").exists()
        else "gone"
    )
    assert state in {"gone", "Z"}  # killed (a zombie awaiting its reaper counts as dead)


def test_a_full_history_check_builds_every_node_and_says_so_to_dbt(tmp_path):
    settings = Settings.from_env()
    command = dbt_runner.build_command(
        "marts", "2026-10-31", settings, tmp_path, {"full_history_checks": True}
    )
    assert "tag:full_history" not in command
    assert command[command.index("--vars") + 1] == (
        '{"full_history_checks": true, "as_of_date": "2026-10-31"}'
    )


def test_every_layer_of_a_run_checks_the_batches_its_first_layer_chose(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema analytics")
        con.execute("create table analytics.int_events__deduplicated as select 4 as load_batch_id")
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(db))
    settings = Settings.from_env()
    run = tmp_path / "run"
    first = dbt_runner.run_vars(settings, run / "base", full_history_checks=False)
    with duckdb.connect(str(db)) as con:  # the intermediate layer took batch 5 meanwhile
        con.execute("insert into analytics.int_events__deduplicated values (5)")
    later = dbt_runner.run_vars(settings, run / "marts", full_history_checks=False)
    assert first == later == {"data_tests_from_load_batch": 5}
