"""Run one dbt layer as a child process and turn its outcome into an on-call-friendly result.

Why a subprocess and not dbt's Python API: a task that times out or is killed must take dbt
with it, or an orphaned dbt keeps the DuckDB write lock and every later run fails. The child
runs in its own process group, led by `die_with_parent` so the group dies with this process too;
on timeout (or any exception while waiting) the whole group is killed and waited for.

Why `run_results.json`: an exit code says only "something failed". The results file names
every failing node with its message and failure count, which is what the task log must show.
A failing data test will not heal on retry, so it is raised as `DbtTestFailure` (the DAG turns
it into a no-retry failure); a lock conflict or a crash without results is `DbtTransientError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from course_engagement import warehouse
from course_engagement.orchestration.spark_engine import SPARK_BUILD_FLAGS
from course_engagement.settings import Settings
from course_engagement.validation import validate_date

LAYERS = ("base", "intermediate", "marts")


class DbtError(RuntimeError):
    """dbt did not finish its build; `failures` lists `node: message` lines."""

    def __init__(self, summary: str, failures: list[str], log_tail: str = "") -> None:
        self.failures = failures
        detail = "\n".join(f"  - {line}" for line in failures)
        tail = f"\n--- last lines of dbt output ---\n{log_tail}" if log_tail else ""
        super().__init__(f"{summary}\n{detail}{tail}" if failures else f"{summary}{tail}")


class DbtTestFailure(DbtError):
    """A data test or model failed deterministically: retrying will not help."""


class DbtTransientError(DbtError):
    """Lock conflicts, timeouts and crashes: worth a retry."""


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str
    message: str
    failures: int | None

    def describe(self) -> str:
        count = f" ({self.failures} failing rows)" if self.failures else ""
        return f"{self.unique_id} [{self.status}]{count}: {self.message}".strip()


@dataclass(frozen=True)
class LayerResult:
    layer: str
    nodes: list[NodeResult]
    target_path: Path

    @property
    def summary(self) -> str:
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.status] = counts.get(node.status, 0) + 1
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        return f"dbt build of models/{self.layer}: {parts or 'nothing selected'}"


def dbt_executable() -> str:
    """The dbt next to this interpreter, so a task uses the project's locked dbt."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


# A daily run leaves out the nodes that read all history (tag full_history) and dbt's unit
# tests: those read no data, only the models' logic, so they pass or fail with the code, not the
# day; CI runs them on every change (a full build in tests/dbt) and a full-history check runs
# them too. Their 22 cost 8-10 s of node time in a DAG run on the sample (a busy machine;
# benchmarks/NOTES.md).
DAILY_EXCLUDED = ("--exclude", "tag:full_history", "resource_type:unit_test")


def build_command(
    layer: str,
    as_of_date: str,
    settings: Settings,
    run_dir: Path,
    run_vars: dict[str, Any] | None = None,
) -> list[str]:
    """`dbt build` of one layer; `run_vars` (see `run_vars()`) besides as_of_date."""
    if layer not in LAYERS:
        raise ValueError(f"unknown dbt layer {layer!r}; expected one of {', '.join(LAYERS)}")
    as_of = validate_date(as_of_date).isoformat()
    return [
        dbt_executable(),
        "build",
        "--select",
        f"path:models/{layer}",
        # A test runs once every model it refs is built or selected ("eager" would run a later
        # layer's relationships test while building base; "cautious" would skip cross-layer tests).
        "--indirect-selection",
        "buildable",
        # nodes that read all history (tag full_history) and unit tests run only in a
        # full-history check
        *([] if (run_vars or {}).get("full_history_checks") else DAILY_EXCLUDED),
        "--vars",
        json.dumps({**(run_vars or {}), "as_of_date": as_of}),
        *(SPARK_BUILD_FLAGS if settings.engine == "spark" else ()),
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target-path",
        str(run_dir / "target"),
        "--log-path",
        str(run_dir / "logs"),
    ]


def run_vars(settings: Settings, run_dir: Path, *, full_history_checks: bool) -> dict[str, Any]:
    """The vars every layer of one run passes besides as_of_date, decided by its first layer.

    Event-grain data tests check the load batches the models have not taken yet
    (data_tests_from_load_batch); `full_history_checks` makes every check read all history.
    Kept beside the layers' folders, so a later layer or a retry checks the same batches.
    """
    kept = run_dir.parent / "run_vars.json"
    if kept.exists():
        return json.loads(kept.read_text())
    if full_history_checks:
        chosen: dict[str, Any] = {"full_history_checks": True}
    elif settings.engine == "spark":  # a full refresh takes every batch: its tests check them all
        chosen = {"data_tests_from_load_batch": 1}
    else:
        try:
            with duckdb.connect(str(settings.db_path), read_only=True) as con:
                newest = warehouse.newest_processed_load_batch(con)
        except duckdb.IOException as error:  # held by another process: a retry may succeed
            raise DbtTransientError(f"cannot read {settings.db_path}: {error}", []) from None
        chosen = {"data_tests_from_load_batch": newest + 1}
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_suffix(".partial")
    partial.write_text(json.dumps(chosen))
    partial.replace(kept)
    return chosen


def read_run_results(target_path: Path) -> list[NodeResult]:
    results_file = target_path / "run_results.json"
    if not results_file.exists():
        return []
    payload = json.loads(results_file.read_text())
    return [
        NodeResult(
            unique_id=item["unique_id"],
            status=item["status"],
            message=(item.get("message") or "").strip(),
            failures=item.get("failures"),
        )
        for item in payload.get("results", [])
    ]


