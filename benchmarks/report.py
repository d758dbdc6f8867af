"""Render RESULTS.md from every results_<events>.json in a folder (written by run.py).

uv run python benchmarks/report.py            # re-render benchmarks/RESULTS.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent

STAGES = (  # (key, what it is)
    ("generate", "`course-engagement generate` (all four files)"),
    ("load_floor", "floor: bare `read_csv` of raw_events.csv into a table"),
    ("load_loader", "loader: `scripts/init_db.py`, all four files, audited"),
    ("mart_floor", "floor: `floor_mart.sql`, one statement (query time)"),
    ("mart_legacy", "legacy query, `1-sql/` (query time)"),
    ("mart_pandas", "pandas, `pandas_mart.py` (read + compute, process)"),
    ("dbt_full", "`dbt build --full-refresh`, every node"),
    ("dbt_noop", "no-op: the same build on the 20k-event sample"),
    ("dbt_startup", "`dbt build` selecting nothing: start-up + partial parse"),
    ("check", "quality gate (`quality.check_mart`)"),
    ("export", "CSV report (`export.export_report`)"),
    ("new_day_file", "write the next day's events file (1% of events)"),
    ("dbt_parse_new_date", "`dbt parse` after the date changed (full re-parse)"),
    ("load_append", "`course-engagement load --append` of that day"),
    ("dbt_incremental", "`dbt build` (incremental) as of the next day"),
    ("dbt_full_refresh", "`dbt build --full-refresh` on the same data"),
    ("dag_cold", "DAG run, first (creates Airflow's metadata DB)"),
    ("dag", "DAG run on the committed sample"),
    ("dag_without_bytecode_cache", "DAG run as this shell runs it (no .pyc)"),
)
QUERY_TIME_STAGES = {"mart_floor", "mart_legacy"}


def _shared_sections(result: dict) -> str:
    """'' if the machine was quiet throughout, else ' (<sections>)' or ' (all sections)'.

    The benchmark alone keeps every core busy (DuckDB runs one thread per core): a load average
    up to the core count is its own; half as much again means someone else's work. Sections
    re-run later keep their own before/after load averages, so each is judged on its own.
    """
    busy = 1.5 * (result["machine"]["cores"] or 1)
    sections = result.get("sections", {})
    loads = {
        name: max(pair[0] for pair in section["load_average_before_after"])  # 1-minute
        for name, section in sections.items()
        if "load_average_before_after" in section
    }
    if not loads:  # older results: one figure for the whole run
        return " (all sections)" if max(result["load_average"]["during_max"]) > busy else ""
    shared = [name for name, load in loads.items() if load > busy]
    if not shared:
        return ""
    return " (all sections)" if len(shared) == len(loads) else f" ({', '.join(shared)})"


def label(events: int) -> str:
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if events >= size and events % size == 0:
            return f"{events // size}{suffix}"
    return f"{events:,}"


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def load(folder: Path) -> list[dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in folder.glob("results_*.json")]
    return sorted(found, key=lambda r: r["events"])


def repeats(result: dict[str, Any], stage: str) -> str:
    n = result["stages"].get(stage, {}).get("n", 0)
    return "" if n == result["repeats"] and n > 1 else f" ({n} run{'s' if n != 1 else ''})"


def figure(result: dict[str, Any], stage: str, digits: int = 1) -> str:
    record = result["stages"].get(stage)
    if record is None:
        return "n/a"
    if record.get("skipped") and "wall_s" not in record:
        return "skipped"
    key = "query_s" if stage in QUERY_TIME_STAGES and "query_s" in record else "wall_s"
    return fmt(record.get(key), digits) + repeats(result, stage)


def machine_section(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Machine and versions",
        "",
        "| scale | cores | memory | python | duckdb | dbt-core | dbt-duckdb | airflow | pandas "
        "| commit | load average before → max during → after (1/5/15 min; the latest run) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m, v, load_avg = r["machine"], r["machine"]["versions"], r["load_average"]
        git = m["git"]
        dirty = git.get("benchmarked") == "working-tree" and git["uncommitted_files"]
        commit = git["commit"] + (" + uncommitted changes" if dirty else "")
        lines.append(
            f"| {label(r['events'])} | {m['cores']} | {m['memory_gib']} GiB | {v['python']} "
            f"| {v['duckdb']} | {v['dbt-core']} | {v['dbt-duckdb']} | {v['apache-airflow']} "
            f"| {v['pandas']} | {commit} | {load_avg['before']} → {load_avg['during_max']} → "
            f"{load_avg.get('after', 'n/a')} |"
        )
    shared = [
        f"{label(r['events'])}{sections}" for r in results if (sections := _shared_sections(r))
    ]
    for r in results:
        commits = {
            name: section["commit"]
            for name, section in r.get("sections", {}).items()
            if "commit" in section
        }
        if len(set(commits.values())) > 1:
            shown = ", ".join(f"{name} at {commit}" for name, commit in commits.items())
            lines.append(f"\n{label(r['events'])} sections were run separately: {shown}.")
    lines.append("")
    if shared:
        lines.append(
            f"**The machine was shared** during the {', '.join(shared)} run(s): colleagues' "
            "builds and test suites ran alongside (load average above). Wall times carry that "
            "noise; CPU times (in the JSON files) are disturbed less, and each figure is a "
            "median of alternated runs, so both sides of a ratio saw the same conditions."
        )
    else:
        lines.append("The machine was quiet during the runs (load average above).")
    lines.append("")
    return lines


CPU_ROWS = (
    ("CPU time: loader ÷ floor, as throughput", "loader_vs_floor"),
    ("CPU time: dbt marginal ÷ floor", "dbt_marginal_vs_floor"),
    ("CPU time: incremental ÷ full refresh marginal", "incremental_vs_full_refresh"),
    ("CPU time: incremental whole ÷ legacy query process", "incremental_vs_legacy"),
)


def cpu_ratios(result: dict[str, Any]) -> dict[str, float]:
    """The key ratios on CPU time (user + system of each process tree, all threads): less
    disturbed than wall time by other work on a shared machine, but it counts work, not
    waiting, and the floor's and legacy query's CPU include their process start-up."""
    cpu = {
        name: stage["cpu_s"]
        for name, stage in result["stages"].items()
        if "cpu_s" in stage and not stage.get("skipped")
    }
    found: dict[str, float] = {}

    def put(key: str, numerator: float | None, denominator: float | None) -> None:
        if numerator is not None and denominator:
            found[key] = round(numerator / denominator, 3)

    put("loader_vs_floor", cpu.get("load_floor"), cpu.get("load_loader"))
    noop = cpu.get("dbt_noop")
    if noop is not None:
        full, inc, refresh = (
            cpu.get("dbt_full"),
            cpu.get("dbt_incremental"),
            cpu.get("dbt_full_refresh"),
        )
        put("dbt_marginal_vs_floor", full - noop if full else None, cpu.get("mart_floor"))
        if inc is not None and refresh is not None:
            put("incremental_vs_full_refresh", inc - noop, refresh - noop)
    put("incremental_vs_legacy", cpu.get("dbt_incremental"), cpu.get("mart_legacy"))
    return found


SAME_DAY_ROWS = 100_000  # benchmarks/run.py appends this day at every scale


def ratio_section(results: list[dict[str, Any]]) -> list[str]:
    head = "| | " + " | ".join(label(r["events"]) for r in results) + " |"
    lines = [
        "## Ratios and targets",
        "",
        head,
        "|---|" + "---|" * len(results),
    ]
    rows = (
        ("loader throughput ÷ floor's (target ≥ 0.8)", "loader_throughput_vs_floor"),
        ("dbt full build wall ÷ floor query", "dbt_full_wall_vs_floor"),
        ("dbt marginal compute (s) = full build - no-op", "dbt_marginal_s"),
        ("dbt marginal ÷ floor (target ≤ 3 at 10M, 100M)", "dbt_marginal_vs_floor"),
        ("legacy query ÷ floor", "legacy_vs_floor"),
        ("pandas ÷ floor", "pandas_vs_floor"),
        ("incremental marginal (s) = incremental - no-op", "incremental_marginal_s"),
        ("full refresh marginal (s)", "full_refresh_marginal_s"),
        (
            "daily increment marginal ÷ full refresh marginal (target ≤ 0.05 at 100M)",
            "incremental_vs_full_refresh_marginal",
        ),
        ("daily step wall (s): append load + incremental build", "daily_step_wall_s"),
        (
            "daily step wall ÷ legacy query (target ≤ 0.25 at 100M)",
            "daily_step_wall_vs_legacy",
        ),
        ("daily step: raw event rows appended", "daily_appended_rows"),
        ("daily step: raw event rows read (DuckDB profiler)", "daily_raw_event_rows_read"),
        ("daily step: most raw event rows one node reads", "daily_most_raw_rows_read_by_one_node"),
        (
            f"the same {SAME_DAY_ROWS:,}-row day: append + incremental build wall (s)",
            "same_day_step_wall_s",
        ),
        ("end-to-end peak memory, GiB (target ≤ 8 at 100M)", "end_to_end_peak_rss_gib"),
    )
    for title, key in rows:
        cells = [fmt(r.get("ratios", {}).get(key), 2) for r in results]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    cpu = [cpu_ratios(r) for r in results]
    for title, key in CPU_ROWS:
        cells = [fmt(c.get(key), 2) for c in cpu]
        lines.append(f"| *{title}* | " + " | ".join(cells) + " |")
    same_day = {r["events"]: r.get("ratios", {}).get("same_day_step_wall_s") for r in results}
    growth = [
        fmt(same_day[r["events"]] / same_day[r["events"] // 10], 2)
        if same_day.get(r["events"]) and same_day.get(r["events"] // 10)
        else "n/a"
        for r in results
    ]
    lines.append(
        "| cost of the same day ÷ at a tenth of the history (target ≤ 2 for 100M vs 10M) | "
        + " | ".join(growth)
        + " |"
    )
    dag = [figure(r, "dag") for r in results]
    lines.append("| whole DAG run on the sample, warm, s (target ≤ 45) | " + " | ".join(dag) + " |")
    slow = []
    for r in results:
        found = r.get("slowest", {})
        slow.append(f"{found.get('overall', 'n/a')} / {found.get('pipeline', 'n/a')}")
    lines.append("| slowest stage: overall / of the pipeline itself | " + " | ".join(slow) + " |")
    agree = []
    for r in results:
        c = r.get("checks", {})
        inc = c.get("incremental_equals_full_refresh")
        parts = [
            f"floor {fmt(c.get('floor_equals_dbt_mart', {}).get('equal'))}",
            f"pandas {fmt(c.get('pandas_equals_dbt_mart', {}).get('equal'))}",
            "incremental "
            + (fmt(all(x["equal"] for run in inc for x in run.values())) if inc else "n/a"),
        ]
        agree.append(", ".join(parts))
    lines.append(
        "| equal to the dbt mart (floor, pandas; incremental to full refresh) | "
        + " | ".join(agree)
        + " |"
    )
    lines += ["", "Targets, as measured:", ""]
    for r in results:
        for name, t in r.get("targets", {}).items():
            if t.get("applies", True):
                verdict = "met" if t["met"] else "**NOT met**"
            else:
                verdict = "(the target is for a larger scale; shown for the trend)"
            lines.append(f"- {label(r['events'])}: {name}: {fmt(t['value'])} → {verdict}")
    lines.append("")
    return lines


def stage_section(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Stage times",
        "",
        "Median wall seconds (query time for the floor and legacy queries), median CPU seconds "
        "of the process tree (user + system, all threads), and peak memory of the process tree.",
        "",
        "| stage | what | "
        + " | ".join(f"{label(r['events'])} wall s | cpu s | peak MiB" for r in results)
        + " |",
        "|---|---|" + "---|---|---|" * len(results),
    ]
    for key, what in STAGES:
        if not any(key in r["stages"] for r in results):
            continue
        cells = []
        for r in results:
            record = r["stages"].get(key, {})
            cpu, peak = record.get("cpu_s"), record.get("peak_rss_mb")
            cells += [figure(r, key), fmt(cpu, 1), fmt(peak, 0)]
        lines.append(f"| {key} | {what} | " + " | ".join(cells) + " |")
    lines.append("")
    for r in results:
        skipped = {k: v["skipped"] for k, v in r["stages"].items() if v.get("skipped")}
        for key, why in skipped.items():
            lines.append(f"- {label(r['events'])} `{key}` skipped: {why}")
        for section, error in r.get("errors", {}).items():
            first = error.splitlines()[0]
            lines.append(f"- {label(r['events'])} section `{section}` failed: {first}")
        if not r.get("complete"):
            lines.append(
                f"- {label(r['events'])}: the run did not complete; the figures are what finished."
            )
    lines.append("")
    return lines


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


def method_section(results: list[dict[str, Any]]) -> list[str]:
    r = results[-1]
    shapes = ", ".join(
        f"{label(x['events'])}: {x['scale']['users']:,} users, {x['scale']['courses']:,} "
        f"courses, {x['scale']['enrolments']:,} enrolments"
        for x in results
    )
    settings = r["settings"]
    return [
        "## Method",
        "",
        f"- Data: `course-engagement generate` (seed 42, one year to the generator's end "
        f"date, 1% of rows per defect class). Scaling rule: {r['scaling_rule']}. Here: "
        f"{shapes}.",
        "- Each figure is the median of the runs shown (3 unless marked); runs of the two "
        "sides of a comparison alternate. Every stage is its own process; peak memory is the "
        "largest resident set of its process tree (sampled sum, per-process high-water mark "
        "and wait4's maxrss, whichever is larger).",
        "- Floor and legacy figures are query time inside their process (`query_s`); dbt, "
        "pandas and the loaders are whole-process wall time, start-up included. Load "
        "throughput counts events for both sides (the loader also loads and audits the other "
        "three files, so its ratio is conservative).",
        "- dbt's fixed cost is the no-op build: the same `dbt build --full-refresh` (every "
        "model, data test and unit test) on the committed 20,000-event sample, whose data "
        "work is well under a second, so what it measures is start-up, parse, and the "
        "per-node overhead of its ~150 nodes. (Empty raw tables would be emptier, but one of "
        "the project's tests fails on a database without a single learner.) Timed builds start "
        "from a valid partial parse; `dbt_parse_new_date` is the full re-parse a new "
        "`as_of_date` costs, once a day.",
        f"- DuckDB for the loader, floor, legacy, check and export: "
        f"{settings['duckdb']} (course_engagement.settings); dbt's profile "
        + (
            "reads the same environment variables with the same defaults."
            if settings.get("dbt_profile_uses_settings")
            else "sets no memory limit or temp directory, so DuckDB's defaults apply to dbt "
            "(80% of RAM, all cores)."
        ),
        "- Bytecode: this shell sets PYTHONDONTWRITEBYTECODE=1 and `.venv` holds no `.pyc` "
        "files, so every Python process here compiles all it imports (dbt, Airflow). Child "
        "processes of the benchmark cache bytecode under `benchmarks/work/pycache` instead, as "
        "an ordinary install does; `dag_without_bytecode_cache` shows the difference.",
        "",
    ]


def render(results: list[dict[str, Any]], folder_is_bench: bool = True) -> str:
    scales = ", ".join(label(r["events"]) for r in results)
    lines = [
        "# Benchmark results",
        "",
        f"Scales: {scales}. Generated by `benchmarks/run.py` from the `results_<events>.json` "
        "files beside this one (do not edit by hand; `uv run python benchmarks/report.py` "
        "re-renders it). Commands:",
        "",
        "```console",
        *(f"$ uv run python benchmarks/{r['command']}" for r in results),
        "```",
        "",
    ]
    notes = BENCH_DIR / "NOTES.md"
    if notes.exists() and folder_is_bench:
        lines += [notes.read_text().rstrip(), ""]
    lines += machine_section(results)
    lines += ratio_section(results)
    lines += stage_section(results)
    lines += dbt_section(results)
    lines += time_series_section(results)
    lines += dag_section(results)
    lines += method_section(results)
    return "\n".join(lines).rstrip() + "\n"


def write(folder: Path) -> Path:
    results = load(folder)
    path = folder / "RESULTS.md"
    if results:
        path.write_text(render(results, folder_is_bench=folder.resolve() == BENCH_DIR))
    return path


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else BENCH_DIR
    print(write(folder))
