"""The DAG's task bodies, without Airflow: report date, per-run paths, the run command's date."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import duckdb
import pytest

from course_engagement.orchestration import local_airflow, tasks
from course_engagement.settings import Settings


def test_report_date_is_ds_when_the_run_has_a_logical_date():
    assert tasks.report_date({"ds": "2026-10-31"}) == "2026-10-31"


def test_a_run_without_logical_date_reports_for_its_run_after_day_in_utc():
    run_after = dt.datetime(2026, 11, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    context = {"ds": None, "dag_run": SimpleNamespace(run_after=run_after)}
    assert tasks.report_date(context) == "2026-10-31"


def test_a_crafted_ds_is_refused():
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        tasks.report_date({"ds": "2026-10-31/../../etc"})


def test_each_run_and_layer_gets_its_own_dbt_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(tmp_path))
    folder = tasks.run_dir(
        Settings.from_env(), "2026-10-31", "manual__2026-11-26T20:54:44+00:00", "base"
    )
    assert folder == tmp_path / "dbt_runs" / "2026-10-31_manual__2026-11-26T20_54_44_00_00" / "base"


def test_every_run_and_layer_keeps_dbts_parse_in_one_folder_beside_the_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(tmp_path))
    calls = []

    def build_layer(layer, ds, settings, run_dir, **kw):
        calls.append((run_dir, kw["parse_dir"]))
        return SimpleNamespace(summary=f"dbt build of models/{layer}: 1 success")

    monkeypatch.setattr(tasks.dbt_runner, "build_layer", build_layer)
    tasks.run_layer(Settings.from_env(), "base", "2026-10-30", "manual__1")
    tasks.run_layer(Settings.from_env(), "marts", "2026-10-31", "manual__2")
    (first_run, first_parse), (second_run, second_parse) = calls
    assert first_parse == second_parse == tmp_path / "dbt_parse"
    assert first_run.parent != second_run.parent


def test_default_date_is_the_generator_end_date_even_with_future_events(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "manifest.json").write_text(json.dumps({"end_date": "2026-10-31"}))
    monkeypatch.setenv("COURSE_ENGAGEMENT_DATA_DIR", str(data))
    assert local_airflow.default_date(Settings.from_env()) == "2026-10-31"


def test_default_date_without_manifest_is_the_latest_event_day(tmp_path, monkeypatch):
    db = tmp_path / "x.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.events as select * from (values "
            "(timestamp '2026-03-01 10:00:00'), (timestamp '2026-03-04 23:59:59'), (null)) "
            "t(event_timestamp)"
        )
    monkeypatch.setenv("COURSE_ENGAGEMENT_DATA_DIR", str(tmp_path / "nothing"))
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(db))
    assert local_airflow.default_date(Settings.from_env()) == "2026-03-04"


def test_run_refuses_a_date_that_is_not_a_date(capsys):
    with pytest.raises(SystemExit):
        local_airflow.run(["--date", "2026-10-31; rm -rf /"])
    assert "YYYY-MM-DD" in capsys.readouterr().err
