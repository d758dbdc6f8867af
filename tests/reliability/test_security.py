"""Parameters, secrets, file permissions and personal data (cases 16, 17 and 18)."""

from __future__ import annotations

import csv
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import reliability_data as data
from reliability_harness import Build, copy_db, dbt_args, query

from course_engagement import cli
from course_engagement.orchestration import dbt_runner, tasks
from course_engagement.orchestration.local_airflow import airflow_env
from course_engagement.publishing import export
from course_engagement.settings import REPO_ROOT, Settings

CRAFTED = [
    "../../etc/passwd",
    "2026-03-10/../../../tmp/x",
    "2026-03-10' as date); drop table raw.users; --",
    "2026-03-10 --select nothing",
    "$(touch /tmp/pwned)",
    "2026-02-30",
    "20260310",
    "",
]


# Case 16: a report date is a date and nothing else --------------------------------------------


@pytest.mark.parametrize("value", CRAFTED)
def test_the_cli_refuses_a_crafted_date_before_anything_runs(value, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(tmp_path / "output"))
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--date", value])
    assert exit_.value.code == 2
    assert re.search(r"YYYY-MM-DD|calendar date", capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []  # no Airflow home, no output, no report


@pytest.mark.parametrize("value", CRAFTED)
def test_export_dbt_runner_and_task_bodies_refuse_a_crafted_date(value, tmp_path):
    settings = Settings.from_env()
    with pytest.raises(ValueError, match=r"YYYY-MM-DD|calendar date"):
        export.export_report(tmp_path / "none.duckdb", tmp_path / "reports", value)
    with pytest.raises(ValueError, match=r"YYYY-MM-DD|calendar date"):
        dbt_runner.build_command("marts", value, settings, tmp_path / "run")
    if value:  # an empty ds is a run without a logical date: its run_after date is used
        with pytest.raises(ValueError, match=r"YYYY-MM-DD|calendar date"):
            tasks.report_date({"ds": value})
    assert list(tmp_path.iterdir()) == []


def test_a_crafted_run_id_stays_inside_the_runs_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(tmp_path))
    crafted = "../../../../tmp/x; rm -rf /"
    folder = tasks.run_dir(Settings.from_env(), "2026-03-10", crafted, "base")
    assert folder.resolve().is_relative_to((tmp_path / "dbt_runs").resolve())
    assert folder.parent.name == "2026-03-10_.._.._.._.._tmp_x__rm_-rf__"


@pytest.mark.parametrize(
    ("node", "variables", "refusal"),
    [
        (
            "mart_course_engagement",
            {"as_of_date": "2026-03-10' as date); drop table raw.users; --"},
            "as_of_date",
        ),
        (
            "assert_unknown_code_shares_within_limits",
            {"max_unknown_event_type_share": "0); drop table raw.users; --"},
            "a share",
        ),
    ],
    ids=["as_of_date", "max_unknown_event_type_share"],
)
def test_dbt_refuses_a_crafted_var_before_running_any_sql(
    node, variables, refusal, fixture_build: Build, tmp_path, dbt_worker
):
    """Defence in depth: even a var that reaches dbt directly never becomes SQL."""
    db = copy_db(fixture_build.db, tmp_path / "db")
    args = dbt_args("build", tmp_path / "dbt", data.AS_OF_DATE, "--select", node)
    args[args.index("--vars") + 1] = json.dumps({"as_of_date": data.AS_OF_DATE, **variables})
    result = dbt_worker.run(db, *args)
    assert not result.success
    message = (result.exception or "") + result.output
    assert re.search(rf"var \w+ must be .*{refusal}", message), message[-2000:]
    assert query(db, "select count(*) from raw.users") == [(12,)]


# Case 17: no credentials in git; generated passwords stay in the ignored Airflow home ---------

