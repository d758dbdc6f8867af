"""Faults caused for real (cases 11, 12 and 15): SIGKILL mid-write, a second process holding
the DuckDB file, a dbt that does not finish in time.

Every fault is a real child process: the loader, dbt (the command orchestration.dbt_runner
builds, in its own process group) or the export, killed with SIGKILL once it is seen writing;
a Python process holding a DuckDB connection while another wants to write. Recovery runs go
through the dbt worker where only dbt's start-up cost would differ.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import reliability_data as data
from dbt_harness import write_raw_csvs
from fake_marts import create_engagement_mart
from reliability_harness import Build, copy_db, query, snapshot

from course_engagement.ingest.loader import load
from course_engagement.orchestration import dbt_runner, tasks
from course_engagement.publishing import export, quality
from course_engagement.settings import Settings

POLL_S = 0.005


def _start(command: list[str], **kwargs) -> subprocess.Popen:
    """A child in its own process group, so SIGKILL reaches it and anything it started."""
    return subprocess.Popen(command, start_new_session=True, **kwargs)


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _wait_for(condition, process: subprocess.Popen, what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the child ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            _kill(process)
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(POLL_S)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text` (zombies excluded)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            command = (proc / "cmdline").read_bytes().decode(errors="replace")
            state = (proc / "stat").read_text().split(") ")[1][0]
            if text in command and state != "Z":
                found.append(int(proc.name))
    return found


@contextlib.contextmanager
def holding(db: Path, *, read_only: bool) -> Iterator[subprocess.Popen]:
    """Another process (a notebook, a dbt run) holding a DuckDB connection until released."""
    holder = _start(
        _python(
            "import duckdb, sys; "
            f"con = duckdb.connect('{db}', read_only={read_only}); "
            "con.execute('select count(*) from information_schema.tables').fetchall(); "
            "print('holding', flush=True); sys.stdin.read()"
        ),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "holding\n"
        yield holder
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


# Case 11: kill -9 during the load -----------------------------------------------------------


def _big_export(folder: Path, events: int) -> Path:
    """The fixture's small files and a generated events file large enough to kill mid-load."""
    write_raw_csvs(folder, data.ROWS)
    with duckdb.connect() as con:
        con.execute(
            f"""copy (
                select range as id, 1 as user_id, 201 as course_id, 'page_view' as event_type,
                       strftime(timestamp '2026-03-01' + to_seconds(range % 600000),
                                '%Y-%m-%d %H:%M:%S') as event_timestamp,
                       's' || (range % 977) as session_id, 'page:' || range as metadata
                from range({events})
            ) to '{folder / "raw_events.csv"}' (header true)"""
        )
    return folder


