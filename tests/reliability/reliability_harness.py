"""Shared, built-once fixtures and helpers for the reliability register (docs/RELIABILITY.md).

conftest.py exposes the fixtures; test modules import the helpers from here by name.

Starting dbt is what costs here (importing it and parsing the project take seconds per
process, more on a busy CI machine), so:

- `dbt_worker` (session): one long-lived dbt child process (dbt_worker.py) that runs any dbt
  command on any test database and frees the file after each command.
- `fixture_build` (session, once per run even with pytest-xdist): the hand-written export of
  reliability_data.py, loaded by the real loader and built by one `dbt build` of every model
  and data test as of 2026-03-10 (unit tests read no data; tests/dbt runs them). Tests read it,
  or copy the file before changing anything.
- Child Python processes get a private bytecode cache under pytest's cache folder
  (`child_env`): with PYTHONDONTWRITEBYTECODE set, as on the CI image, every dbt process would
  otherwise compile dbt's sources again (~6 s each). Nothing about what they run changes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import reliability_data as data
from dbt_harness import write_raw_csvs

from course_engagement.ingest.loader import load
from course_engagement.orchestration import dbt_runner

WORKER_SCRIPT = Path(__file__).with_name("dbt_worker.py")
NO_UNIT_TESTS = ("--exclude", "resource_type:unit_test")
DB_NAME = "warehouse.duckdb"  # dbt renders the file's stem into relation names: keep it fixed


def child_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {
        "PYTHONPYCACHEPREFIX": str(cache_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **extra,
    }


@pytest.fixture(scope="session")
def pycache_dir(request: pytest.FixtureRequest, tmp_path_factory) -> Path:
    cache = getattr(request.config, "cache", None)
    return cache.mkdir("reliability-pycache") if cache else tmp_path_factory.mktemp("pycache")


@pytest.fixture
def fast_children(monkeypatch: pytest.MonkeyPatch, pycache_dir: Path) -> None:
    """Child processes this test starts (dbt via dbt_runner, loaders) share the bytecode cache."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(pycache_dir))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@dataclass(frozen=True)
class WorkerResult:
    success: bool
    exception: str | None
    results: list[dict[str, Any]]
    output: str

    @property
    def statuses(self) -> dict[str, str]:
        return {r["unique_id"]: r["status"] for r in self.results}

    def not_passing(self) -> dict[str, str]:
        return {
            node: status
            for node, status in self.statuses.items()
            if status not in {"success", "pass", "no-op"}
        }


class DbtWorker:
    def __init__(self, env: dict[str, str], log: Path, parse_dir: Path) -> None:
        self._log = log.open("w")
        self._process = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), str(parse_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
            cwd=WORKER_SCRIPT.parents[2],
        )
        self.log_path = log

    def run(self, db: Path, *args: str) -> WorkerResult:
        """Run one dbt command (`build`, `run`, ...) on `db`; the file is free afterwards."""
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps({"db": str(db), "args": list(args)}) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"dbt worker died; see {self.log_path}")
        return WorkerResult(**json.loads(line))

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()


def _shared_folder(tmp_path_factory) -> Path:
    """A folder of this test run that every pytest-xdist worker sees."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def dbt_worker(tmp_path_factory, pycache_dir: Path):
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    worker = DbtWorker(child_env(pycache_dir), log, _shared_folder(tmp_path_factory) / "dbt_parse")
    yield worker
    worker.close()


def dbt_args(command: str, run_dir: Path, as_of_date: str, *extra: str, **vars_: Any) -> list:
    """A dbt command line with its own target/log folders and the vars of one run."""
    return [
        command,
        *extra,
        "--vars",
        json.dumps({"as_of_date": as_of_date, **vars_}),
        "--target-path",
        str(run_dir / "target"),
        "--log-path",
        str(run_dir / "logs"),
    ]


def load_new_db(rows: dict[str, list[str]], root: Path, **load_kwargs: Any) -> Path:
    """Write the CSVs and load them with the real loader into root/warehouse.duckdb."""
    data_dir = write_raw_csvs(root / "data", rows)
    db = root / "db" / DB_NAME
    db.parent.mkdir(parents=True, exist_ok=True)
    load(data_dir, db, **load_kwargs)
    return db


@dataclass(frozen=True)
class Build:
    db: Path
    data_dir: Path
    result: WorkerResult


@contextlib.contextmanager
def _exclusive(lock_file: Path):
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def fixture_build(request: pytest.FixtureRequest, tmp_path_factory) -> Build:
    """Built once per test run, even with pytest-xdist: the first worker builds, others wait."""
    shared = _shared_folder(tmp_path_factory)
    root = shared / "reliability_fixture_build"
    with _exclusive(shared / "reliability_fixture_build.lock"):
        result_file = root / "result.json"
        if not result_file.exists():
            shutil.rmtree(root, ignore_errors=True)
            db = load_new_db(data.ROWS, root)
            worker: DbtWorker = request.getfixturevalue("dbt_worker")
            # every model and data test; unit tests do not read the data (tests/dbt runs them)
            args = dbt_args("build", root / "dbt", data.AS_OF_DATE, *NO_UNIT_TESTS)
            result = worker.run(db, *args)
            assert result.success, result.exception or result.not_passing()
            result_file.write_text(json.dumps(dataclasses.asdict(result)))
    result = WorkerResult(**json.loads(result_file.read_text()))
    return Build(root / "db" / DB_NAME, root / "data", result)


def copy_db(source: Path, folder: Path) -> Path:
    """A private copy of a built database (the file name stays warehouse.duckdb)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(source, folder / DB_NAME))


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def snapshot(db: Path, schemas: tuple[str, ...] = ("raw", "analytics"), skip=()) -> dict:
    """Every table and view of the schemas, rows sorted, so two databases compare exactly."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({', '.join('?' for _ in schemas)}) order by all",
            list(schemas),
        ).fetchall()
        return {
            f"{schema}.{name}": sorted(
                con.execute(f'select * from {schema}."{name}"').fetchall(), key=repr
            )
            for schema, name in names
            if f"{schema}.{name}" not in skip
        }


@pytest.fixture
def dbt_runner_in_worker(monkeypatch: pytest.MonkeyPatch, dbt_worker: DbtWorker) -> None:
    """`dbt_runner.build_layer` runs its exact command in the worker instead of a new process.

    Everything else in build_layer is real: the command it builds, run_results.json, and how a
    failure is classified. Timeouts and process groups are tested with real processes.
    """

    def run_in_worker(command: list[str], *, env: dict[str, str], cwd: Path, timeout_s: float):
        result = dbt_worker.run(Path(env["COURSE_ENGAGEMENT_DB"]), *command[1:])
        return (0 if result.success else 1), result.output + "\n"

    monkeypatch.setattr(dbt_runner, "run_in_process_group", run_in_worker)
