"""DuckDB settings come from one place: the loader's `duckdb_config()` and dbt's profile agree.

dbt cannot import Python settings, so profiles.yml reads the same environment variables with
the same defaults; these tests render its DuckDB options the way dbt does (Jinja with
`env_var`) and compare them with `duckdb_config()` under the same environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.environments.local import LocalEnvironment

from course_engagement import warehouse
from course_engagement.orchestration import dbt_runner
from course_engagement.settings import (
    REPO_ROOT,
    Settings,
    SettingsError,
    check_database_path,
    duckdb_config,
    memory_limit_bytes,
)

PROFILES = REPO_ROOT / "2-dbt_project" / "profiles.yml"
DUCKDB_ENV = (
    "COURSE_ENGAGEMENT_DB",
    "COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT",
    "COURSE_ENGAGEMENT_DUCKDB_THREADS",
    "COURSE_ENGAGEMENT_DUCKDB_TEMP_DIR",
    "COURSE_ENGAGEMENT_MAX_REJECT_SHARE",
    "COURSE_ENGAGEMENT_MAX_COURSE_LOSS_SHARE",
    "COURSE_ENGAGEMENT_MAX_LEARNER_LOSS_SHARE",
    "COURSE_ENGAGEMENT_MAX_ACTIVE_LEARNER_LOSS_SHARE",
    "COURSE_ENGAGEMENT_MAX_QUIZ_LOSS_SHARE",
    "COURSE_ENGAGEMENT_MAX_VIDEO_LOSS_SHARE",
    "COURSE_ENGAGEMENT_MAX_COUNTED_EVENT_LOSS_SHARE",
)


def _dev_target() -> dict:
    """The dev target as dbt renders it from the current environment."""

    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise KeyError(name)
        return default

    def render(value):
        if isinstance(value, dict):
            return {key: render(item) for key, item in value.items()}
        return environment.from_string(str(value)).render(env_var=env_var)

    profile = yaml.safe_load(PROFILES.read_text())["course_engagement"]["outputs"]["dev"]
    environment = jinja2.Environment()
    return render(profile)


def _dbt_settings() -> dict[str, str]:
    """The DuckDB options dbt opens the database with (none are SET per cursor)."""
    target = _dev_target()
    assert "settings" not in target, "per-cursor SETs fail once a query has spilled to disk"
    return target["config_options"]


def _as_dbt_would_see(config: dict) -> dict[str, str]:
    return {key: str(value).lower() for key, value in config.items()}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in DUCKDB_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO_ROOT)  # dbt runs from the repo root; relative paths start there
    return monkeypatch


def _compare() -> None:
    dbt = _dbt_settings()
    python = duckdb_config(Settings.from_env())
    assert set(dbt) == set(python)
    # dbt passes every value as a string (SET x = '...'); a path may be relative to the repo root
    dbt["temp_directory"] = str((REPO_ROOT / dbt["temp_directory"]).resolve())
    assert _as_dbt_would_see(dbt) == _as_dbt_would_see(python)


def test_defaults_are_the_same_for_loader_and_dbt(clean_env: pytest.MonkeyPatch) -> None:
    _compare()
    config = duckdb_config(Settings.from_env())
    assert config["memory_limit"] == "7GB"
    assert config["threads"] == 2
    assert config["temp_directory"] == str(REPO_ROOT / ".duckdb_tmp")


def test_temp_directory_follows_the_database(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("COURSE_ENGAGEMENT_DB", str(tmp_path / "warehouse.duckdb"))
    _compare()
    assert duckdb_config(Settings.from_env())["temp_directory"] == str(tmp_path / ".duckdb_tmp")


def test_every_duckdb_setting_is_overridden_by_the_same_variable(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("COURSE_ENGAGEMENT_DB", str(tmp_path / "warehouse.duckdb"))
    clean_env.setenv("COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT", "3GB")
    clean_env.setenv("COURSE_ENGAGEMENT_DUCKDB_THREADS", "5")
    clean_env.setenv("COURSE_ENGAGEMENT_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    _compare()
    assert duckdb_config(Settings.from_env()) == {
        "memory_limit": "3GB",
        "threads": 5,
        "temp_directory": str(tmp_path / "spill"),
        "preserve_insertion_order": False,
    }


def test_empty_variables_mean_the_default(clean_env: pytest.MonkeyPatch) -> None:
    for name in DUCKDB_ENV[1:4]:
        clean_env.setenv(name, "")
    _compare()


@pytest.mark.parametrize("value", ["two", "0", "-1", "1.5"])
def test_threads_must_be_a_positive_whole_number(clean_env: pytest.MonkeyPatch, value: str) -> None:
    clean_env.setenv("COURSE_ENGAGEMENT_DUCKDB_THREADS", value)
    with pytest.raises(SettingsError, match="COURSE_ENGAGEMENT_DUCKDB_THREADS"):
        Settings.from_env()


def test_dbt_opens_cursor_after_cursor_once_a_query_has_spilled_to_disk(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """dbt-duckdb opens a cursor per node; a build whose data outgrows memory_limit spills to the
    temp directory, and the next node must still get a cursor with the same settings."""
    clean_env.setenv("COURSE_ENGAGEMENT_DB", str(tmp_path / "warehouse.duckdb"))
    clean_env.setenv("COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT", "40MB")
    clean_env.setenv("COURSE_ENGAGEMENT_DUCKDB_THREADS", "1")
    target = _dev_target()
    environment = LocalEnvironment(
        DuckDBCredentials(
            database="warehouse",
            schema=target["schema"],
            path=target["path"],
            settings=target.get("settings"),
            config_options=target.get("config_options"),
        )
    )
    first = environment.handle().cursor()
    first.execute("create table t as select md5(range::varchar) as s from range(2000000)")
    first.execute("create table grouped as select s, count(*) as n from t group by s order by s")
    assert list((tmp_path / ".duckdb_tmp").iterdir()), "the query did not spill"

    second = environment.handle().cursor()
    settings = "select current_setting('temp_directory'), current_setting('memory_limit')"
    assert second.execute(settings).fetchone() == (str(tmp_path / ".duckdb_tmp"), "38.1 MiB")
    assert second.execute("select count(*) from grouped").fetchone() == (2_000_000,)


THREADS = "COURSE_ENGAGEMENT_DUCKDB_THREADS"
MEMORY = "COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT"
REJECT_SHARE = "COURSE_ENGAGEMENT_MAX_REJECT_SHARE"
MEMORY_SYNTAX = "(a number and a unit: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (THREADS, "0", f"{THREADS}='0' is not a whole number >= 1; use e.g. {THREADS}=2"),
        (THREADS, "two", f"{THREADS}='two' is not a whole number >= 1; use e.g. {THREADS}=2"),
        (
            MEMORY,
            "lots",
            f"{MEMORY}='lots' is not a memory limit of at least 16MiB in DuckDB syntax "
            f"{MEMORY_SYNTAX}; use e.g. {MEMORY}=4GB",
        ),
        (
            MEMORY,
            "-1",
            f"{MEMORY}='-1' is not a memory limit of at least 16MiB in DuckDB syntax "
            f"{MEMORY_SYNTAX}; use e.g. {MEMORY}=4GB",
        ),
        (
            MEMORY,
            "none",
            f"{MEMORY}='none' is not a memory limit of at least 16MiB in DuckDB syntax "
            f"{MEMORY_SYNTAX}; use e.g. {MEMORY}=4GB",
        ),
        (
            MEMORY,
            "15MiB",
            f"{MEMORY}='15MiB' is not a memory limit of at least 16MiB in DuckDB syntax "
            f"{MEMORY_SYNTAX}; use e.g. {MEMORY}=4GB",
        ),
        (
            REJECT_SHARE,
            "1.5",
            f"{REJECT_SHARE}='1.5' is not a share between 0 and 1; use e.g. {REJECT_SHARE}=0.05",
        ),
        (
            REJECT_SHARE,
            "five percent",
            f"{REJECT_SHARE}='five percent' is not a share between 0 and 1; "
            f"use e.g. {REJECT_SHARE}=0.05",
        ),
        (
            "COURSE_ENGAGEMENT_MAX_LEARNER_LOSS_SHARE",
            "-0.1",
            "COURSE_ENGAGEMENT_MAX_LEARNER_LOSS_SHARE='-0.1' is not a share between 0 and 1; "
            "use e.g. COURSE_ENGAGEMENT_MAX_LEARNER_LOSS_SHARE=0.1",
        ),
        (
            "COURSE_ENGAGEMENT_MAX_COUNTED_EVENT_LOSS_SHARE",
            "none",
            "COURSE_ENGAGEMENT_MAX_COUNTED_EVENT_LOSS_SHARE='none' is not a share between 0 and 1; "
            "use e.g. COURSE_ENGAGEMENT_MAX_COUNTED_EVENT_LOSS_SHARE=0.0",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable_the_value_and_a_good_example(
    clean_env: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        Settings.from_env()
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("limit", "size"),
    [("4GB", 4 * 10**9), ("512MiB", 512 * 2**20), ("16MiB", 16 * 2**20), ("1.5 gb", 15 * 10**8)],
)
def test_memory_limits_in_duckdb_syntax_are_accepted_as_written(
    clean_env: pytest.MonkeyPatch, limit: str, size: int
) -> None:
    clean_env.setenv(MEMORY, limit)
    assert Settings.from_env().duckdb_memory_limit == limit
    assert memory_limit_bytes(limit) == size


def test_the_reject_share_is_a_setting(clean_env: pytest.MonkeyPatch) -> None:
    assert Settings.from_env().max_reject_share == 0.05
    clean_env.setenv(REJECT_SHARE, "0.2")
    assert Settings.from_env().max_reject_share == 0.2


def test_the_cli_exits_2_with_the_one_line_and_no_traceback(
    clean_env: pytest.MonkeyPatch,
) -> None:
    env = os.environ | {MEMORY: "lots"}
    for command in ("load", "run"):
        done = subprocess.run(
            [sys.executable, "-m", "course_engagement.cli", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == (
            f"error: {MEMORY}='lots' is not a memory limit of at least 16MiB in DuckDB syntax "
            f"{MEMORY_SYNTAX}; use e.g. {MEMORY}=4GB\n"
        )


def test_dbt_gets_the_validated_values(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("COURSE_ENGAGEMENT_DB", str(tmp_path / "warehouse.duckdb"))
    clean_env.setenv(THREADS, "03")
    clean_env.setenv(MEMORY, "")
    settings = Settings.from_env()
    seen: list[dict[str, str]] = []

    def record(command: list[str], *, env: dict[str, str], cwd: Path, timeout_s: float):
        seen.append({name: env[name] for name in DUCKDB_ENV[:4]})  # what profiles.yml reads
        return 1, "crashed before any node ran"

    monkeypatch.setattr(dbt_runner, "run_in_process_group", record)
    run_dir = tmp_path / "run" / "base"
    with pytest.raises(dbt_runner.DbtTransientError):
        dbt_runner.build_layer("base", "2026-03-10", settings, run_dir, full_history_checks=True)
    assert seen == [
        {
            "COURSE_ENGAGEMENT_DB": str(tmp_path / "warehouse.duckdb"),
            "COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT": "7GB",
            "COURSE_ENGAGEMENT_DUCKDB_THREADS": "3",
            "COURSE_ENGAGEMENT_DUCKDB_TEMP_DIR": str(tmp_path / ".duckdb_tmp"),
        }
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("it's.duckdb", 'its file name holds "\'"'),
        ("a#b.duckdb", "its file name holds '#'"),
        ("what?.duckdb", "its file name holds '?'"),
        (
            "main.duckdb",
            "dbt names the catalog after the stem 'main', a name DuckDB reserves",
        ),
        (
            "system.duckdb",
            "dbt names the catalog after the stem 'system', a name DuckDB reserves",
        ),
        (
            "temp.duckdb",
            "dbt names the catalog after the stem 'temp', a name DuckDB reserves",
        ),
    ],
)
def test_database_file_names_duckdb_or_dbt_cannot_take_are_refused(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, name: str, reason: str
) -> None:
    clean_env.setenv("COURSE_ENGAGEMENT_DB", str(tmp_path / name))
    with pytest.raises(SettingsError) as error:
        Settings.from_env()
    assert str(error.value) == (
        f"COURSE_ENGAGEMENT_DB={str(tmp_path / name)!r} cannot be used: {reason}; name the "
        f"file like COURSE_ENGAGEMENT_DB={tmp_path / 'course_engagement.duckdb'}"
    )


def test_quotes_and_glob_characters_in_folder_names_are_allowed(tmp_path: Path) -> None:
    path = tmp_path / "it's [a] *?#" / "warehouse.duckdb"
    assert check_database_path(path) == path


@pytest.mark.parametrize(
    ("message", "is_lock"),
    [
        (
            'IO Error: Could not set lock on file "/x/warehouse.duckdb": Conflicting lock is '
            "held in /usr/bin/python3 (PID 42)",
            True,
        ),
        ('IO Error: Could not write file "/x/blocks.duckdb.wal": No space left on device', False),
        ('IO Error: Cannot open file "/x/locked/warehouse.duckdb": Permission denied', False),
        ("TransactionContext Error: cannot rollback - no transaction is active", False),
    ],
)
def test_only_duckdbs_lock_message_is_a_lock_conflict(message: str, is_lock: bool) -> None:
    assert warehouse.is_lock_conflict(duckdb_io_error(message)) is is_lock


def duckdb_io_error(message: str) -> BaseException:
    import duckdb

    return duckdb.IOException(message)
