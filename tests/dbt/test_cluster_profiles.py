"""The cluster targets of profiles.yml, spark_thrift and databricks, as dbt reads them, with no
cluster anywhere.

`dbt parse --target <t>` renders the target from the environment, builds dbt-spark's
credentials (which import the thrift driver of the `cluster` extra) and parses the whole
project with the Spark adapter, all without connecting; `dbt debug` then connects, to a closed
port on this machine, which shows the driver accepted the settings (it refuses a password or a
Kerberos service name outside their auth modes before it opens a socket). Host names are in
the reserved `.invalid` domain: nothing here can reach a real cluster.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "2-dbt_project"
PROFILE = "course_engagement"
DATABRICKS_TOKEN_VAR = "DBT_ENV_SECRET_COURSE_ENGAGEMENT_DATABRICKS_TOKEN"
SPARK_PASSWORD_VAR = "DBT_ENV_SECRET_COURSE_ENGAGEMENT_SPARK_PASSWORD"
# Dummy settings of each target, as an operator sets them (SETUP.md, "Run against a Spark
# cluster"), and its secret. The thrift target uses LDAP, the mode that takes a password.
TARGET_ENV = {
    "spark_thrift": {
        "COURSE_ENGAGEMENT_SPARK_HOST": "spark-thrift.example.invalid",
        "COURSE_ENGAGEMENT_SPARK_USER": "course_engagement",
        "COURSE_ENGAGEMENT_SPARK_AUTH": "LDAP",
        SPARK_PASSWORD_VAR: "not-a-real-password-7d2e",
    },
    "databricks": {
        "COURSE_ENGAGEMENT_DATABRICKS_HOST": "dbc-00000000-0000.cloud.databricks.invalid",
        "COURSE_ENGAGEMENT_DATABRICKS_CLUSTER": "0000-000000-dummy000",
        DATABRICKS_TOKEN_VAR: "dapi-not-a-real-token-4f1c",
    },
}


def _dbt(command: str, target: str, env: dict[str, str], run_dir: Path) -> tuple[int, str]:
    """`dbt <command> --target <target>` with `env` as the only cluster settings: exit code
    and output (a developer's own cluster settings are not inherited)."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("COURSE_ENGAGEMENT_SPARK_", "COURSE_ENGAGEMENT_DATABRICKS_"))
        and not name.startswith("DBT_ENV_SECRET_")
    }
    dbt = Path(sys.executable).with_name("dbt")
    process = subprocess.run(
        [str(dbt), command, "--target", target]
        + ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
        + (["--target-path", str(run_dir / "target")] if command != "debug" else [])
        + ["--log-path", str(run_dir / "logs")],
        cwd=REPO_ROOT,
        env=inherited | {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"} | env,
        capture_output=True,
        text=True,
        check=False,
    )
    return process.returncode, process.stdout + process.stderr


@pytest.fixture(scope="module", params=sorted(TARGET_ENV))
def parsed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One `dbt parse` of a cluster target with its dummy settings: (target, run folder, output)."""
    target = request.param
    run_dir = tmp_path_factory.mktemp(f"parse_{target}")
    returncode, output = _dbt("parse", target, TARGET_ENV[target], run_dir)
    assert returncode == 0, f"dbt parse --target {target} failed:\n{output[-4000:]}"
    return target, run_dir, output


def test_each_cluster_target_parses_the_project_with_the_spark_adapter(parsed) -> None:
    target, run_dir, _ = parsed
    manifest = json.loads((run_dir / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "spark"
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert len(models) > 20  # the project's models, not an empty parse
    assert {model["schema"] for model in models} == {"analytics"}, target


@pytest.mark.parametrize(
    ("target", "missing"),
    [
        ("databricks", DATABRICKS_TOKEN_VAR),
        ("spark_thrift", SPARK_PASSWORD_VAR),
        ("spark_thrift", "COURSE_ENGAGEMENT_SPARK_HOST"),
    ],
)
def test_a_missing_setting_stops_dbt_naming_it(target: str, missing: str, tmp_path: Path) -> None:
    env = {name: value for name, value in TARGET_ENV[target].items() if name != missing}
    returncode, output = _dbt("parse", target, env, tmp_path)
    assert returncode != 0
    assert f"Env var required but not provided: '{missing}'" in output
    assert not (tmp_path / "target" / "manifest.json").exists()


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("auth", ["NONE", "LDAP"])
def test_the_thrift_driver_accepts_each_auth_mode_and_only_then_fails_to_connect(
    auth: str, tmp_path: Path
) -> None:
    port = _closed_port()
    env = TARGET_ENV["spark_thrift"] | {
        "COURSE_ENGAGEMENT_SPARK_HOST": "127.0.0.1",
        "COURSE_ENGAGEMENT_SPARK_PORT": str(port),
        "COURSE_ENGAGEMENT_SPARK_AUTH": auth,
    }
    returncode, output = _dbt("debug", "spark_thrift", env, tmp_path)
    assert returncode != 0
    assert "Connection refused" in output or f"127.0.0.1', {port})" in output, output[-3000:]
    assert "should be set if and only if" not in output
