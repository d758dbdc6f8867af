"""The DAG folder imports cleanly and wires exactly the documented chain."""

from __future__ import annotations

import itertools

import pytest

CHAIN = [
    "load_raw",
    "run_base",
    "run_intermediate",
    "run_marts",
    "check_mart_quality",
    "export_mart_report",
]


@pytest.fixture(scope="module")
def dag(airflow_env):
    import os

    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert bag.import_errors == {}
    return bag.dags["course_engagement_pipeline"]


def test_dag_folder_has_exactly_one_dag(dag):
    assert dag.dag_id == "course_engagement_pipeline"


def test_tasks_form_exactly_the_documented_chain(dag):
    assert sorted(dag.task_ids) == sorted(CHAIN)
    edges = {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}
    assert edges == set(itertools.pairwise(CHAIN))


def test_every_task_that_touches_duckdb_is_in_the_one_slot_pool(dag):
    assert {t.task_id: t.pool for t in dag.tasks} == dict.fromkeys(CHAIN, "duckdb")


def test_schedule_and_run_limits(dag):
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert dag.timetable.expression == "0 0 * * *"
    assert dag.doc_md and "load_raw" in dag.doc_md
    assert set(dag.tags) >= {"course-engagement", "dbt"}


def test_every_task_retries_with_backoff_and_has_a_timeout(dag):
    for task in dag.tasks:
        assert task.owner == "data-team"
        assert task.retries == 2, task.task_id
        assert task.retry_exponential_backoff == 2.0, task.task_id
        assert task.execution_timeout is not None, task.task_id


def test_the_report_is_declared_as_an_asset(dag):
    export = dag.get_task("export_mart_report")
    assert [asset.name for asset in export.outlets] == ["course_engagement_report"]


@pytest.mark.parametrize("task_id", CHAIN)
def test_a_bad_setting_fails_every_task_at_once_without_retry(dag, task_id, monkeypatch):
    """Each task reads the settings inside its no-retry guard (Airflow's task context is
    stood in for: the guard, not the scheduler, is the subject)."""
    from airflow.sdk.exceptions import AirflowFailException

    callable_ = dag.get_task(task_id).python_callable
    context = {"ds": "2026-03-10", "run_id": "manual__x", "params": {}}
    monkeypatch.setitem(callable_.__globals__, "get_current_context", lambda: context)
    monkeypatch.setenv("COURSE_ENGAGEMENT_DUCKDB_THREADS", "0")
    with pytest.raises(AirflowFailException) as error:
        callable_()
    assert str(error.value) == (
        "COURSE_ENGAGEMENT_DUCKDB_THREADS='0' is not a whole number >= 1; "
        "use e.g. COURSE_ENGAGEMENT_DUCKDB_THREADS=2"
    )


def test_the_dag_file_imports_whatever_the_settings(airflow_env, monkeypatch):
    import os

    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT", "lots")
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert bag.import_errors == {}
    assert list(bag.dags) == ["course_engagement_pipeline"]
