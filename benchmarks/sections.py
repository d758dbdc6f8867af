"""The benchmark's sections: generate, load, mart, incremental and dag, each a series of measured
stages. Mixed into `run.Benchmark`, whose recording (`measure`, `skip`) and command helpers
(`dbt`, `build`, `stages_command`) they use."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
from machine import StageFailed, memory_total_bytes
from plan import (
    BENCH_DIR,
    BIN,
    DAILY_MARTS,
    FLOOR_SQL,
    GIB,
    NOTHING,
    SAME_DAY_ROWS,
)
from results import (
    compare,
    compare_marts,
    dag_breakdown,
    dbt_parse_times,
    remove_database,
    summarise,
)

from course_engagement.orchestration.dbt_runner import DAILY_EXCLUDED
from course_engagement.warehouse import table_exists


class BenchmarkSections:
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
        self.compare_with_dbt_mart(pandas_out)

    def compare_with_dbt_mart(self, pandas_out: Path) -> None:
        """The floor's and pandas' marts must equal dbt's; the built warehouse is kept."""
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
            incremental = self.build(self.next_date, next_target, *DAILY_EXCLUDED, **daily)
            checks.append(self.increment_and_refresh(incremental, next_target, env))
        differing = sorted({m for c in checks for m, r in c.items() if not r["equal"]})
        if differing:
            raise StageFailed(f"incremental and full-refresh marts differ: {differing}")
        if rows != SAME_DAY_ROWS and not self.args.quick:
            self.same_day(load, full_target)

    def increment_and_refresh(
        self, incremental: list[str], target: Path, env: dict[str, str]
    ) -> dict[str, Any]:
        """The incremental build, then a full refresh of the same data; their marts compared."""
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
            return compare_marts(self.db, "analytics", refresh_db)
        self.measure("dbt_incremental", incremental, env=env)
        with duckdb.connect(str(self.db)) as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS incremental")
            for mart in DAILY_MARTS:
                if table_exists(con, f"analytics.{mart}"):
                    con.execute(
                        f"CREATE OR REPLACE TABLE incremental.{mart} AS "
                        f"SELECT * FROM analytics.{mart}"
                    )
        refresh = self.build(self.next_date, target, "--full-refresh")
        self.measure("dbt_full_refresh", refresh, env=env)
        return compare_marts(self.db, "incremental")

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
        build = self.build(self.next_date, target, *DAILY_EXCLUDED, **daily)
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

    def __init__(self, benchmark: BenchmarkSections, name: str, command: list[str], **kwargs: Any):
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
