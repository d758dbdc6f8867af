"""DuckDB settings come from one place: the loader's `duckdb_config()` and dbt's profile agree.

dbt cannot import Python settings, so profiles.yml reads the same environment variables with
the same defaults; these tests render its `settings:` block the way dbt does (Jinja with
`env_var`) and compare it with `duckdb_config()` under the same environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
import yaml

from course_engagement.settings import REPO_ROOT, Settings, SettingsError, duckdb_config

PROFILES = REPO_ROOT / "2-dbt_project" / "profiles.yml"
DUCKDB_ENV = (
    "COURSE_ENGAGEMENT_DB",
    "COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT",
    "COURSE_ENGAGEMENT_DUCKDB_THREADS",
    "COURSE_ENGAGEMENT_DUCKDB_TEMP_DIR",
)


def _dbt_settings() -> dict[str, str]:
    """The dev target's DuckDB settings as dbt renders them from the current environment."""

    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise KeyError(name)
        return default

    profile = yaml.safe_load(PROFILES.read_text())["course_engagement"]["outputs"]["dev"]
    environment = jinja2.Environment()
    return {
        key: environment.from_string(str(value)).render(env_var=env_var)
        for key, value in profile["settings"].items()
    }


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
