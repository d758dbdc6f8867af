"""Benchmark the pipeline at one scale: generate, load, build, increment, run the DAG.

    uv run python benchmarks/run.py --events 10000000            # 3 repeats, about 25 min
    uv run python benchmarks/run.py --events 10000 --repeats 1 --quick --skip-dag --out /tmp/b

Writes `results_<events>.json` into --out (default `benchmarks/`) after every stage, so a run
that dies still leaves what it measured, and at the end regenerates `RESULTS.md` there from
every `results_*.json` it finds. Scratch data (generated files, databases, dbt targets, logs)
goes to --work (default `benchmarks/work/<events>/`, git-ignored).

What is compared, on the same data in the same run (each figure the median of --repeats):

- load: the loader (`scripts/init_db.py`, all four files) against a bare DuckDB `read_csv` of
  the events file into a table (the floor), as events loaded per second.
- mart: `dbt build --full-refresh` of every model as of the generator's end date, against the
  hand-written single-statement floor (`floor_mart.sql`), the legacy query (`1-sql/`) and a
  pandas implementation (`pandas_mart.py`); floor and pandas are checked equal to the dbt mart on
  the columns they implement.
  A no-op build (the same project on the committed 20,000-event sample: every node runs,
  next to nothing to compute) gives dbt's fixed cost; wall minus no-op is the marginal compute.
- daily increment: one more day of events (1% of the total, with late, re-delivered and
  conflicting events) appended with `course-engagement load --append`, then `dbt build`
  (incremental) against `dbt build --full-refresh` on the same data; their marts must agree.
- fixed overhead: a whole DAG run (`course-engagement run`) on the committed sample, broken
  down by the task start/end lines of its Airflow log.

Every stage runs as its own child process (see measure.py): wall and CPU time, and peak
resident memory of its process tree. Child Python processes cache bytecode under --pycache
(never in .venv), so start-up is measured as an installed project has it; see RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import measure
import report

from course_engagement import export
from course_engagement.catalog import newest_processed_load_batch, table_exists
from course_engagement.dbt_runner import FULL_HISTORY_EXCLUDED
from course_engagement.scan_profile import build_reads
from course_engagement.settings import REPO_ROOT, Settings, duckdb_config

BENCH_DIR = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
FLOOR_SQL = BENCH_DIR / "floor_mart.sql"
MARTS = ("mart_course_engagement", "mart_data_quality", "mart_event_reconciliation")
# what the quality gate reads (it compares counted events too)
GATED_MARTS = ("mart_course_engagement", "mart_event_reconciliation")
# what a daily build rebuilds and the increment is checked on (mart_data_quality is a
# full-history check: tag full_history)
DAILY_MARTS = (*GATED_MARTS, *export.TIME_SERIES_MARTS)
# the nodes the time-series marts add to a build: the marts and the models only they read
TIME_SERIES_MODELS = (*export.TIME_SERIES_MARTS, "fct_learner_course_days")
NOTHING = "tag:benchmark_selects_nothing"  # a selector no node matches: dbt start-up only
# The day every scale appends besides its own 1%: "the cost of one day as history grows"
# compares this same day at 10M and 100M (at 10M it is the 1% day itself).
SAME_DAY_ROWS = 100_000
GIB = 2**30
SECTIONS = ("generate", "load", "mart", "incremental", "dag")
SECTION_STAGES = {
    "generate": ("generate",),
    "load": ("load_floor", "load_loader"),
    "mart": (
        "mart_floor",
        "mart_legacy",
        "mart_pandas",
        "dbt_full",
        "dbt_noop",
        "dbt_startup",
        "check",
        "export",
    ),
    "incremental": (
        "new_day_file",
        "dbt_parse_new_date",
        "load_append",
        "dbt_incremental",
        "dbt_full_refresh",
    ),
    "dag": ("dag_cold", "dag", "dag_without_bytecode_cache"),
}
SECTION_CHECKS = {
    "mart": ("floor_equals_dbt_mart", "pandas_equals_dbt_mart"),
    "incremental": ("incremental_equals_full_refresh",),
}


# --------------------------------------------------------------------------- scale


def scale(events: int) -> dict[str, int]:
    """Users, courses and enrolments for a number of events (the rule RESULTS.md states).

    A learner generates about 20 events a year in a course and holds two enrolments, so
    users = events / 40 and enrolments = events / 20; the catalogue grows one course per
    50,000 events; never below the committed sample (1,000 users, 60 courses, 3,000
    enrolments), and capped at the 100M shape (2.5M users, 2,000 courses, 5M enrolments) so
    the generator's in-memory tables stay small.
    """
    return {
        "events": events,
        "users": min(2_500_000, max(1_000, events // 40)),
        "courses": min(2_000, max(60, events // 50_000)),
        "enrolments": min(5_000_000, max(3_000, events // 20)),
    }


SCALING_RULE = (
    "users = events/40, enrolments = events/20 (two enrolments per user, ~20 events per "
    "enrolment a year), courses = events/50,000; at least the committed sample's 1,000 users, "
    "60 courses and 3,000 enrolments, at most 2.5M users, 2,000 courses and 5M enrolments "
    "(the 100M shape)"
)


# --------------------------------------------------------------------------- helpers


class StageFailed(RuntimeError):
    """A stage's command failed; the message names the stage and its log."""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def last_json_line(log: Path) -> dict[str, Any]:
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return {}


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("duckdb", "dbt-core", "dbt-duckdb", "apache-airflow", "pandas", "pyarrow"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def memory_total_bytes() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = [
        line[3:]
        for line in git("status", "--porcelain").splitlines()
        if not line[3:].startswith("benchmarks/")
    ]
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_files": dirty}


def snapshot(folder: Path) -> Path:
    """The committed HEAD, extracted to `folder`: what a long run benchmarks."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


# --------------------------------------------------------------------------- the benchmark


class Benchmark:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.events: int = args.events
        self.shape = scale(self.events)
        self.out: Path = args.out
        self.work: Path = args.work or (
            BENCH_DIR / "work" / str(self.events)
            if args.out == BENCH_DIR
            else args.out / "work" / str(self.events)
        )
        self.data = self.work / "data"
        self.db = self.work / "db" / "warehouse.duckdb"
        self.noop_db = self.work / "db" / "noop_sample.duckdb"
        self.logs = self.work / "logs"
        self.guard = int(args.memory_guard_gib * GIB)
        self.results_path = self.out / f"results_{self.events}.json"
        self.root = REPO_ROOT if args.source == "working-tree" else snapshot(self.work / "source")
        self.started = time.time()
        self.result: dict[str, Any] = {
            "events": self.events,
            "complete": False,
            "repeats": args.repeats,
            "quick": args.quick,
            "mart_only": args.mart_only,
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "scale": self.shape,
            "scaling_rule": SCALING_RULE,
            "machine": self.machine(),
            "settings": self.settings(),
            "load_average": {"before": load_average(), "during_max": load_average()},
            "stages": {},
            "checks": {},
            "errors": {},
            "sections": {},
        }

    # ------------------------------------------------------------------ environment

    def machine(self) -> dict[str, Any]:
        return {
            "cores": os.cpu_count(),
            "memory_gib": round(memory_total_bytes() / GIB, 1),
            "platform": platform.platform(),
            "versions": versions(),
            "git": git_state() | {"benchmarked": self.args.source},
            "shell_sets_PYTHONDONTWRITEBYTECODE": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
        }

    def settings(self) -> dict[str, Any]:
        config = duckdb_config(Settings.from_env())
        profile = (self.root / "2-dbt_project" / "profiles.yml").read_text()
        return {
            "duckdb": {k: v for k, v in config.items() if k != "temp_directory"},
            "duckdb_temp_directory": "<database folder>/.duckdb_tmp (settings default)"
            if "COURSE_ENGAGEMENT_DUCKDB_TEMP_DIR" not in os.environ
            else config["temp_directory"],
            "dbt_profile_uses_settings": "COURSE_ENGAGEMENT_DUCKDB_MEMORY_LIMIT" in profile,
            "bytecode_cache": str(self.args.pycache),
            "memory_guard_gib": self.args.memory_guard_gib,
        }

    def env(self, db: Path | None = None, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env |= {
            "PYTHONPYCACHEPREFIX": str(self.args.pycache),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
        if self.root != REPO_ROOT:  # the snapshot's package, not the editable install's
            env["PYTHONPATH"] = str(self.root / "src")
        if db is not None:
            env["COURSE_ENGAGEMENT_DB"] = str(db)
        return env | extra

    # ------------------------------------------------------------------ recording

    def stage(self, name: str) -> dict[str, Any]:
        return self.result["stages"].setdefault(name, {"runs": []})

    def skip(self, name: str, reason: str) -> None:
        self.result["stages"][name] = {"runs": [], "skipped": reason}
        print(f"  {name}: skipped ({reason})", flush=True)

    def measure(
        self,
        name: str,
        command: list[str],
        *,
        env: dict[str, str],
        memory_limit: int | None = None,
        check: bool = True,
    ) -> dict[str, Any]:
        """Run one command as stage `name`, record the run and return it."""
        record = self.stage(name)
        run_number = len(record["runs"]) + 1
        log = self.logs / f"{name}_{run_number}.log"
        sampled = load_average()
        self.result["load_average"]["during_max"] = [
            max(a, b)
            for a, b in zip(self.result["load_average"]["during_max"], sampled, strict=True)
        ]
        m = measure.run(
            command,
            log=log,
            env=env,
            cwd=self.root,
            memory_limit_bytes=memory_limit or self.guard,
            timeout_s=self.args.stage_timeout_min * 60,
        )
        run = m.as_dict() | last_json_line(log) | {"log": str(log.relative_to(self.work))}
        if command[0].endswith("dbt") and "build" in command:
            run |= dbt_nodes(log.read_text(errors="replace"))
        record["runs"].append(run)
        summarise(record)
        print(
            f"  {name} #{run_number}: {m.wall_s:.2f} s wall, {m.cpu_s:.2f} s cpu, "
            f"{m.peak_rss_bytes / 2**20:.0f} MiB peak"
            + ("" if m.returncode == 0 else f", FAILED (exit {m.returncode}, see {log})"),
            flush=True,
        )
        if check and m.returncode != 0:
            why = "memory guard" if m.killed_for_memory else "timeout" if m.timed_out else "error"
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise StageFailed(f"{name} failed ({why}, exit {m.returncode}); log {log}:\n{tail}")
        return run

    def save(self) -> None:
        self.result["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.result["elapsed_min"] = round((time.time() - self.started) / 60, 1)
        self.result["load_average"]["after"] = load_average()
        self.result["ratios"], self.result["targets"] = ratios_and_targets(self.result)
        self.result["slowest"] = slowest(self.result)
        self.out.mkdir(parents=True, exist_ok=True)
        temporary = self.results_path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self.result, indent=2, default=str) + "\n")
        temporary.replace(self.results_path)

    def guarded(self, section: str, func, needs: str | None = None) -> None:
        """Run one section; a failure is recorded and the benchmark goes on with the next
        section that does not need the failed one."""
        print(f"== {section}", flush=True)
        errors = self.result["errors"]
        if needs in errors or needs in self.result.get("not_run", []):
            self.result.setdefault("not_run", []).append(section)
            print(f"  not run: it needs {needs}, which failed", flush=True)
            return
        started = load_average()
        try:
            func()
        except StageFailed as error:
            errors[section] = str(error)
            print(f"  {section} failed: {error}", flush=True)
        self.result["sections"][section] = {
            "commit": self.result["machine"]["git"]["commit"],
            "source": self.args.source,
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "load_average_before_after": [started, load_average()],
        }
        self.save()

    def carry_over(self, sections: list[str]) -> None:
        """Keep an earlier run's results for the sections not run now."""
        if not self.results_path.exists():
            raise SystemExit(f"--sections needs the earlier {self.results_path}")
        earlier = json.loads(self.results_path.read_text())
        for section in SECTIONS:
            if section in sections:
                continue
            for name in SECTION_STAGES[section]:
                if name in earlier["stages"]:
                    self.result["stages"][name] = earlier["stages"][name]
            for name in SECTION_CHECKS.get(section, ()):
                if name in earlier["checks"]:
                    self.result["checks"][name] = earlier["checks"][name]
            if section in earlier.get("errors", {}):
                self.result["errors"][section] = earlier["errors"][section]
            if section in earlier.get("sections", {}):
                self.result["sections"][section] = earlier["sections"][section]
        for key in ("pandas_memory_estimate_gib",):
            if key in earlier and "mart" not in sections:
                self.result[key] = earlier[key]

    # ------------------------------------------------------------------ commands

    def stages_command(self, *args: str | Path | int) -> list[str]:
        """`python benchmarks/stages.py ...`: one of the benchmark's own child stages."""
        return [sys.executable, str(BENCH_DIR / "stages.py"), *map(str, args)]

    def loader_command(self, data: Path, db: Path) -> list[str]:
        loader = self.root / "scripts" / "init_db.py"
        return [sys.executable, str(loader), "--data-dir", str(data), "--db", str(db)]

    def dbt(
        self, command: str, as_of: str, target: Path, *extra: str, **run_vars: Any
    ) -> list[str]:
        return [
            str(BIN / "dbt"),
            command,
            *extra,
            "--vars",
            json.dumps({"as_of_date": as_of, **run_vars}),
            "--project-dir",
            str(self.root / "2-dbt_project"),
            "--profiles-dir",
            str(self.root / "2-dbt_project"),
            "--target-path",
            str(target),
            "--log-path",
            str(target.parent / f"{target.name}_logs"),
        ]

    def build(self, as_of: str, target: Path, *extra: str, **run_vars: Any) -> list[str]:
        """`dbt build` of every node, or only of the models the gate reads (--mart-only)."""
        if self.args.mart_only:
            selected = (f"+{mart}" for mart in GATED_MARTS)
            extra += ("--select", *selected, "--resource-type", "model")
        return self.dbt("build", as_of, target, *extra, **run_vars)

    def daily_vars(self) -> dict[str, int]:
        """As the DAG passes them (dbt_runner.run_vars): data tests check the new batches."""
        with duckdb.connect(str(self.db), read_only=True) as con:
            return {"data_tests_from_load_batch": newest_processed_load_batch(con) + 1}

    def raw_rows_read(self, target: Path, env: dict[str, str], **run_vars: Any) -> dict:
        """Untimed: the raw event rows the next daily build reads, from DuckDB's profiler on
        its compiled SQL (course_engagement.scan_profile), beside the rows appended."""
        probe = target.with_name(target.name + "_probe")
        shutil.rmtree(probe, ignore_errors=True)
        if target.exists():
            shutil.copytree(target, probe)
        compile_ = self.dbt("compile", self.next_date, probe, *FULL_HISTORY_EXCLUDED, **run_vars)
        self.untimed(compile_, env)
        reads = build_reads(probe / "manifest.json", self.db)
        with duckdb.connect(str(self.db), read_only=True) as con:
            appended = con.execute(
                "select loaded_rows from raw.load_batches order by load_batch_id desc limit 1"
            ).fetchone()[0]
        return {
            "appended_rows": appended,
            "raw_event_rows_read": sum(reads.values()),
            "most_read_by_one_node": max(reads.values(), default=0),
            "by_node": reads,
        }

    def untimed(self, command: list[str], env: dict[str, str]) -> None:
        completed = subprocess.run(
            command, env=env, cwd=self.root, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            output = (completed.stdout + completed.stderr)[-3000:]
            raise StageFailed(f"{' '.join(command[:3])} ... failed:\n{output}")

    # ------------------------------------------------------------------ stages

    def run(self) -> None:
        for folder in (self.work, self.logs, self.db.parent):
            folder.mkdir(parents=True, exist_ok=True)
        print(f"benchmark at {self.events:,} events: {self.shape}; work in {self.work}")
        sections = self.args.sections
        if sections != list(SECTIONS):
            self.carry_over(sections)
        if "generate" in sections:
            self.guarded("generate", self.generate)
            if "generate" in self.result["errors"]:
                self.save()
                raise SystemExit(f"generation failed: {self.result['errors']['generate']}")
        manifest = self.data / "manifest.json"
        if not manifest.exists():
            raise SystemExit(f"{manifest} is missing: run the generate section first")
        self.end_date = json.loads(manifest.read_text())["end_date"]
        self.next_date = (dt.date.fromisoformat(self.end_date) + dt.timedelta(days=1)).isoformat()
        self.result["as_of_dates"] = {"full": self.end_date, "incremental": self.next_date}
        for section, needs in (("load", None), ("mart", "load"), ("incremental", "mart")):
            if section in sections:
                self.guarded(section, getattr(self, section), needs=needs)
        if "dag" in sections:
            if self.args.skip_dag:
                self.skip("dag", "--skip-dag")
                self.result["sections"]["dag"] = {"skipped": "--skip-dag"}
            else:
                self.guarded("dag", self.dag)
        self.result["complete"] = (
            not self.result["errors"]
            and not self.result.get("not_run")
            and all(s in self.result["sections"] for s in SECTIONS)
        )
        self.save()
        report.write(self.out)
        print(f"wrote {self.results_path} and {self.out / 'RESULTS.md'}")

    def generate(self) -> None:
        wanted = {**self.shape, "seed": self.args.seed}
        manifest = self.data / "manifest.json"
        if self.args.reuse_data and manifest.exists():
            settings = json.loads(manifest.read_text())["settings"]
            if all(settings.get(k) == v for k, v in wanted.items()):
                self.skip("generate", f"--reuse-data: {self.data} already holds this scale")
                return
        shutil.rmtree(self.data, ignore_errors=True)
        command = [str(BIN / "course-engagement"), "generate", "--out", str(self.data), "--quiet"]
        for key, value in wanted.items():
            command += [f"--{key}", str(value)]
        self.measure("generate", command, env=self.env())
        self.stage("generate")["bytes"] = sum(p.stat().st_size for p in self.data.iterdir())

    def load(self) -> None:
        floor_db = self.work / "db" / "floor_load.duckdb"
        events_csv = self.data / "raw_events.csv"
        for _ in range(self.args.repeats):  # alternate, so a busy machine slows both alike
            remove_database(floor_db)
            floor = self.stages_command("load-floor", "--csv", events_csv, "--db", floor_db)
            self.measure("load_floor", floor, env=self.env(floor_db))
            remove_database(floor_db)
            remove_database(self.db)
            loader = self.loader_command(self.data, self.db)
            self.measure("load_loader", loader, env=self.env(self.db))
        self.stage("load_loader")["database_bytes"] = self.db.stat().st_size
        # The no-op build's database: the committed sample (20,000 events), whose data work is
        # well under a second. Empty raw tables would be emptier, but the project's tests
        # (rightly or not) fail on a database without a single learner.
        remove_database(self.noop_db)
        sample = self.root / "data"
        self.untimed(self.loader_command(sample, self.noop_db), self.env(self.noop_db))

    def mart(self) -> None:
        end, env = self.end_date, self.env(self.db)
        if "load" not in self.args.sections:  # an earlier increment appended to the warehouse
            if not self.built_as_of_end.exists():
                raise StageFailed("no loaded database from an earlier run: run the load section")
            remove_database(self.db)
            shutil.copyfile(self.built_as_of_end, self.db)
        target, noop_target = self.work / "target" / "full", self.work / "target" / "noop"
        if not self.args.quick:
            # Untimed warm-up: the timed builds start from a valid partial parse, as every
            # build after the first of a day does; the full re-parse a new date costs is timed
            # in the incremental section (dbt_parse_new_date).
            self.untimed(self.dbt("parse", end, target), env)
            self.untimed(self.dbt("parse", end, noop_target), self.env(self.noop_db))
        on_db = ("--db", self.db, "--as-of-date", end)
        floor = self.stages_command("query", *on_db, "--sql", FLOOR_SQL, "--into", "bench.floor")
        legacy_sql = self.root / "1-sql" / "messy_course_engagement_duckdb.sql"
        legacy = self.stages_command("query", *on_db, "--sql", legacy_sql, "--into", "bench.legacy")
        pandas_out = self.work / "pandas_mart.parquet"
        pandas = [sys.executable, str(BENCH_DIR / "pandas_mart.py"), *map(str, on_db)]
        pandas += ["--out", str(pandas_out)]
        reports = ("--reports-dir", self.work / "reports", "--date", end)
        export = self.stages_command("export", "--db", self.db, *reports)
        pandas_skipped = self.pandas_plan()
        for _ in range(self.args.repeats):
            self.measure("mart_floor", floor, env=env)
            self.measure("mart_legacy", legacy, env=env)
            if pandas_skipped is None:
                run = self.measure("mart_pandas", pandas, env=env, check=False)
                if run["returncode"] != 0:
                    pandas_skipped = (
                        f"killed by the {self.args.memory_guard_gib:g} GiB memory guard after "
                        f"{run['wall_s']:.0f} s"
                        if run["killed_for_memory"]
                        else f"failed (exit {run['returncode']}); see {run['log']}"
                    )
                    self.stage("mart_pandas")["skipped"] = pandas_skipped
            noop = self.build(end, noop_target, "--full-refresh")
            if self.args.quick:  # smoke run: the no-op build overlaps (it has its own database)
                background = Background(self, "dbt_noop", noop, env=self.env(self.noop_db))
            self.measure("dbt_full", self.build(end, target, "--full-refresh"), env=env)
            if self.args.quick:
                background.join()
            else:
                self.measure("dbt_noop", noop, env=self.env(self.noop_db))
            if not self.args.quick:
                nothing = self.dbt("build", end, target, "--select", NOTHING)
                self.measure("dbt_startup", nothing, env=env)
            self.measure("check", self.stages_command("check", "--db", self.db), env=env)
            self.measure("export", export, env=env)
        if pandas_skipped is not None and "mart_pandas" not in self.result["stages"]:
            self.skip("mart_pandas", pandas_skipped)
        checks = self.result["checks"]
        with duckdb.connect(str(self.db), read_only=True) as con:
            mart = "analytics.mart_course_engagement"
            # independent implementations: compared on the columns they implement
            checks["floor_equals_dbt_mart"] = compare(
                con, "bench.floor", mart, left_columns_only=True
            )
            if pandas_out.exists() and not self.stage("mart_pandas").get("skipped"):
                parquet = f"read_parquet('{pandas_out}')"
                checks["pandas_equals_dbt_mart"] = compare(
                    con, parquet, mart, left_columns_only=True
                )
        shutil.copyfile(self.db, self.built_as_of_end)
        for name, check in checks.items():
            if not check["equal"]:
                raise StageFailed(f"{name}: the results differ: {check}")

    def rebuild_as_of_end(self) -> None:
        """Yesterday's warehouse built by the code benchmarked now (untimed): the incremental
        section run on its own, after the models changed, must not start from another
        version's tables."""
        if not self.built_as_of_end.exists():
            raise StageFailed("no built database from an earlier run: run the mart section")
        remove_database(self.db)
        shutil.copyfile(self.built_as_of_end, self.db)
        target = self.work / "target" / "full"
        self.untimed(self.build(self.end_date, target, "--full-refresh"), self.env(self.db))
        shutil.copyfile(self.db, self.built_as_of_end)

    @property
    def built_as_of_end(self) -> Path:
        return self.db.with_name("warehouse_as_of_end.duckdb")

    def pandas_plan(self) -> str | None:
        """None to run pandas (under the memory guard), or why it is skipped at this scale."""
        if self.args.skip_pandas:
            return "--skip-pandas"
        estimates = []
        for path in self.out.glob("results_*.json"):
            earlier = json.loads(path.read_text())
            peak = earlier.get("stages", {}).get("mart_pandas", {}).get("peak_rss_mb")
            if peak and 1_000_000 <= earlier["events"] < self.events:
                estimates.append((earlier["events"], peak * 2**20 / earlier["events"]))
        if not estimates:
            return None
        events, per_event = max(estimates)
        estimate = per_event * self.events
        self.result["pandas_memory_estimate_gib"] = round(estimate / GIB, 1)
        if estimate > self.guard:
            return (
                f"would need ~{estimate / GIB:.0f} GiB (its peak per event at {events:,} "
                f"events, scaled linearly), above the {self.args.memory_guard_gib:g} GiB "
                f"guard on this {memory_total_bytes() / GIB:.0f} GiB machine"
            )
        return None

    def incremental(self) -> None:
        load = [str(BIN / "course-engagement"), "load"]
        usage = subprocess.run(
            [*load, "--help"], env=self.env(), capture_output=True, text=True, check=False
        )
        if "--append" not in usage.stdout:
            for name in ("new_day_file", "load_append", "dbt_incremental", "dbt_full_refresh"):
                self.skip(name, "`course-engagement load` has no --append yet")
            return
        if "mart" not in self.args.sections:
            self.rebuild_as_of_end()
        day_dir = self.work / "incremental"
        day_file = day_dir / f"raw_events_{self.next_date}.csv"
        day_dir.mkdir(parents=True, exist_ok=True)
        rows = max(100, self.events // 100)
        new_day = self.stages_command(
            "new-day", "--db", self.built_as_of_end, "--date", self.next_date, "--rows", rows,
            "--out", day_file,
        )  # fmt: skip
        self.measure("new_day_file", new_day, env=self.env(self.built_as_of_end))
        # The day file lives in its own data directory, as a daily drop would.
        env = self.env(self.db, COURSE_ENGAGEMENT_DATA_DIR=str(day_dir))
        full_target, next_target = self.work / "target" / "full", self.work / "target" / "next"
        checks = self.result["checks"].setdefault("incremental_equals_full_refresh", [])
        for _ in range(self.args.repeats):
            remove_database(self.db)
            shutil.copyfile(self.built_as_of_end, self.db)  # yesterday's warehouse, same path
            shutil.rmtree(next_target, ignore_errors=True)
            if full_target.exists():
                shutil.copytree(full_target, next_target)  # and yesterday's parse
            if not self.args.quick:
                parse = self.dbt("parse", self.next_date, next_target)
                self.measure("dbt_parse_new_date", parse, env=env)
            self.measure("load_append", [*load, "--append", str(day_file)], env=env)
            daily = self.daily_vars()
            if not self.args.quick:
                self.stage("dbt_incremental")["reads"] = self.raw_rows_read(
                    next_target, env, **daily
                )
            incremental = self.build(self.next_date, next_target, *FULL_HISTORY_EXCLUDED, **daily)
            if self.args.quick:
                # Smoke run: the full refresh builds a copy of the appended database alongside.
                refresh_db = self.db.with_name("refresh.duckdb")
                remove_database(refresh_db)
                shutil.copyfile(self.db, refresh_db)
                refresh_target = self.work / "target" / "refresh"
                refresh = self.build(self.next_date, refresh_target, "--full-refresh")
                background = Background(self, "dbt_full_refresh", refresh, env=self.env(refresh_db))
                self.measure("dbt_incremental", incremental, env=env)
                background.join()
                checks.append(compare_marts(self.db, "analytics", refresh_db))
                continue
            self.measure("dbt_incremental", incremental, env=env)
            with duckdb.connect(str(self.db)) as con:
                con.execute("CREATE SCHEMA IF NOT EXISTS incremental")
                for mart in DAILY_MARTS:
                    if table_exists(con, f"analytics.{mart}"):
                        con.execute(
                            f"CREATE OR REPLACE TABLE incremental.{mart} AS "
                            f"SELECT * FROM analytics.{mart}"
                        )
            refresh = self.build(self.next_date, next_target, "--full-refresh")
            self.measure("dbt_full_refresh", refresh, env=env)
            checks.append(compare_marts(self.db, "incremental"))
        differing = sorted({m for c in checks for m, r in c.items() if not r["equal"]})
        if differing:
            raise StageFailed(f"incremental and full-refresh marts differ: {differing}")
        if rows != SAME_DAY_ROWS and not self.args.quick:
            self.same_day(load, full_target)

    def same_day(self, load: list[str], full_target: Path) -> None:
        """The same day at every scale (SAME_DAY_ROWS), appended to yesterday's warehouse and
        built once, so the cost of one day can be compared as history grows."""
        day_dir = self.work / "same_day"
        day_file = day_dir / f"raw_events_{self.next_date}.csv"
        day_dir.mkdir(parents=True, exist_ok=True)
        new_day = self.stages_command(
            "new-day", "--db", self.built_as_of_end, "--date", self.next_date,
            "--rows", SAME_DAY_ROWS, "--out", day_file,
        )  # fmt: skip
        self.untimed(new_day, self.env(self.built_as_of_end))
        env = self.env(self.db, COURSE_ENGAGEMENT_DATA_DIR=str(day_dir))
        target = self.work / "target" / "same_day"
        remove_database(self.db)
        shutil.copyfile(self.built_as_of_end, self.db)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(full_target, target)
        self.untimed(self.dbt("parse", self.next_date, target), env)
        self.measure("load_append_same_day", [*load, "--append", str(day_file)], env=env)
        daily = self.daily_vars()
        build = self.build(self.next_date, target, *FULL_HISTORY_EXCLUDED, **daily)
        self.measure("dbt_incremental_same_day", build, env=env)

    def dag(self) -> None:
        dag_dir = self.work / "dag"
        shutil.rmtree(dag_dir, ignore_errors=True)
        sample = self.root / "data"
        ds = json.loads((sample / "manifest.json").read_text())["end_date"]
        env = self.env(
            dag_dir / "warehouse.duckdb",
            COURSE_ENGAGEMENT_OUTPUT_DIR=str(dag_dir / "output"),
            COURSE_ENGAGEMENT_DATA_DIR=str(sample),
            AIRFLOW_HOME=str(dag_dir / "airflow"),
        )
        command = [str(BIN / "course-engagement"), "run"]
        log = dag_dir / "output" / "logs" / f"airflow_dags_test_{ds}.log"
        runs = [("dag_cold", env)] + [("dag", env)] * self.args.repeats
        if not self.args.quick:
            # As this shell runs it: no bytecode written or read (PYTHONDONTWRITEBYTECODE and
            # a .venv without .pyc files), so every process compiles what it imports.
            bare = env | {"PYTHONDONTWRITEBYTECODE": "1"}
            bare.pop("PYTHONPYCACHEPREFIX")
            runs.append(("dag_without_bytecode_cache", bare))
        for name, run_env in runs:
            started = time.time()
            run = self.measure(name, command, env=run_env)
            run["breakdown"] = dag_breakdown(log.read_text(), started, run["wall_s"])
            run["dbt_parse_s"] = dbt_parse_times(dag_dir / "output" / "dbt_runs")
            shutil.rmtree(dag_dir / "output" / "dbt_runs", ignore_errors=True)
            summarise(self.stage(name))
        self.result["stages"]["dag"]["sample"] = "data/ (the committed sample)"


class Background(threading.Thread):
    """One measured stage in a thread, for --quick smoke runs; join() re-raises its failure."""

    def __init__(self, benchmark: Benchmark, name: str, command: list[str], **kwargs: Any):
        super().__init__(name=name, daemon=True)
        self.call = lambda: benchmark.measure(name, command, **kwargs)
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.call()
        except BaseException as error:  # handed to the caller by join()
            self.error = error

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self.error is not None:
            raise self.error


# --------------------------------------------------------------------------- analysis


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
    right_columns = con.execute(f"DESCRIBE SELECT * FROM {right}").fetchall()
    names = [c[0] for c in right_columns]
    extra = {}
    if left_columns_only and set(left_columns) <= set(names):
        extra = {"not_compared": [n for n in names if n not in left_columns]}
        right_columns = [c for c in right_columns if c[0] in left_columns]
        names = [c[0] for c in right_columns]
    if sorted(left_columns) != sorted(names):
        return {"equal": False, "columns": {"left": left_columns, "right": names}}
    columns = right_columns
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
    s = result["stages"]
    events = result["events"]
    ratios: dict[str, Any] = {}
    targets: dict[str, Any] = {}

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    floor_load, loader = _wall(s, "load_floor"), _wall(s, "load_loader")
    if floor_load and loader:
        ratios["load_floor_events_per_s"] = round(events / floor_load)
        ratios["load_loader_events_per_s"] = round(events / loader)
        ratios["loader_throughput_vs_floor"] = ratio(floor_load, loader)
        targets["loader >= 0.8x floor throughput"] = {
            "value": ratios["loader_throughput_vs_floor"],
            "met": ratios["loader_throughput_vs_floor"] >= 0.8,
        }
    floor = _wall(s, "mart_floor", "query_s")
    full, noop = _wall(s, "dbt_full"), _wall(s, "dbt_noop")
    if full is not None and noop is not None:
        ratios["dbt_marginal_s"] = round(full - noop, 3)
    if floor:
        ratios["dbt_full_wall_vs_floor"] = ratio(full, floor)
        ratios["dbt_marginal_vs_floor"] = ratio(ratios.get("dbt_marginal_s"), floor)
        ratios["legacy_vs_floor"] = ratio(_wall(s, "mart_legacy", "query_s"), floor)
        ratios["pandas_vs_floor"] = ratio(_wall(s, "mart_pandas"), floor)
        if ratios["dbt_marginal_vs_floor"] is not None:
            targets["dbt marginal compute <= 3x floor (10M, 100M)"] = {
                "value": ratios["dbt_marginal_vs_floor"],
                "met": ratios["dbt_marginal_vs_floor"] <= 3,
                "applies": events >= 10_000_000,
            }
    inc, refresh = _wall(s, "dbt_incremental"), _wall(s, "dbt_full_refresh")
    append = _wall(s, "load_append")
    if inc is not None and refresh is not None and noop is not None:
        ratios["incremental_marginal_s"] = round(inc - noop, 3)
        ratios["full_refresh_marginal_s"] = round(refresh - noop, 3)
        ratios["incremental_vs_full_refresh_marginal"] = ratio(
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
            ratios["daily_step_wall_vs_legacy"] = ratio(append + inc, legacy)
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


PIPELINE_STAGES = ("load_loader", "dbt_full", "check", "export", "load_append", "dbt_incremental")


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


# --------------------------------------------------------------------------- CLI


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, required=True, help="events to generate")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH_DIR,
        help="where results_<events>.json and RESULTS.md go (default: %(default)s)",
    )
    parser.add_argument("--work", type=Path, help="scratch folder (default: <out>/work/<events>)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument(
        "--sections",
        type=lambda text: [part for part in text.split(",") if part],
        default=list(SECTIONS),
        help="comma-separated subset of " + ",".join(SECTIONS) + " to run; the others keep "
        "the results of the earlier run in --out, and each section records its commit",
    )
    parser.add_argument(
        "--source",
        choices=("head", "working-tree"),
        default="head",
        help="benchmark the committed HEAD (a git archive under --work, so colleagues' edits "
        "in progress cannot change a long run half-way; the default) or the working tree",
    )
    parser.add_argument("--skip-dag", action="store_true", help="no DAG run on the sample")
    parser.add_argument("--skip-pandas", action="store_true", help="no pandas comparison")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: no dbt warm-up parse, no start-up-only or re-parse "
        "figures, no run without bytecode cache",
    )
    parser.add_argument(
        "--mart-only",
        action="store_true",
        help="timed dbt builds select only the models behind the marts the gate reads, no tests "
        "(a fast smoke run; never for reported figures)",
    )
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep generated files of the same scale from an earlier run",
    )
    parser.add_argument(
        "--memory-guard-gib",
        type=float,
        default=20.0,
        help="kill a stage whose process tree passes this (default: %(default)s)",
    )
    parser.add_argument("--stage-timeout-min", type=float, default=180.0)
    parser.add_argument(
        "--pycache",
        type=Path,
        default=BENCH_DIR / "work" / "pycache",
        help="bytecode cache of the child processes (PYTHONPYCACHEPREFIX)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    args.sections = [section for section in SECTIONS if section in args.sections]
    args.out = args.out.resolve()
    args.pycache = args.pycache.resolve()
    if args.work:
        args.work = args.work.resolve()
    if args.events < 10_000:
        parser.error("--events must be at least 10000 (the generator plants defects per class)")
    return args


def main(argv: list[str] | None = None) -> int:
    benchmark = Benchmark(parse_args(argv))
    benchmark.run()
    return 0 if benchmark.result["complete"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
