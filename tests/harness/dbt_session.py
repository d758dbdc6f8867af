"""Run several dbt commands on one database in one process, parsing the project once.

Usage: python dbt_session.py '{"common": [...], "commands": [[...], ...]}'
`common` (project/profiles/target/log paths, vars) is appended to every command.

Why: starting dbt costs seconds of imports, a full parse costs seconds more, and a new
database path invalidates dbt's partial parse, so every fresh test database would pay both
for every command. One child process per database keeps a subprocess's isolation (dbt-duckdb
holds its connection in process-wide state) while paying start-up and parse once: `dbt parse`
runs first and its manifest is handed to every command (dbtRunner(manifest=...)).

Prints one JSON line per command - {"args", "success", "error", "results"} - and exits 1 at
the first command that fails.
"""

from __future__ import annotations

import json
import sys

from dbt.cli.main import dbtRunner


def _results(result: object) -> list[dict[str, object]]:
    nodes = getattr(result, "results", None) or []
    return [
        {
            "unique_id": node.node.unique_id,
            "status": str(node.status),
            "message": node.message,
            "failures": node.failures,
        }
        for node in nodes
    ]


def _report(args: list[str], success: bool, error: object, results: list) -> None:
    line = {
        "args": args,
        "success": success,
        "error": None if error is None else repr(error),
        "results": results,
    }
    print(json.dumps(line), flush=True)


def main(common: list[str], commands: list[list[str]]) -> int:
    parsed = dbtRunner().invoke(["parse", *common])
    _report(["parse"], parsed.success, parsed.exception, [])
    if not parsed.success:
        return 1
    runner = dbtRunner(manifest=parsed.result)
    for command in commands:
        outcome = runner.invoke([*command, *common])
        _report(command, outcome.success, outcome.exception, _results(outcome.result))
        if not outcome.success:
            return 1
    return 0


if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    raise SystemExit(main(request["common"], request["commands"]))
