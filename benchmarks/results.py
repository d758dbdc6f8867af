"""What a benchmark run's numbers mean: per-stage medians, equality checks between marts, where a
dbt build or a DAG run spends its time, and the ratios and targets RESULTS.md reports."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import duckdb
from machine import median
from plan import DAILY_MARTS, PIPELINE_STAGES, SAME_DAY_ROWS, TIME_SERIES_MODELS

from course_engagement.warehouse import table_exists


def summarise(record: dict[str, Any]) -> None:
    runs = [r for r in record["runs"] if r.get("returncode") == 0]
    record["n"] = len(runs)
    if not runs:
        return
    record["wall_s"] = round(median([r["wall_s"] for r in runs]), 3)
    record["cpu_s"] = round(median([r["cpu_s"] for r in runs]), 3)
    record["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    if all("query_s" in r for r in runs):
        record["query_s"] = round(median([r["query_s"] for r in runs]), 3)
    broken_down = [r["breakdown"] for r in runs if r.get("breakdown")]
    if broken_down:
        keys = broken_down[0].keys()
        record["breakdown"] = {
            k: round(median([b.get(k, 0.0) for b in broken_down]), 2) for k in keys
        }


def remove_database(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def compare(
    con: duckdb.DuckDBPyConnection, left: str, right: str, *, left_columns_only: bool = False
) -> dict[str, Any]:
    """Rows of `left` and `right` as multisets, with left's columns cast to right's types.

    `left_columns_only`: compare on the columns `left` implements (each must be one of right's),
    so an independent re-implementation need not follow every new column of the mart; the
    columns it leaves out are listed under "not_compared".
    """
    left_columns = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {left}").fetchall()]
    columns = con.execute(f"DESCRIBE SELECT * FROM {right}").fetchall()
    names = [c[0] for c in columns]
    extra = {}
    if left_columns_only and set(left_columns) <= set(names):
        extra = {"not_compared": [n for n in names if n not in left_columns]}
        columns = [c for c in columns if c[0] in left_columns]
        names = [c[0] for c in columns]
    if sorted(left_columns) != sorted(names):
        return {"equal": False, "columns": {"left": left_columns, "right": names}}
    cast = ", ".join(f'"{n}"::{t} AS "{n}"' for n, t, *_ in columns)
    a = f"SELECT {cast} FROM {left}"
    b = f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM {right}"
    only_left = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
    only_right = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchone()[0]
    rows = con.execute(f"SELECT count(*) FROM {right}").fetchone()[0]
    return {
        "equal": only_left == 0 and only_right == 0,
        "rows": rows,
        "only_in_left": only_left,
        "only_in_right": only_right,
    } | extra


def compare_marts(db: Path, schema: str, full_refresh_db: Path | None = None) -> dict[str, Any]:
    """Each mart of the incremental build (`schema` in `db`) against the full refresh's
    (`analytics` in `full_refresh_db`, or in `db` itself)."""
    with duckdb.connect(str(db), read_only=full_refresh_db is not None) as con:
        refreshed = "analytics"
        if full_refresh_db is not None:
            con.execute(f"ATTACH '{full_refresh_db}' AS refreshed (READ_ONLY)")
            refreshed = "refreshed.analytics"
        return {
            mart: compare(con, f"{schema}.{mart}", f"{refreshed}.{mart}")
            for mart in DAILY_MARTS
            if table_exists(con, f"{schema}.{mart}")
        }


_NODE = re.compile(r"\d+ of \d+ (?:OK|PASS|WARN|ERROR|FAIL)\b.*? (\S+) \.*\s*\[\S+ in ([\d.]+)s\]")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def dbt_nodes(log_text: str, top: int = 8) -> dict[str, Any]:
    """From dbt's console log: time spent inside nodes (models, tests, hooks) and the slowest."""
    times: dict[str, float] = {}
    for name, seconds in _NODE.findall(_ANSI.sub("", log_text)):
        times[name] = times.get(name, 0.0) + float(seconds)
    slowest_nodes = sorted(times.items(), key=lambda item: -item[1])[:top]
    return {
        "nodes": len(times),
        "in_nodes_s": round(sum(times.values()), 2),
        "slowest_nodes": {name: round(t, 2) for name, t in slowest_nodes},
        "time_series_nodes": {
            name: round(t, 2) for name, t in times.items() if is_time_series_node(name)
        },
    }


def is_time_series_node(name: str) -> bool:
    """A node that exists only for the time-series marts: one of TIME_SERIES_MODELS or a test of
    one (dbt names generic tests `<test>_<model>_<column>` and unit tests `<model>::<test>`)."""
    return any(model in name for model in TIME_SERIES_MODELS)


_LINE = re.compile(r"^(\S+Z) .*\[DAG TEST\] (starting task_id|end task task_id)=(\w+)", re.M)


def dag_breakdown(log_text: str, started: float, wall_s: float) -> dict[str, float]:
    """Seconds from `course-engagement run` start to the first task, per task, and after."""

    def at(stamp: str) -> float:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()

    first_line = re.search(r"^(\d{4}-\d\d-\d\dT\S+Z) ", log_text, re.M)
    breakdown: dict[str, float] = {}
    begun: dict[str, float] = {}
    first_start = last_end = None
    for stamp, kind, task in _LINE.findall(log_text):
        moment = at(stamp)
        if kind.startswith("starting"):
            begun[task] = moment
            first_start = moment if first_start is None else first_start
        elif task in begun:
            breakdown[f"task {task}"] = round(moment - begun[task], 2)
            last_end = moment
    if first_start is None or last_end is None:
        return breakdown
    result = {}
    if first_line:
        result["start-up: process start to Airflow's first log line"] = round(
            at(first_line.group(1)) - started, 2
        )
        result["start-up: first log line to first task"] = round(
            first_start - at(first_line.group(1)), 2
        )
    result |= breakdown
    in_tasks = sum(breakdown.values())
    result["between tasks"] = round(last_end - first_start - in_tasks, 2)
    result["after the last task (shutdown, report)"] = round(started + wall_s - last_end, 2)
    return result


def dbt_parse_times(runs_dir: Path) -> dict[str, float]:
    """Parse time of each dbt layer of a DAG run, from dbt's perf_info.json."""
    times = {}
    for perf in sorted(runs_dir.glob("*/*/target/perf_info.json")):
        info = json.loads(perf.read_text())
        times[perf.parent.parent.name] = round(info.get("load_all_elapsed", 0.0), 2)
    return times


def _wall(stages: dict[str, Any], name: str, key: str = "wall_s") -> float | None:
    stage = stages.get(name, {})
    return None if stage.get("skipped") or key not in stage else stage[key]


def ratios_and_targets(result: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ratios RESULTS.md reports and each target with its value and whether it is met."""
    s, events = result["stages"], result["events"]
    ratios: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    _load_and_mart(s, events, ratios, targets)
    _daily(s, events, ratios, targets)

    append, inc = _wall(s, "load_append"), _wall(s, "dbt_incremental")
    same_append, same_build = _wall(s, "load_append_same_day"), _wall(s, "dbt_incremental_same_day")
    if same_append is None and events // 100 == SAME_DAY_ROWS:  # this scale's day is that day
        same_append, same_build = append, inc
    if same_append is not None and same_build is not None:
        ratios["same_day_step_wall_s"] = round(same_append + same_build, 3)
    dag = _wall(s, "dag")
    if dag is not None:
        targets["whole DAG run on the sample <= 45 s"] = {"value": dag, "met": dag <= 45}
    pipeline = ["generate", "load_loader", "dbt_full", "check", "export"]
    peaks = [s[n]["peak_rss_mb"] for n in pipeline if s.get(n, {}).get("peak_rss_mb")]
    if peaks:
        ratios["end_to_end_peak_rss_gib"] = round(max(peaks) / 1024, 2)
        targets["end-to-end peak memory <= 8 GiB (100M)"] = {
            "value": ratios["end_to_end_peak_rss_gib"],
            "met": ratios["end_to_end_peak_rss_gib"] <= 8,
            "applies": events >= 100_000_000,
        }
    return ratios, targets


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def _load_and_mart(
    s: dict[str, Any], events: int, ratios: dict[str, Any], targets: dict[str, Any]
) -> None:
    """The loader against the load floor; dbt, legacy and pandas against the mart floor."""
    floor_load, loader = _wall(s, "load_floor"), _wall(s, "load_loader")
    if floor_load and loader:
        ratios["load_floor_events_per_s"] = round(events / floor_load)
        ratios["load_loader_events_per_s"] = round(events / loader)
        ratios["loader_throughput_vs_floor"] = _ratio(floor_load, loader)
        targets["loader >= 0.8x floor throughput"] = {
            "value": ratios["loader_throughput_vs_floor"],
            "met": ratios["loader_throughput_vs_floor"] >= 0.8,
        }
    floor = _wall(s, "mart_floor", "query_s")
    full, noop = _wall(s, "dbt_full"), _wall(s, "dbt_noop")
    if full is not None and noop is not None:
        ratios["dbt_marginal_s"] = round(full - noop, 3)
    if floor:
        ratios["dbt_full_wall_vs_floor"] = _ratio(full, floor)
        ratios["dbt_marginal_vs_floor"] = _ratio(ratios.get("dbt_marginal_s"), floor)
        ratios["legacy_vs_floor"] = _ratio(_wall(s, "mart_legacy", "query_s"), floor)
        ratios["pandas_vs_floor"] = _ratio(_wall(s, "mart_pandas"), floor)
        if ratios["dbt_marginal_vs_floor"] is not None:
            targets["dbt marginal compute <= 3x floor (10M, 100M)"] = {
                "value": ratios["dbt_marginal_vs_floor"],
                "met": ratios["dbt_marginal_vs_floor"] <= 3,
                "applies": events >= 10_000_000,
            }


def _daily(s: dict[str, Any], events: int, ratios: dict[str, Any], targets: dict[str, Any]) -> None:
    """The daily increment against a full refresh and the legacy query; the rows it read."""
    noop = _wall(s, "dbt_noop")
    inc, refresh = _wall(s, "dbt_incremental"), _wall(s, "dbt_full_refresh")
    append = _wall(s, "load_append")
    if inc is not None and refresh is not None and noop is not None:
        ratios["incremental_marginal_s"] = round(inc - noop, 3)
        ratios["full_refresh_marginal_s"] = round(refresh - noop, 3)
        ratios["incremental_vs_full_refresh_marginal"] = _ratio(
            ratios["incremental_marginal_s"], ratios["full_refresh_marginal_s"]
        )
        targets["incremental marginal <= 5% of full refresh's (100M)"] = {
            "value": ratios["incremental_vs_full_refresh_marginal"],
            "met": ratios["incremental_vs_full_refresh_marginal"] <= 0.05,
            "applies": events >= 100_000_000,
        }
        legacy = _wall(s, "mart_legacy", "query_s")
        if legacy and append is not None:
            ratios["daily_step_wall_s"] = round(append + inc, 3)
            ratios["daily_step_wall_vs_legacy"] = _ratio(append + inc, legacy)
            targets["daily step (append + incremental build) <= 0.25x legacy query (100M)"] = {
                "value": ratios["daily_step_wall_vs_legacy"],
                "met": ratios["daily_step_wall_vs_legacy"] <= 0.25,
                "applies": events >= 100_000_000,
            }
    reads = s.get("dbt_incremental", {}).get("reads")
    if reads:
        ratios["daily_raw_event_rows_read"] = reads["raw_event_rows_read"]
        ratios["daily_appended_rows"] = reads["appended_rows"]
        ratios["daily_most_raw_rows_read_by_one_node"] = reads["most_read_by_one_node"]


def slowest(result: dict[str, Any]) -> dict[str, Any]:
    timed = {
        name: stage["wall_s"]
        for name, stage in result["stages"].items()
        if "wall_s" in stage and not name.startswith("dag")
    }
    if not timed:
        return {}
    overall = max(timed, key=timed.get)
    pipeline = {n: w for n, w in timed.items() if n in PIPELINE_STAGES}
    found = {"overall": overall, "overall_wall_s": timed[overall]}
    if pipeline:
        name = max(pipeline, key=pipeline.get)
        found |= {"pipeline": name, "pipeline_wall_s": pipeline[name]}
    return found
