"""A throw-away Airflow home, database and output folder for real DAG runs.

Airflow reads AIRFLOW_HOME when first imported, so the environment is set here, before any
test module in this folder imports it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from course_engagement.settings import REPO_ROOT, Settings


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("airflow_run")
    paths = {
        "AIRFLOW_HOME": root / "airflow_home",
        "COURSE_ENGAGEMENT_DB": root / "pipeline.duckdb",
        "COURSE_ENGAGEMENT_OUTPUT_DIR": root / "output",
        "COURSE_ENGAGEMENT_DATA_DIR": root / "data",
    }
    shutil.copytree(REPO_ROOT / "data", paths["COURSE_ENGAGEMENT_DATA_DIR"])
    saved = {name: os.environ.get(name) for name in paths}
    os.environ.update({name: str(path) for name, path in paths.items()})
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Settings.from_env().dags_dir)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    yield paths
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
