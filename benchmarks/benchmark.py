"""One benchmark run at one scale (`run.py` starts it): where it works, how it measures and
records each stage, and the commands its sections (`sections.py`) run."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import measure
import report
from machine import (
    StageFailed,
    git_state,
    last_json_line,
    load_average,
    memory_total_bytes,
    snapshot,
    versions,
)
from plan import (
    BENCH_DIR,
    BIN,
    GATED_MARTS,
    GIB,
    SCALING_RULE,
    SECTION_CHECKS,
    SECTION_STAGES,
    SECTIONS,
    scale,
)
from results import dbt_nodes, ratios_and_targets, slowest, summarise
from sections import BenchmarkSections

from course_engagement.orchestration.dbt_runner import DAILY_EXCLUDED
from course_engagement.orchestration.scan_profile import build_reads
from course_engagement.settings import REPO_ROOT, Settings, duckdb_config
from course_engagement.warehouse import newest_processed_load_batch


class Benchmark(BenchmarkSections):
    """One benchmark run at one scale: where it works, how it measures and records each stage,
    and the commands its sections run."""

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
        """`dbt build` of every node, or only of the models (and the seeds they read) behind the
        marts the gate reads (--mart-only)."""
        if self.args.mart_only:
            selected = (f"+{mart}" for mart in GATED_MARTS)
            extra += ("--select", *selected, "--resource-type", "model", "--resource-type", "seed")
        return self.dbt("build", as_of, target, *extra, **run_vars)

    def daily_vars(self) -> dict[str, int]:
        """As the DAG passes them (dbt_runner.run_vars): data tests check the new batches."""
        with duckdb.connect(str(self.db), read_only=True) as con:
            return {"data_tests_from_load_batch": newest_processed_load_batch(con) + 1}

    def raw_rows_read(self, target: Path, env: dict[str, str], **run_vars: Any) -> dict:
        """Untimed: the raw event rows the next daily build reads, from DuckDB's profiler on
        its compiled SQL (orchestration.scan_profile), beside the rows appended."""
        probe = target.with_name(target.name + "_probe")
        shutil.rmtree(probe, ignore_errors=True)
        if target.exists():
            shutil.copytree(target, probe)
        compile_ = self.dbt("compile", self.next_date, probe, *DAILY_EXCLUDED, **run_vars)
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
