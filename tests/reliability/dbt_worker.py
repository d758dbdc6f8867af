"""A long-lived dbt process for the reliability tests: import dbt and parse the project once.

Usage: python dbt_worker.py PARSE_DIR, then one JSON request per line on stdin:
    {"args": ["build", "--select", ...], "db": "/tmp/.../warehouse.duckdb"}
and one JSON reply per line on the original stdout:
    {"success": bool, "exception": str | null, "results": [...], "output": "..."}

Why: starting dbt costs seconds of imports and parsing this project seconds more, per process;
a reliability test that needs eight builds would spend most of its budget starting dbt. The
worker keeps a subprocess's isolation (dbt-duckdb holds its DuckDB handle in process-wide
state, which must never enter pytest's process) and, after every command, closes that handle
so the database file is free for the next reader or writer. The project is parsed once per
database file name (dbt renders the file's stem into every relation, so all test databases are
named warehouse.duckdb); vars are passed per command and rendered when the command compiles.
What it does not cover - a real `dbt` process started, killed or locked out - is tested with
real processes (orchestration.dbt_runner) in test_faults.py. It writes no dbt.log (a
quarter of a small build's time goes into that debug log); the output the tests read is
collected from dbt's events instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2] / "2-dbt_project"
COMMON = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
NO_FILE_LOG = ["--log-level-file", "none"]


def main() -> int:
    # The protocol owns the original stdout; anything dbt prints goes to stderr.
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    manifests: dict[str, object] = {}
    # Shared by every worker of a test run (pytest-xdist starts one per process): the first
    # parse leaves partial_parse.msgpack there, and later ones only read it. The parse sees a
    # fixed database path, because dbt reparses everything when the profile changes.
    parse_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())

    def parse(stem: str) -> object:
        started = time.monotonic()
        parse_dir.mkdir(parents=True, exist_ok=True)
        with (parse_dir / f"{stem}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            os.environ["COURSE_ENGAGEMENT_DB"] = str(parse_dir / f"{stem}.duckdb")
            parsed = dbtRunner().invoke(
                [
                    "parse",
                    *COMMON,
                    "--target-path",
                    str(parse_dir / stem / "target"),
                    "--log-path",
                    str(parse_dir / stem / "logs"),
                    "--quiet",
                ]
            )
        if not parsed.success:
            raise RuntimeError(f"dbt parse failed: {parsed.exception}")
        print(f"dbt_worker: parsed for {stem} in {time.monotonic() - started:.1f}s", flush=True)
        return parsed.result

    def release_database() -> None:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
            DuckDBConnectionManager._ENV = None

    for line in sys.stdin:
        request = json.loads(line)
        stem = Path(request["db"]).stem
        started = time.monotonic()
        output: list[str] = []

        def collect(event, output=output) -> None:
            if event.info.level in {"info", "warn", "error"} and event.info.msg:
                output.append(str(event.info.msg))

        try:
            if stem not in manifests:
                manifests[stem] = parse(stem)
            os.environ["COURSE_ENGAGEMENT_DB"] = request["db"]
            outcome = dbtRunner(manifest=manifests[stem], callbacks=[collect]).invoke(
                [*request["args"], *COMMON, *NO_FILE_LOG]
            )
            nodes = getattr(outcome.result, "results", None) or []
            reply = {
                "success": outcome.success,
                "exception": None if outcome.exception is None else repr(outcome.exception),
                "results": [
                    {
                        "unique_id": node.node.unique_id,
                        "status": str(node.status),
                        "message": node.message,
                        "failures": node.failures,
                    }
                    for node in nodes
                ],
            }
        except Exception as error:  # the worker must answer, whatever dbt did
            reply = {"success": False, "exception": repr(error), "results": []}
        finally:
            release_database()
        reply["output"] = "\n".join(output)
        print(f"dbt_worker: {request['args'][:3]} in {time.monotonic() - started:.1f}s", flush=True)
        replies.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