def run_in_process_group(
    command: list[str], *, env: dict[str, str], cwd: Path, timeout_s: float
) -> tuple[int, str]:
    """Run `command` in its own process group; on timeout or interruption kill the group.

    The group is led by `die_with_parent`, so it is killed too if this process dies (SIGKILL
    included). Returns (exit code, combined output); raises `subprocess.TimeoutExpired` after
    killing, once every process of the group has exited.
    """
    guarded = [
        sys.executable,
        "-m",
        "course_engagement.orchestration.die_with_parent",
        str(os.getpid()),
    ]
    process = subprocess.Popen(
        [*guarded, *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except BaseException:
        _kill_group(process)
        raise
    _end_stragglers(process)
    return process.returncode, output


GROUP_EXIT_WAIT_S = 30.0


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group `pgid`, from /proc."""
    members = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid and fields[0] != "Z":  # state, ppid, pgrp
                    members.append(int(proc.name))
    return members


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the group and wait until all of it has exited, not just its leader: a member
    still dying (dbt under the guard) can hold the DuckDB lock a moment longer."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    if not Path("/proc/self/stat").exists():
        return
    deadline = time.monotonic() + GROUP_EXIT_WAIT_S
    while (members := group_members(process.pid)) and time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a member forked after the first kill
        time.sleep(0.01)
    if members:
        print(f"warning: processes {members} of dbt's group did not exit after SIGKILL", flush=True)


def _end_stragglers(process: subprocess.Popen) -> None:
    """After dbt exited, give what it left in its group (dbt-spark's JVM, which holds the Derby
    metastore's lock) GROUP_EXIT_WAIT_S to exit, then kill it: no session outlives its task."""
    if not Path("/proc/self/stat").exists():
        return
    deadline = time.monotonic() + GROUP_EXIT_WAIT_S
    while group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_members(process.pid):
        _kill_group(process)


PARTIAL_PARSE = "partial_parse.msgpack"


def _reuse_parse(run_dir: Path, parse_dir: Path) -> None:
    """Start from the newest parse a layer left in `parse_dir`, so a layer pays for a full
    parse only when the project or the vars changed since (dbt checks the file before use:
    project files, vars, profile, version; the vars are the same for every layer of a run)."""
    (run_dir / "target").mkdir(parents=True, exist_ok=True)
    (run_dir / "target" / "run_results.json").unlink(missing_ok=True)  # a retry's stale results
    shared = parse_dir / PARTIAL_PARSE
    if shared.exists():
        shutil.copyfile(shared, run_dir / "target" / PARTIAL_PARSE)


def _keep_parse(run_dir: Path, parse_dir: Path) -> None:
    produced = run_dir / "target" / PARTIAL_PARSE
    if produced.exists():
        parse_dir.mkdir(parents=True, exist_ok=True)
        partial = parse_dir / f"{PARTIAL_PARSE}.{os.getpid()}.partial"
        shutil.copyfile(produced, partial)
        partial.replace(parse_dir / PARTIAL_PARSE)  # whole or absent: dbt never reads half a file


def build_layer(
    layer: str,
    as_of_date: str,
    settings: Settings,
    run_dir: Path,
    timeout_s: float = 1_800,
    *,
    full_history_checks: bool = False,
    parse_dir: Path | None = None,
) -> LayerResult:
    """`dbt build` one layer; raise `DbtTestFailure` or `DbtTransientError` on failure.

    `parse_dir` keeps dbt's partial parse for the next layer and run (the DAG's is
    `tasks.parse_dir`, across runs); by default the run's folder, beside its layers."""
    chosen = run_vars(settings, run_dir, full_history_checks=full_history_checks)
    command = build_command(layer, as_of_date, settings, run_dir, chosen)
    parse_dir = parse_dir or run_dir.parent
    _reuse_parse(run_dir, parse_dir)
    env = os.environ | settings.dbt_env()  # the validated values, not the raw variables
    print("running:", " ".join(command), flush=True)
    try:
        returncode, output = run_in_process_group(
            command, env=env, cwd=settings.repo_root, timeout_s=timeout_s
        )
    except subprocess.TimeoutExpired:
        raise DbtTransientError(
            f"dbt build of models/{layer} exceeded {timeout_s:.0f}s and was killed "
            "(its whole process group, so no dbt keeps the DuckDB lock)",
            [],
        ) from None
    print(output, end="", flush=True)
    _keep_parse(run_dir, parse_dir)
    result = LayerResult(layer, read_run_results(run_dir / "target"), run_dir / "target")
    if returncode == 0:
        print(result.summary, flush=True)
        return result

    failed = [node for node in result.nodes if node.status in {"fail", "error"}]
    tail = "\n".join(output.splitlines()[-25:])
    if not result.nodes or warehouse.is_lock_conflict(output):
        raise DbtTransientError(
            f"dbt build of models/{layer} failed before finishing (exit {returncode}); "
            "a lock held by another process or a crash, retrying may help",
            [node.describe() for node in failed],
            tail,
        )
    raise DbtTestFailure(
        f"dbt build of models/{layer} failed: {len(failed)} node(s) failed; "
        "fix the data or the model, a retry will not help",
        [node.describe() for node in failed],
    )
