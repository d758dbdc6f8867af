"""`course-engagement docs`: dbt's docs site for the current database, served on localhost.

`dbt docs generate` reads the project (models, columns, metric doc blocks, tests, exposures,
lineage) and the database's catalogue, into `output/docs/target`. Then either:

- the site is served from that folder on http://127.0.0.1:<port>/ until Ctrl-C. Served here
  rather than by `dbt docs serve`, which changes the working directory, cannot pick a free port
  (`--port 0`) and print it, and binds whatever `--host` says; this binds 127.0.0.1 only;
- or, with `--static`, dbt's single-file page (`target/static_index.html`, everything inlined)
  is copied to `output/docs/course_engagement_dbt_docs.html` and its path printed.

The site loads nothing from outside the server: dbt's page loads its tracker script from the
internet only when the manifest says `send_anonymous_usage_stats`, which the project and this
command turn off (tests/test_docs_browser.py checks it in a browser).
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import subprocess
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from course_engagement.orchestration.dbt_runner import dbt_executable
from course_engagement.settings import Settings

HOST = "127.0.0.1"
DEFAULT_PORT = 8080
STATIC_NAME = "course_engagement_dbt_docs.html"


def docs_dir(settings: Settings) -> Path:
    return settings.output_dir / "docs"


def generate(settings: Settings, *, static: bool) -> Path:
    """Run `dbt docs generate` on the configured database; return its target folder."""
    if not settings.db_path.exists():
        raise SystemExit(
            f"error: no database at {settings.db_path}: build it first with "
            "`uv run course-engagement run` (or set COURSE_ENGAGEMENT_DB)"
        )
    target = docs_dir(settings) / "target"
    command = [
        dbt_executable(),
        "docs",
        "generate",
        *(["--static"] if static else []),
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target-path",
        str(target),
        "--log-path",
        str(docs_dir(settings) / "logs"),
    ]
    print(f"generating dbt docs for {settings.db_path} ...", flush=True)
    completed = subprocess.run(
        command,
        # the docs page loads dbt's tracker from the internet when the manifest says so
        env=os.environ | settings.dbt_env() | {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        cwd=settings.repo_root,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        tail = "\n".join(completed.stdout.splitlines()[-30:])
        raise SystemExit(
            f"{tail}\n\nerror: `dbt docs generate` failed (exit {completed.returncode}); if the "
            "database is locked, wait for the running DAG or close the notebook holding it"
        )
    return target


def publish_static(target: Path, settings: Settings) -> Path:
    """Copy dbt's single-file docs page out of the target folder, atomically."""
    final = docs_dir(settings) / STATIC_NAME
    partial = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.copyfile(target / "static_index.html", partial)
    partial.replace(final)
    return final


def server(target: Path, port: int, host: str = HOST) -> ThreadingHTTPServer:
    """An HTTP server of the docs folder (not started); port 0 picks a free one."""
    handler = functools.partial(QuietHandler, directory=str(target))
    return ThreadingHTTPServer((host, port), handler)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        """One line per request would bury the URL; errors are still printed."""


def url(httpd: ThreadingHTTPServer) -> str:
    host, port = httpd.server_address[:2]
    return f"http://{host}:{port}/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate dbt's docs for the current database and serve them on localhost."
    )
    parser.add_argument(
        "--static",
        action="store_true",
        help="write dbt's single-file page to output/docs/ instead of serving",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on {HOST} (default {DEFAULT_PORT}; 0 = any free port)",
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    target = generate(settings, static=args.static)
    if args.static:
        print(f"dbt docs (one self-contained file): {publish_static(target, settings)}")
        return 0
    try:
        httpd = server(target, args.port)
    except OSError as error:
        problem = f"error: cannot listen on {HOST}:{args.port} ({error}); try --port 0"
        raise SystemExit(problem) from None
    with httpd:
        print(f"dbt docs: {url(httpd)} (serving {target}; Ctrl-C stops it)", flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0