def test_kill_during_the_load_keeps_the_previous_database_and_a_rerun_loads(
    fixture_build: Build, tmp_path: Path, fast_children
) -> None:
    db = copy_db(fixture_build.db, tmp_path / "db")
    before = snapshot(db)
    size_before = db.stat().st_size
    big = _big_export(tmp_path / "big", events=1_000_000)
    loader = _start(
        _python(
            "from course_engagement.ingest.load_cli import main; "
            f"raise SystemExit(main(['--data-dir', '{big}', '--db', '{db}']))"
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # killed once it has written new blocks into the database file
    _wait_for(lambda: db.stat().st_size > size_before + (1 << 20), loader, "the load wrote")
    _kill(loader)

    assert loader.returncode == -signal.SIGKILL
    assert snapshot(db) == before  # the transaction never committed: nothing of it is visible
    audits = load(fixture_build.data_dir, db)  # rerunning the load succeeds
    assert [a.loaded_rows for a in audits] == [12, 4, 12, 21]
    assert snapshot(db, skip={"raw.load_audit"}) == {
        k: v for k, v in before.items() if k != "raw.load_audit"
    }


# Cases 12 and 11: a real dbt process locked out by a reader, and killed mid-layer --------------
# Real `dbt` processes are slow to start (imports, then a parse). The two tests that run one to
# the end of its parse (the lock test, then the kill test) share one database path and vars, so
# the second reuses the first one's partial parse, as dbt_runner does between layers of a run.

# marts a daily layer build rebuilds that differ between two dates (mart_data_quality is a
# full-history check; the cohort mart can be equal for two days of one week)
MARTS = (
    "mart_course_engagement",
    "mart_event_reconciliation",
    "mart_active_learners_daily",
    "mart_course_health_weekly",
)
CLI_DATE = "2026-03-09"  # marts rebuilt for 03-09 differ from the fixture's (03-10) in every table


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dbt_cli")


@pytest.fixture
def cli_settings(fixture_build: Build, cli_folder: Path, monkeypatch, fast_children) -> Settings:
    """A fresh copy of the fixture build, always at the same path (see above)."""
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(copy_db(fixture_build.db, cli_folder)))
    return Settings.from_env()


def _marts(db: Path) -> dict[str, list]:
    tables = snapshot(db, ("analytics",))
    return {name: tables[f"analytics.{name}"] for name in MARTS}


def _dbt_leftovers(db: Path) -> list[str]:
    sql = (
        "select table_name from information_schema.tables "
        "where contains(table_name, '__dbt_tmp') or contains(table_name, '__dbt_backup')"
    )
    return [name for (name,) in query(db, sql)]


def _retry_in_worker(monkeypatch, dbt_worker, db: Path) -> None:
    """The retry runs the same command in the dbt worker (dbt's start-up is what it saves)."""

    def run(command: list[str], **_) -> tuple[int, str]:
        result = dbt_worker.run(db, *command[1:])
        return (0 if result.success else 1), result.output

    monkeypatch.setattr(dbt_runner, "run_in_process_group", run)


def test_dbt_locked_out_by_a_reader_fails_as_transient_and_the_retry_succeeds(
    cli_settings: Settings, cli_folder: Path, monkeypatch, dbt_worker
) -> None:
    db = cli_settings.db_path
    before = snapshot(db)

    with holding(db, read_only=True), pytest.raises(dbt_runner.DbtTransientError) as locked:
        dbt_runner.build_layer("marts", CLI_DATE, cli_settings, cli_folder / "runs" / "locked")

    message = str(locked.value)
    assert "a lock held by another process or a crash, retrying may help" in message
    assert "Could not set lock on file" in message and str(db) in message
    assert not isinstance(locked.value, tasks.PERMANENT_FAILURES)  # the DAG retries it
    assert snapshot(db) == before
    # released: the retry succeeds
    _retry_in_worker(monkeypatch, dbt_worker, db)
    result = dbt_runner.build_layer("marts", CLI_DATE, cli_settings, cli_folder / "runs" / "again")
    assert "error" not in result.summary and "fail" not in result.summary
    assert query(
        db, "select distinct as_of_date::varchar from analytics.mart_event_reconciliation"
    ) == [(CLI_DATE,)]


def test_kill_during_a_dbt_layer_leaves_each_table_old_or_new_never_half_written(
    cli_settings: Settings, cli_folder: Path, monkeypatch, dbt_worker
) -> None:
    db = cli_settings.db_path
    old = _marts(db)
    run_dir = cli_folder / "runs" / "killed"
    command = dbt_runner.build_command("marts", CLI_DATE, cli_settings, run_dir)
    dbt_runner._reuse_parse(run_dir, run_dir.parent)
    dbt = _start(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cli_settings.repo_root,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    seen = []
    for line in dbt.stdout:  # killed as soon as the first of MARTS is committed
        seen.append(line)
        if "OK created sql" in line and any(f"{name} " in line for name in MARTS):
            _kill(dbt)
            break
    else:
        pytest.fail("dbt ended before creating a model:\n" + "".join(seen[-30:]))

    killed, leftovers = _marts(db), _dbt_leftovers(db)
    _retry_in_worker(monkeypatch, dbt_worker, db)
    dbt_runner.build_layer("marts", CLI_DATE, cli_settings, cli_folder / "runs" / "retry")
    new = _marts(db)

    # A model's new version is created under __dbt_tmp inside its transaction: never visible.
    # The old one is renamed __dbt_backup and dropped just after the commit, so a kill in that
    # instant can leave it behind; the next build of the model drops it.
    assert not [name for name in leftovers if "__dbt_tmp" in name]
    assert _dbt_leftovers(db) == []
    versions = {name: "new" if killed[name] == new[name] else "old" for name in MARTS}
    for name in MARTS:
        assert old[name] != new[name], f"{name}: the rebuild for {CLI_DATE} should change it"
        assert killed[name] in (old[name], new[name]), f"{name} is neither version"
    assert {"new", "old"} <= set(versions.values()), versions  # killed mid-layer


# Case 11: kill -9 during the export ---------------------------------------------------------


def _big_mart(db: Path, rows: int, as_of: str) -> None:
    with duckdb.connect(str(db)) as con:
        create_engagement_mart(
            con,
            f"""select range as course_id, 'Course ' || range as course_title,
                   'Design' as category, 'beginner' as level, 'Pub' as publisher,
                   10::bigint as learners, 5::bigint as active_learners,
                   2::bigint as active_learners_30d, 3::bigint as total_quizzes_completed,
                   4::bigint as total_videos_completed,
                   timestamp '2026-01-01 10:00:00' as first_activity,
                   timestamp '2026-03-01 10:00:00' as last_activity,
                   0.5::double as engagement_rate, date '{as_of}' as as_of_date
            from range({rows})""",
        )


def test_kill_during_the_export_leaves_the_previous_report_and_a_rerun_cleans_up(
    tmp_path: Path, fast_children
) -> None:
    db, reports = tmp_path / "warehouse.duckdb", tmp_path / "reports"
    _big_mart(db, rows=400_000, as_of="2026-03-10")
    reports.mkdir()
    final = reports / "course_engagement_2026-03-10.csv"
    final.write_text("the report published by an earlier run\n")
    exporter = _start(
        _python(
            "from pathlib import Path; "
            "from course_engagement.publishing.export import export_report; "
            f"export_report(Path('{db}'), Path('{reports}'), '2026-03-10')"
        ),
        stdout=subprocess.DEVNULL,
    )

    def temporaries() -> list[Path]:
        return [p for p in reports.iterdir() if p.name.startswith(".")]

    _wait_for(
        lambda: any(p.stat().st_size > (1 << 20) for p in temporaries()),
        exporter,
        "the export wrote 1 MiB",
    )
    _kill(exporter)

    (leftover,) = temporaries()
    assert final.read_text() == "the report published by an earlier run\n"
    assert sorted(reports.glob("course_engagement_*.csv")) == [final]  # not mistaken for one

    report = export.export_report(db, reports, "2026-03-10")  # the rerun

    assert not leftover.exists()
    assert sorted(p.name for p in reports.iterdir()) == [final.name]
    with final.open() as handle:
        assert sum(1 for _ in handle) == report.rows + 1 == 400_001


def test_a_temporary_file_of_a_live_export_is_left_alone(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    live = reports / f".course_engagement_2026-03-10.csv.{os.getpid()}.abc.tmp"
    dead = reports / ".course_engagement_2026-03-09.csv.999999999.abc.tmp"
    live.write_text("x")
    dead.write_text("x")
    assert export.remove_stale_temporaries(reports) == [dead]
    assert live.exists()


# Case 12: a second process holds the DuckDB file (the dbt case is above) ----------------------


def test_the_loader_locked_out_fails_as_transient_and_loads_once_released(
    fixture_build: Build, tmp_path: Path, monkeypatch
) -> None:
    db = copy_db(fixture_build.db, tmp_path / "db")
    before = snapshot(db)
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(db))
    monkeypatch.setenv("COURSE_ENGAGEMENT_DATA_DIR", str(fixture_build.data_dir))
    settings = Settings.from_env()

    with holding(db, read_only=False), pytest.raises(quality.DatabaseBusyError) as locked:
        tasks.load_raw(settings)

    assert "Conflicting lock" in str(locked.value) and "the task retries" in str(locked.value)
    assert not isinstance(locked.value, tasks.PERMANENT_FAILURES)
    assert snapshot(db) == before
    assert tasks.load_raw(settings)["raw_events.csv"] == 21


def test_gate_and_export_locked_out_by_a_writer_fail_as_transient(
    fixture_build: Build, tmp_path: Path, monkeypatch
) -> None:
    db = copy_db(fixture_build.db, tmp_path / "db")
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(db))
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(tmp_path / "output"))
    settings = Settings.from_env()

    with holding(db, read_only=False):
        with pytest.raises(quality.DatabaseBusyError, match="to run the quality gate"):
            tasks.check_mart_quality(settings)
        with pytest.raises(quality.DatabaseBusyError, match="to export the report"):
            tasks.export_mart_report(settings, data.AS_OF_DATE)

    assert not any(settings.reports_dir.iterdir())  # no report, no temporary file
    tasks.check_mart_quality(settings)
    assert Path(tasks.export_mart_report(settings, data.AS_OF_DATE)["path"]).exists()


