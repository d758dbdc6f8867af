"""The one place that resolves paths and settings.

Every path can be overridden from the environment so CI, tests and the DAG can point the
pipeline at a temporary database or output folder; the defaults are repo-relative so a fresh
clone works with no configuration at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


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
            duckdb_memory_limit=os.environ.get("COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT", "8GB"),
            duckdb_threads=int(os.environ.get("COURSE_ENGAGEMENT_DUCKDB_THREADS", "2")),
            duckdb_temp_dir=_path_from_env(
                "COURSE_ENGAGEMENT_DUCKDB_TEMP_DIR", db_path.parent / ".duckdb_tmp"
            ),
        )

    @property
    def reports_dir(self) -> Path:
        return self.output_dir / "reports"


def duckdb_config(settings: Settings) -> dict[str, str | int | bool]:
    """DuckDB connection settings shared by the loader, the export and the benchmarks."""
    return {
        "memory_limit": settings.duckdb_memory_limit,
        "threads": settings.duckdb_threads,
        "temp_directory": str(settings.duckdb_temp_dir),
        "preserve_insertion_order": False,
    }
