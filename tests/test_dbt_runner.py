"""The dbt runner: commands, failure classification from run_results.json, process groups."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from course_engagement.orchestration import dbt_runner
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
        # the nodes that read all history, and unit tests, run only in a full-history check
        "--exclude",
        "tag:full_history",
        "resource_type:unit_test",
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


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat")
    return stat.read_text().rsplit(")", 1)[1].split()[0] if stat.exists() else "gone"


def test_timeout_kills_the_whole_process_group(tmp_path):
    """A hung dbt and any child it started are gone, not dying, when the timeout is raised."""
    pid_file = tmp_path / "child.pid"
    script = f"sleep 300 & echo $$ $! > {pid_file}; wait"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        dbt_runner.run_in_process_group(
            ["bash", "-c", script], env=dict(os.environ), cwd=tmp_path, timeout_s=1.5
        )
    assert time.monotonic() - started < 30
    shell, child = (int(pid) for pid in pid_file.read_text().split())
    assert {_state(shell), _state(child)} <= {"gone", "Z"}  # a zombie awaiting its reaper is dead


PARENT = """
import os, sys
from pathlib import Path
from course_engagement.orchestration import dbt_runner
dbt_runner.run_in_process_group(
    ["bash", "-c", sys.argv[1]], env=dict(os.environ), cwd=Path(sys.argv[2]), timeout_s=300
)
"""


def test_a_sigkilled_parent_takes_dbts_whole_process_group_with_it(tmp_path):
    """The task process is SIGKILLed mid-layer: the guard, dbt (here a shell standing in for
    it, started by the same code path) and the shell's own child all die within seconds."""
    pid_file = tmp_path / "pids"
    script = f"sleep 300 & echo $$ $! > {pid_file}.partial; mv {pid_file}.partial {pid_file}; wait"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, script, str(tmp_path)])
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        shell, child = (int(pid) for pid in pid_file.read_text().split())
        group = os.getpgid(shell)
        assert group not in {os.getpgid(parent.pid), shell}  # led by the guard, not the parent
        assert sorted(dbt_runner.group_members(group)) == sorted([group, shell, child])
    finally:
        parent.kill()
        parent.wait()

    deadline = time.monotonic() + 5
    while dbt_runner.group_members(group) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert dbt_runner.group_members(group) == []
    assert {_state(group), _state(shell), _state(child)} <= {"gone", "Z"}


def test_the_guard_runs_nothing_when_its_parent_died_before_it_started(tmp_path):
    """getppid() is not the pid it was given (here 1): the parent is gone, so the guard kills
    its group before starting the command."""
    marker = tmp_path / "ran"
    guard = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_engagement.orchestration.die_with_parent",
            "1",
            "touch",
            str(marker),
        ],
        start_new_session=True,
        timeout=60,
    )
    assert guard.returncode == -signal.SIGKILL
    assert not marker.exists()


def test_a_full_history_check_builds_every_node_and_says_so_to_dbt(tmp_path):
    settings = Settings.from_env()
    command = dbt_runner.build_command(
        "marts", "2026-10-31", settings, tmp_path, {"full_history_checks": True}
    )
    assert "tag:full_history" not in command
    assert "resource_type:unit_test" not in command
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


def test_a_later_run_starts_from_the_parse_an_earlier_run_kept(tmp_path):
    """The parse crosses run folders (dbt validates it before use); a retry's stale results go."""
    kept = tmp_path / "output" / "dbt_parse"
    earlier = tmp_path / "output" / "dbt_runs" / "2026-10-30_manual_1" / "marts"
    (earlier / "target").mkdir(parents=True)
    (earlier / "target" / dbt_runner.PARTIAL_PARSE).write_bytes(b"parse of 2026-10-30")
    dbt_runner._keep_parse(earlier, kept)

    later = tmp_path / "output" / "dbt_runs" / "2026-10-31_manual_2" / "base"
    (later / "target").mkdir(parents=True)
    (later / "target" / "run_results.json").write_text("{}")
    dbt_runner._reuse_parse(later, kept)
    assert (later / "target" / dbt_runner.PARTIAL_PARSE).read_bytes() == b"parse of 2026-10-30"
    assert not (later / "target" / "run_results.json").exists()
    assert [p.name for p in kept.iterdir()] == [dbt_runner.PARTIAL_PARSE]  # no temporary file


def test_a_layer_that_left_no_parse_keeps_the_earlier_one(tmp_path):
    kept = tmp_path / "dbt_parse"
    kept.mkdir()
    (kept / dbt_runner.PARTIAL_PARSE).write_bytes(b"earlier parse")
    crashed = tmp_path / "run" / "base"  # dbt died before writing target/partial_parse.msgpack
    (crashed / "target").mkdir(parents=True)
    dbt_runner._keep_parse(crashed, kept)
    assert (kept / dbt_runner.PARTIAL_PARSE).read_bytes() == b"earlier parse"
