"""`course-engagement`: one entry point whose subcommands dispatch to the package's modules.

Each subcommand module owns its own argument parser (`main(argv)`), so `scripts/init_db.py`,
the DAG and this CLI all share one implementation. Modules are imported lazily: `--help` and
`generate` must not pay for importing Airflow or dbt.
"""

from __future__ import annotations

import importlib
import sys

from course_engagement.settings import SettingsError

COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("course_engagement.synthetic.generate:main", "write seeded synthetic raw exports"),
    "load": (
        "course_engagement.ingest.load_cli:main",
        "load raw_*.csv|parquet into DuckDB's raw schema",
    ),
    "run": (
        "course_engagement.orchestration.local_airflow:run",
        "run the whole Airflow DAG once for a date",
    ),
    "airflow-ui": (
        "course_engagement.orchestration.local_airflow:airflow_ui",
        "start Airflow's web UI on this project",
    ),
    "reconcile": (
        "course_engagement.legacy.command:main",
        "compare the legacy query with the mart",
    ),
    "docs": ("course_engagement.docs:main", "generate dbt's docs site and serve it on localhost"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: course-engagement <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "Run `course-engagement <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print(_usage())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, function = COMMANDS[command][0].split(":")
    entry = getattr(importlib.import_module(module_name), function)
    # argparse names the program after sys.argv[0], so every subcommand's usage line says
    # `course-engagement <command>` without naming itself (scripts/init_db.py stays init_db.py)
    program, sys.argv[0] = sys.argv[0], f"course-engagement {command}"
    try:
        return entry(rest)
    except SettingsError as error:  # a bad variable: one line, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        sys.argv[0] = program


if __name__ == "__main__":
    raise SystemExit(main())
