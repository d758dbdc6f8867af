"""The one place that resolves paths and settings.

Every path can be overridden from the environment so CI, tests and the DAG can point the
pipeline at a temporary database or output folder; the defaults are repo-relative so a fresh
clone works with no configuration at all.

Environment variables and their defaults (the only list; SETUP.md repeats it for users):

| variable                                | default                            |
|-----------------------------------------|------------------------------------|
| `COURSE_ENGAGEMENT_DB`                  | `<repo>/mock_data.duckdb`          |
| `COURSE_ENGAGEMENT_DATA_DIR`            | `<repo>/data`                      |
| `COURSE_ENGAGEMENT_OUTPUT_DIR`          | `<repo>/output`                    |
| `AIRFLOW_HOME`                          | `<repo>/.airflow`                  |
| `COURSE_ENGAGEMENT_MAX_REJECT_SHARE`    | `0.05` (read by the loader)        |
| `COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT` | `8GB`                              |
| `COURSE_ENGAGEMENT_DUCKDB_THREADS`      | `2`                                |
| `COURSE_ENGAGEMENT_DUCKDB_TEMP_DIR`     | `.duckdb_tmp/` beside the database |

DuckDB settings. Every process that writes the database applies the same three, so a build
that fits on one machine fits in every step: the loader (and the benchmarks) call
`duckdb_config()`, and dbt reads the same variables with the same defaults in the `config_options:`
block of `2-dbt_project/profiles.yml` (tests/test_settings.py keeps the two in step).
Read-only readers of the small marts (export, quality gate, notebook) keep DuckDB's defaults.

- memory limit: DuckDB's own default is 80% of RAM per process, which two processes on one
  machine (a notebook next to the DAG) would exceed together; 8GB fits the CI machine and spills
  beyond it instead of failing.
- threads: DuckDB worker threads inside one process (dbt's own `threads: 1` is a different
  thing: more than one dbt thread on one DuckDB file conflicts). Two matches the CI machine.
- temp directory: where a query spills when it outgrows the memory limit (large joins and
  aggregations at 10M+ events). Beside the database by default, so it is on the same disk and
  never in the repo's tracked files (.gitignore has `.duckdb_tmp/`).
- `preserve_insertion_order = false` (not configurable): no table here has a meaningful row
  order, and keeping it costs memory on large inserts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_DUCKDB_MEMORY_LIMIT = "8GB"
DEFAULT_DUCKDB_THREADS = 2
DUCKDB_TEMP_DIR_NAME = ".duckdb_tmp"


class SettingsError(ValueError):
    """An environment variable holds a value the pipeline cannot use."""


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _threads_from_env(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise SettingsError(f"{name}={value!r} is not a positive whole number; use e.g. {name}=2")
    return threads


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

    @classmethod
    def from_env(cls) -> Settings:
        root = REPO_ROOT
        db_path = _path_from_env("COURSE_ENGAGEMENT_DB", root / "mock_data.duckdb")
        return cls(
            repo_root=root,
            data_dir=_path_from_env("COURSE_ENGAGEMENT_DATA_DIR", root / "data"),
            db_path=db_path,
            output_dir=_path_from_env("COURSE_ENGAGEMENT_OUTPUT_DIR", root / "output"),
            dbt_project_dir=root / "2-dbt_project",
            airflow_home=_path_from_env("AIRFLOW_HOME", root / ".airflow"),
            dags_dir=root / "3-airflow" / "dags",
            duckdb_memory_limit=os.environ.get("COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT")
            or DEFAULT_DUCKDB_MEMORY_LIMIT,
            duckdb_threads=_threads_from_env(
                "COURSE_ENGAGEMENT_DUCKDB_THREADS", DEFAULT_DUCKDB_THREADS
            ),
            duckdb_temp_dir=_path_from_env(
                "COURSE_ENGAGEMENT_DUCKDB_TEMP_DIR", db_path.parent / DUCKDB_TEMP_DIR_NAME
            ),
        )

    @property
    def reports_dir(self) -> Path:
        return self.output_dir / "reports"


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