SECRET = re.compile(
    r"""(password|passwd|secret|token|api[_-]?key)['"]?\s*[:=]\s*['"][^'"\s]{6,}['"]"""
    r"|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----",
    re.IGNORECASE,
)
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def test_no_tracked_file_holds_a_credential_or_a_generated_password_file():
    tracked = _git("ls-files", "-z").stdout.split("\0")
    assert tracked and "pyproject.toml" in tracked
    assert not [path for path in tracked if path.endswith(PASSWORD_FILE) or "/.airflow/" in path]
    hits = []
    for path in filter(None, tracked):
        file = REPO_ROOT / path
        if not file.is_file() or file.stat().st_size > 5_000_000:
            continue
        text = file.read_bytes().decode("utf-8", errors="ignore")
        hits += [f"{path}: {m.group(0)[:40]}" for m in SECRET.finditer(text)]
    assert hits == []


def test_airflow_generated_password_file_lives_in_the_ignored_airflow_home(monkeypatch):
    monkeypatch.delenv("AIRFLOW_HOME", raising=False)  # the default, as a fresh clone runs
    home = Path(airflow_env(Settings.from_env())["AIRFLOW_HOME"])
    assert home == REPO_ROOT / ".airflow"
    for path in (home / PASSWORD_FILE, home / "airflow.db", home / "airflow.cfg"):
        ignored = _git("check-ignore", "-q", str(path.relative_to(REPO_ROOT)))
        assert ignored.returncode == 0, f"{path} is not git-ignored"
    assert ".airflow/" in (REPO_ROOT / ".gitignore").read_text().splitlines()


def test_reports_are_never_world_writable_even_with_a_permissive_umask(
    fixture_build: Build, tmp_path
):
    db = copy_db(fixture_build.db, tmp_path / "db")
    previous = os.umask(0)
    try:
        report = export.export_report(db, tmp_path / "output" / "reports", data.AS_OF_DATE)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(report.path.stat().st_mode) == 0o644
    assert not stat.S_IMODE(report.path.parent.stat().st_mode) & stat.S_IWOTH


# Case 18: personal data never reaches the marts or the report ---------------------------------


def test_no_email_or_name_reaches_a_mart_the_history_or_the_report(
    fixture_build: Build, tmp_path, monkeypatch
):
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(copy_db(fixture_build.db, tmp_path / "db")))
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(tmp_path / "output"))
    settings = Settings.from_env()
    report = Path(tasks.export_mart_report(settings, data.AS_OF_DATE)["path"])
    people = query(settings.db_path, 'select "fullName", email from raw.users')
    names = {name for name, _ in people} | {part for name, _ in people for part in name.split()}
    assert len(people) == 12 and "Ada Lovelace" in names and "Lovelace" in names

    tables = [
        name
        for (name,) in query(
            settings.db_path,
            "select table_name from information_schema.tables where table_schema = 'analytics' "
            "and (table_name like 'mart_%' or table_name = 'pipeline_run_history')",
        )
    ]
    assert {"mart_course_engagement", "mart_data_quality", "pipeline_run_history"} <= set(tables)
    cells: list[tuple[str, str, str]] = []
    for table in tables:
        columns = [c for (c,) in query(settings.db_path, _columns(table))]
        assert not [c for c in columns if re.search(r"mail|name", c, re.IGNORECASE)], table
        for row in query(settings.db_path, f"select * from analytics.{table}"):
            cells += [(table, c, str(v)) for c, v in zip(columns, row, strict=True)]
    with report.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert not [c for c in rows[0] if re.search(r"mail|name", c, re.IGNORECASE)]
    cells += [("report", rows[0][i], value) for row in rows[1:] for i, value in enumerate(row)]

    assert len(cells) > 100
    leaks = [
        cell
        for cell in cells
        if "@" in cell[2] or any(re.search(rf"\b{re.escape(n)}\b", cell[2]) for n in names)
    ]
    assert leaks == []


def _columns(table: str) -> str:
    return (
        "select column_name from information_schema.columns where table_schema = 'analytics' "
        f"and table_name = '{table}' order by ordinal_position"
    )
