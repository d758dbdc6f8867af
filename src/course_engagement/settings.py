"""The one place that resolves paths and settings, from the environment with repo-relative
defaults, so a fresh clone needs no configuration and tests, CI and the DAG can point anywhere.

The variables and defaults are listed in SETUP.md; every value is validated here, up front
(`SettingsError` names the variable and a good example). Why the DuckDB settings are what they
are, and shared by every writing process: docs/decisions/duckdb_settings.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_DUCKDB_MEMORY_LIMIT = "7GB"
DEFAULT_DUCKDB_THREADS = 2
DEFAULT_MAX_REJECT_SHARE = 0.05
DUCKDB_TEMP_DIR_NAME = ".duckdb_tmp"

DB_ENV = "COURSE_ENGAGEMENT_DB"
MEMORY_LIMIT_ENV = "COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT"
THREADS_ENV = "COURSE_ENGAGEMENT_DUCKDB_THREADS"
TEMP_DIR_ENV = "COURSE_ENGAGEMENT_DUCKDB_TEMP_DIR"
MAX_REJECT_SHARE_ENV = "COURSE_ENGAGEMENT_MAX_REJECT_SHARE"
# The engine that builds the models (issue 15): DuckDB on one machine, or Spark (session mode
# here). With Spark the loader also writes the raw zone, Spark's sources, and both default to
# folders beside the DuckDB file, which keeps the loader's audit and the run history.
ENGINE_ENV = "COURSE_ENGAGEMENT_ENGINE"
ENGINES = ("duckdb", "spark")
# unset: the DuckDB engine's loader writes no raw zone, the Spark engine's writes RAW_ZONE_DIR_NAME
RAW_ZONE_ENV = "COURSE_ENGAGEMENT_RAW_ZONE"
SPARK_WAREHOUSE_ENV = "COURSE_ENGAGEMENT_SPARK_WAREHOUSE"
RAW_ZONE_DIR_NAME = "raw_zone"
SPARK_WAREHOUSE_DIR_NAME = "spark_warehouse"
# read by publishing.quality; validated here so a bad one stops the run before it starts
# Courses and learners may honestly shrink a little; cumulative totals never fall honestly.
DEFAULT_MAX_LOSS_SHARES = {
    "COURSE_ENGAGEMENT_MAX_COURSE_LOSS_SHARE": 0.10,
    "COURSE_ENGAGEMENT_MAX_LEARNER_LOSS_SHARE": 0.10,
    "COURSE_ENGAGEMENT_MAX_ACTIVE_LEARNER_LOSS_SHARE": 0.0,
    "COURSE_ENGAGEMENT_MAX_QUIZ_LOSS_SHARE": 0.0,
    "COURSE_ENGAGEMENT_MAX_VIDEO_LOSS_SHARE": 0.0,
    "COURSE_ENGAGEMENT_MAX_COUNTED_EVENT_LOSS_SHARE": 0.0,
}
LOSS_SHARE_ENVS = tuple(DEFAULT_MAX_LOSS_SHARES)

MIN_MEMORY_LIMIT = 16 * 2**20  # below this DuckDB cannot build the marts
_MEMORY_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_MEMORY_LIMIT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*", re.IGNORECASE)
# DuckDB cannot open a file whose name holds these, nor one whose stem is a reserved catalog.
_UNSAFE_FILE_CHARACTERS = ("'", "#", "?")
RESERVED_CATALOG_NAMES = ("main", "system", "temp")


class SettingsError(ValueError):
    """An environment variable holds a value the pipeline cannot use."""


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _threads_from_env(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    if not value.strip().isdigit() or int(value) < 1:
        raise SettingsError(f"{name}={value!r} is not a whole number >= 1; use e.g. {name}=2")
    return int(value)


def memory_limit_bytes(limit: str) -> int | None:
    """Bytes of a DuckDB memory limit such as `4GB` or `512MiB`; None if not in that syntax."""
    match = _MEMORY_LIMIT.fullmatch(limit)
    if match is None or match[2].lower() not in _MEMORY_UNITS:
        return None
    return int(float(match[1]) * _MEMORY_UNITS[match[2].lower()])


def _memory_limit_from_env(name: str, default: str) -> str:
    value = os.environ.get(name) or default
    size = memory_limit_bytes(value)
    if size is None or size < MIN_MEMORY_LIMIT:
        raise SettingsError(
            f"{name}={value!r} is not a memory limit of at least 16MiB in DuckDB syntax "
            f"(a number and a unit: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB); use e.g. {name}=4GB"
        )
    return value


def engine_from_env(override: str | None = None) -> str:
    """`override` (a command's --engine), else COURSE_ENGAGEMENT_ENGINE lower-cased; `duckdb`
    when both are unset or empty."""
    value = override or os.environ.get(ENGINE_ENV, "")
    engine = value.strip().lower() or ENGINES[0]
    if engine not in ENGINES:
        raise SettingsError(
            f"{ENGINE_ENV}={value!r} is not an engine; use {ENGINE_ENV}=duckdb (the default) "
            f"or {ENGINE_ENV}=spark"
        )
    return engine


def share_from_env(name: str, default: float) -> float:
    """A share in 0..1 from `name`, or `default` when unset or empty."""
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise SettingsError(
            f"{name}={value!r} is not a share between 0 and 1; use e.g. {name}={default}"
        )
    return share


def check_database_path(path: Path, name: str = DB_ENV) -> Path:
    """`path`, or a SettingsError when dbt-duckdb cannot take its file name (quoting, catalog)."""
    unsafe = [c for c in _UNSAFE_FILE_CHARACTERS if c in path.name]
    if unsafe or path.stem.lower() in RESERVED_CATALOG_NAMES:
        reason = (
            f"its file name holds {' and '.join(repr(c) for c in unsafe)}"
            if unsafe
            else f"dbt names the catalog after the stem {path.stem!r}, a name DuckDB reserves"
        )
        raise SettingsError(
            f"{name}={str(path)!r} cannot be used: {reason}; "
            f"name the file like {name}={path.with_name('course_engagement.duckdb')}"
        )
    return path


def check_raw_zone(path: Path, name: str = RAW_ZONE_ENV) -> Path:
    """`path` resolved, or a SettingsError when it is relative: Spark and dbt read the zone
    from their own working folders, so a relative root would name another folder there."""
    if not path.is_absolute():
        raise SettingsError(
            f"{name}={str(path)!r} is a relative path; the raw zone is read by other processes "
            f"from other folders, so give an absolute one, e.g. {name}={Path.cwd() / path}"
        )
    return path.resolve()


def _raw_zone_from_env() -> Path | None:
    value = os.environ.get(RAW_ZONE_ENV, "")
    return check_raw_zone(Path(value).expanduser()) if value else None


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build one with `Settings.from_env()`."""

    repo_root: Path
    data_dir: Path
    db_path: Path
    output_dir: Path
    dbt_project_dir: Path
    airflow_home: Path
    dags_dir: Path
    duckdb_memory_limit: str
    duckdb_threads: int
    duckdb_temp_dir: Path
    max_reject_share: float = DEFAULT_MAX_REJECT_SHARE
    engine: str = ENGINES[0]
    raw_zone: Path | None = None  # the Parquet copy of raw.* (ingest/raw_zone.py); None: none
    spark_warehouse: Path | None = None  # set with the Spark engine

    @classmethod
    def from_env(cls, engine: str | None = None) -> Settings:
        """The settings of the environment; `engine` overrides COURSE_ENGAGEMENT_ENGINE."""
        root = REPO_ROOT
        db_path = check_database_path(_path_from_env(DB_ENV, root / "mock_data.duckdb"))
        for name in LOSS_SHARE_ENVS:
            share_from_env(name, DEFAULT_MAX_LOSS_SHARES[name])
        engine = engine_from_env(engine)
        spark = engine == "spark"
        raw_zone = _raw_zone_from_env() or (db_path.parent / RAW_ZONE_DIR_NAME if spark else None)
        warehouse = _path_from_env(SPARK_WAREHOUSE_ENV, db_path.parent / SPARK_WAREHOUSE_DIR_NAME)
        return cls(
            repo_root=root,
            data_dir=_path_from_env("COURSE_ENGAGEMENT_DATA_DIR", root / "data"),
            db_path=db_path,
            output_dir=_path_from_env("COURSE_ENGAGEMENT_OUTPUT_DIR", root / "output"),
            dbt_project_dir=root / "2-dbt_project",
            airflow_home=_path_from_env("AIRFLOW_HOME", root / ".airflow"),
            dags_dir=root / "3-airflow" / "dags",
            duckdb_memory_limit=_memory_limit_from_env(
                MEMORY_LIMIT_ENV, DEFAULT_DUCKDB_MEMORY_LIMIT
            ),
            duckdb_threads=_threads_from_env(THREADS_ENV, DEFAULT_DUCKDB_THREADS),
            duckdb_temp_dir=_path_from_env(TEMP_DIR_ENV, db_path.parent / DUCKDB_TEMP_DIR_NAME),
            max_reject_share=share_from_env(MAX_REJECT_SHARE_ENV, DEFAULT_MAX_REJECT_SHARE),
            engine=engine,
            raw_zone=raw_zone,
            spark_warehouse=warehouse if spark else None,
        )

    @property
    def reports_dir(self) -> Path:
        return self.output_dir / "reports"

    def dbt_env(self) -> dict[str, str]:
        """The variables profiles.yml reads, set to the validated values."""
        spark = {
            RAW_ZONE_ENV: str(self.raw_zone),
            SPARK_WAREHOUSE_ENV: str(self.spark_warehouse),
        }
        return {
            DB_ENV: str(self.db_path),
            MEMORY_LIMIT_ENV: self.duckdb_memory_limit,
            THREADS_ENV: str(self.duckdb_threads),
            TEMP_DIR_ENV: str(self.duckdb_temp_dir),
            ENGINE_ENV: self.engine,
        } | (spark if self.engine == "spark" else {})


def reports_dir_from_env() -> Path:
    """The reports folder alone, for the DAG file at import time (validates nothing else)."""
    return _path_from_env("COURSE_ENGAGEMENT_OUTPUT_DIR", REPO_ROOT / "output") / "reports"


def duckdb_config(settings: Settings) -> dict[str, str | int | bool]:
    """DuckDB connection settings shared by the loader, the export and the benchmarks.

    dbt applies the same values through profiles.yml; see the module docstring.
    """
    return {
        "memory_limit": settings.duckdb_memory_limit,
        "threads": settings.duckdb_threads,
        "temp_directory": str(settings.duckdb_temp_dir),
        "preserve_insertion_order": False,
    }