def test_a_reader_during_the_export_delays_only_the_history_and_the_retry_records_it(
    fixture_build: Build, tmp_path: Path, monkeypatch
) -> None:
    db = copy_db(fixture_build.db, tmp_path / "db")
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(db))
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(tmp_path / "output"))
    settings = Settings.from_env()

    with holding(db, read_only=True):  # a notebook reading the mart
        tasks.check_mart_quality(settings)
        with pytest.raises(quality.DatabaseBusyError, match="to record the published report"):
            tasks.export_mart_report(settings, data.AS_OF_DATE)
    report = settings.reports_dir / f"course_engagement_{data.AS_OF_DATE}.csv"
    published = report.read_bytes()

    tasks.export_mart_report(settings, data.AS_OF_DATE)  # the task's retry

    assert report.read_bytes() == published
    assert query(db, "select report_date::varchar from analytics.pipeline_run_history") == [
        (data.AS_OF_DATE,)
    ]


# Case 15: a dbt that hangs -----------------------------------------------------------------


def test_a_dbt_layer_over_its_timeout_is_killed_with_its_process_group(
    fixture_build: Build, tmp_path: Path, fast_children, monkeypatch
) -> None:
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(copy_db(fixture_build.db, tmp_path / "db")))
    run_dir = tmp_path / "hung_run"

    with pytest.raises(dbt_runner.DbtTransientError) as hung:
        dbt_runner.build_layer("marts", data.AS_OF_DATE, Settings.from_env(), run_dir, timeout_s=1)

    assert str(hung.value).startswith(
        "dbt build of models/marts exceeded 1s and was killed (its whole process group"
    )
    assert _processes_mentioning(str(run_dir)) == []


class TaskTimeout(Exception):
    """What Airflow's execution_timeout raises in the task (AirflowTaskTimeout, from SIGALRM)."""


def test_the_task_timeout_interrupting_dbt_kills_its_process_group(
    fixture_build: Build, tmp_path: Path, fast_children, monkeypatch
) -> None:
    """Airflow enforces execution_timeout with SIGALRM, raising AirflowTaskTimeout in the task's
    main thread (airflow.sdk.execution_time.timeout); importing Airflow costs ~10 s, so the same
    mechanism is set up here with a stand-in exception."""
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(copy_db(fixture_build.db, tmp_path / "db")))
    run_dir = tmp_path / "timed_out_run"

    def on_alarm(signum, frame):
        raise TaskTimeout("execution_timeout")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 1.5)
    try:
        with pytest.raises(TaskTimeout):
            dbt_runner.build_layer("marts", data.AS_OF_DATE, Settings.from_env(), run_dir)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    assert _processes_mentioning(str(run_dir)) == []
