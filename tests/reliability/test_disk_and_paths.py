"""Folders, disks and path names (cases of settings and paths checked up front).

Real faults only: a folder the kernel refuses (/sys), a parent that is a file, a full disk made
real in a child process with RLIMIT_FSIZE, and folder names with quotes and glob characters
loaded by the real loader and built by real dbt.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import reliability_data as data
from dbt_harness import write_raw_csvs
from reliability_harness import DB_NAME, query

from course_engagement.ingest.loader import LoadError, load
from course_engagement.orchestration import dbt_runner, tasks
from course_engagement.settings import REPO_ROOT, Settings

REFUSED = "/sys/course_engagement_refused"  # even root cannot create a folder in sysfs


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_unwritable_folder_fails_the_load_naming_it(tmp_path: Path) -> None:
    data_dir = write_raw_csvs(tmp_path / "data", data.ROWS)
    db = Path(REFUSED) / DB_NAME
    with pytest.raises(LoadError) as error:
        load(data_dir, db)
    assert str(error.value) == (
        f"cannot create database {db}: cannot write in folder {REFUSED} (Operation not "
        "permitted); give this user write access to it or choose another folder"
    )


def test_a_parent_path_that_is_a_file_fails_the_load_naming_it(tmp_path: Path) -> None:
    data_dir = write_raw_csvs(tmp_path / "data", data.ROWS)
    (tmp_path / "not_a_folder").write_text("x")
    db = tmp_path / "not_a_folder" / "db" / DB_NAME
    with pytest.raises(LoadError) as error:
        load(data_dir, db)
    assert str(error.value) == (
        f"cannot create database {db}: {tmp_path / 'not_a_folder'} is a file, not a folder; "
        "move it away or choose another folder"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "not_a_folder"]


def test_course_engagement_run_checks_its_folders_first(tmp_path: Path) -> None:
    (tmp_path / "output").write_text("x")
    env = os.environ | {
        "COURSE_ENGAGEMENT_DB": str(tmp_path / "db" / DB_NAME),
        "COURSE_ENGAGEMENT_OUTPUT_DIR": str(tmp_path / "output"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "course_engagement.cli", "run", "--date", "2026-03-10"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"error: COURSE_ENGAGEMENT_OUTPUT_DIR: {tmp_path / 'output'} is a file, not a folder; "
        "move it away or choose another folder\n"
    )
    assert not (tmp_path / "airflow").exists()


FULL_DISK_CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    from course_engagement.ingest.loader import LoadError, load
    limit = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        load(Path(sys.argv[1]), Path(sys.argv[2]))
    except LoadError as error:
        print(error)
        sys.exit(3)
    """
)


def _load_on_a_full_disk(data_dir: Path, db: Path, limit: int) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", FULL_DISK_CHILD, str(data_dir), str(db), str(limit)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _full_disk_message(db: Path) -> str:
    return (
        f"cannot write database {db}: TransactionContext Error: Failed to commit: Could not "
        f'write file "{db}.wal": File too large. Nothing was loaded; free disk space (or raise '
        "the file size limit) and load again\n"
    )


def test_a_full_disk_at_commit_leaves_nothing_of_a_new_database(tmp_path: Path) -> None:
    db = tmp_path / "db" / DB_NAME
    done = _load_on_a_full_disk(REPO_ROOT / "data", db, 200_000)
    assert (done.returncode, done.stdout, done.stderr) == (3, _full_disk_message(db), "")
    assert list(db.parent.iterdir()) == []


def test_a_full_disk_at_commit_leaves_an_existing_database_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "db" / DB_NAME
    load(write_raw_csvs(tmp_path / "small", data.ROWS), db)
    before = _sha(db)
    # the commit writes the WAL first: it outgrows the limit before the database is touched
    done = _load_on_a_full_disk(REPO_ROOT / "data", db, 200_000)
    assert (done.returncode, done.stdout, done.stderr) == (3, _full_disk_message(db), "")
    assert _sha(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == [DB_NAME]
    assert query(db, "select count(*) from raw.events") == [(len(data.EVENTS),)]


def test_input_folders_with_glob_characters_load_their_own_files(tmp_path: Path) -> None:
    data_dir = write_raw_csvs(tmp_path / "exports [1]*?", data.ROWS)
    # siblings the characters would match as a glob: one course less in each
    for sibling in ("exports 1ab", "exports [1]xy"):
        write_raw_csvs(tmp_path / sibling, data.ROWS | {"courses": data.COURSES[:-1]})
    db = tmp_path / "db" / DB_NAME
    audits = load(data_dir, db)
    assert [(a.file_name, a.loaded_rows) for a in audits] == [
        ("raw_users.csv", len(data.USERS)),
        ("raw_courses.csv", len(data.COURSES)),
        ("raw_enrolments.csv", len(data.ENROLMENTS)),
        ("raw_events.csv", len(data.EVENTS)),
    ]
    assert query(db, "select count(*) from raw.courses") == [(len(data.COURSES),)]


def test_quotes_and_glob_characters_in_folder_names_work_through_dbt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dbt_runner_in_worker
) -> None:
    root = tmp_path / "it's [q] *"
    data_dir = write_raw_csvs(root / "data's [1]", data.ROWS)
    db = root / "db" / DB_NAME
    load(data_dir, db)
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(db))
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(root / "output"))
    settings = Settings.from_env()
    for layer in dbt_runner.LAYERS:
        tasks.run_layer(settings, layer, data.AS_OF_DATE, "manual__quotes")
    rows = query(
        db,
        f"select course_id, {', '.join(data.MART_COLUMNS)} from analytics.mart_course_engagement",
    )
    assert {row[0]: row[1:] for row in rows} == data.MART
