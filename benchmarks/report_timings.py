"""RESULTS.md's timing breakdowns: where a DAG run and a dbt build spend their time, and what
the time-series marts add to a build."""

from __future__ import annotations

from typing import Any

from report_format import fmt, label


def dag_section(results: list[dict[str, Any]]) -> list[str]:
    with_dag = [r for r in results if r["stages"].get("dag", {}).get("breakdown")]
    if not with_dag:
        return []
    r = with_dag[-1]
    lines = [
        f"## Fixed overhead: the whole DAG on the committed sample ({label(r['events'])} run)",
        "",
        "`course-engagement run` on `data/` (20,000 events) with temporary "
        "COURSE_ENGAGEMENT_DB, COURSE_ENGAGEMENT_OUTPUT_DIR and AIRFLOW_HOME; times from the "
        "`[DAG TEST] starting task_id=` / `end task` lines of "
        "`output/logs/airflow_dags_test_<ds>.log`, median of the warm runs.",
        "",
        "| part | seconds |",
        "|---|---|",
    ]
    for part, seconds in r["stages"]["dag"]["breakdown"].items():
        lines.append(f"| {part} | {fmt(seconds)} |")
    lines.append(f"| **whole run** | **{fmt(r['stages']['dag']['wall_s'])}** |")
    parse = r["stages"]["dag"]["runs"][0].get("dbt_parse_s")
    if parse:
        shown = ", ".join(f"{layer} {s:.1f} s" for layer, s in parse.items())
        lines += ["", f"dbt parse time inside the layers (perf_info.json): {shown}."]
    for key, what in (
        ("dag_cold", "first run, creating the Airflow metadata database"),
        ("dag_without_bytecode_cache", "the same run with no bytecode cache, as this shell"),
    ):
        if "wall_s" in r["stages"].get(key, {}):
            lines.append(f"- {what}: {fmt(r['stages'][key]['wall_s'])} s")
    lines.append("")
    return lines


def median_run(record: dict[str, Any]) -> dict[str, Any] | None:
    runs = sorted(
        (r for r in record.get("runs", []) if r.get("returncode") == 0), key=lambda r: r["wall_s"]
    )
    return runs[len(runs) // 2] if runs else None


def dbt_section(results: list[dict[str, Any]]) -> list[str]:
    """Where a dbt build's wall time goes: inside nodes (by dbt's own per-node timing) or
    around them (start-up, parse, compilation, artefacts), and the slowest nodes."""
    lines = [
        "## Where dbt's time goes",
        "",
        "From dbt's own per-node timings in each build's log (the median run): time inside "
        "nodes (models, tests, unit tests, hooks) and around them (start-up, parse, "
        "compilation, writing artefacts), and the slowest nodes.",
        "",
        "| scale | build | wall s | nodes | inside nodes s | around nodes s | slowest nodes (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    found = False
    for r in results:
        for stage in ("dbt_full", "dbt_noop", "dbt_incremental", "dbt_full_refresh"):
            run = median_run(r["stages"].get(stage, {}))
            if not run or "in_nodes_s" not in run:
                continue
            found = True
            top = ", ".join(
                f"{name.removeprefix('analytics.')} {seconds:.1f}"
                for name, seconds in list(run["slowest_nodes"].items())[:4]
            )
            lines.append(
                f"| {label(r['events'])} | {stage} | {run['wall_s']:.1f} | {run['nodes']} "
                f"| {run['in_nodes_s']:.1f} | {run['wall_s'] - run['in_nodes_s']:.1f} | {top} |"
            )
    return [*lines, ""] if found else []


def time_series_section(results: list[dict[str, Any]]) -> list[str]:
    """What the time-series marts cost inside each build: their nodes' seconds (dbt's per-node
    timings) against the rest of the same build."""
    lines = [
        "## What the time-series marts cost",
        "",
        "The nodes that exist only for the time-series marts (`TIME_SERIES_MODELS` in `run.py`: "
        "the three marts, the models only they read, and the tests and unit tests of each), from "
        "dbt's per-node timings in the same build (the median run; dbt runs one node at a "
        "time, so they add up). *Added* is their seconds over the build's wall time without "
        "them: what they add to the build. The last column lists the models alone.",
        "",
        "| scale | build | wall s | time-series nodes s | added | their models (s) |",
        "|---|---|---|---|---|---|",
    ]
    found = False
    for r in results:
        for stage in ("dbt_full", "dbt_incremental", "dbt_full_refresh"):
            run = median_run(r["stages"].get(stage, {}))
            if not run or "time_series_nodes" not in run:
                continue
            found = True
            nodes = run["time_series_nodes"]
            own = sum(nodes.values())
            listed = ", ".join(
                f"{name.removeprefix('analytics.')} {seconds:.1f}"
                for name, seconds in sorted(nodes.items(), key=lambda item: -item[1])
                if name.startswith("analytics.")  # models; dbt names tests without a schema
            )
            lines.append(
                f"| {label(r['events'])} | {stage} | {run['wall_s']:.1f} | {own:.1f} "
                f"| {own / (run['wall_s'] - own):.0%} | {listed} |"
            )
    return [*lines, ""] if found else []
