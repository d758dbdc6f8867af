"""DuckDB settings come from one place: the loader's `duckdb_config()` and dbt's profile agree.

dbt cannot import Python settings, so profiles.yml reads the same environment variables with
the same defaults; these tests render its DuckDB options the way dbt does (Jinja with
`env_var`) and compare them with `duckdb_config()` under the same environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
import yaml
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.environments.local import LocalEnvironment

from course_engagement.settings import REPO_ROOT, Settings, SettingsError, duckdb_config

PROFILES = REPO_ROOT / "2-dbt_project" / "profiles.yml"
DUCKDB_ENV = (
    "COURSE_ENGAGEMENT_DB",
    "COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT",
    "COURSE_ENGAGEMENT_DUCKDB_THREADS",
    "COURSE_ENGAGEMENT_DUCKDB_TEMP_DIR",
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
    assert config["memory_limit"] == "8GB"
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
    for name in DUCKDB_ENV[1:]:
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
