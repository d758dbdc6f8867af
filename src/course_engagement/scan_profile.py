"""How many rows of a table a dbt build reads, counted by DuckDB's own profiler.

A daily build must read the day's raw events, not history. This replays the compiled SQL of
every model and data test of a build (`dbt compile` with the same vars and the same database
state, so the incremental models' batch selection is the one the build will use) under
DuckDB's profiler and adds up `rows_scanned` of every scan of the table. Row groups that the
batch filter skips from their statistics are not scanned and not counted.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import duckdb


def rows_scanned(db_path: Path, sql: str, table: str) -> int:
    """Rows of `table` (schema.name) that DuckDB scans to run `sql` (a query) on `db_path`."""
    with (
        tempfile.TemporaryDirectory() as folder,
        duckdb.connect(str(db_path), read_only=True) as con,
    ):
        # where the profile goes first, or DuckDB prints the next statement's profile; a .txt
        # name is accepted whatever the format
        output = Path(folder) / "profile.txt"
        con.execute(f"SET profiling_output = '{output}'")
        con.execute("SET enable_profiling = 'json'")
        con.execute("SET profiling_coverage = 'ALL'")
        con.execute("SET profiling_mode = 'detailed'")  # rows_scanned per scan
        con.execute(f"CREATE TEMP TABLE _scan_profile_probe AS {sql}")
        profile = json.loads(output.read_text())
    return sum(_scans(profile.get("operator", []), table))


def _scans(operators: list[dict], table: str):
    for operator in operators:
        info = operator.get("extra_info") or {}
        if operator.get("type") == "TABLE_SCAN" and str(info.get("Table", "")).endswith(
            "." + table
        ):
            yield int(operator.get("rows_scanned", 0))
        yield from _scans(operator.get("children", []), table)


def build_reads(manifest: Path, db_path: Path, table: str = "raw.events") -> dict[str, int]:
    """Rows of `table` each compiled model and data test of a `dbt compile` reads.

    `manifest`: the compile's target/manifest.json. Nodes that do not read the table are left
    out; views are left out too (their SQL runs inside the nodes that read them).
    """
    nodes = json.loads(manifest.read_text())["nodes"].values()
    reads = {}
    for node in nodes:
        code = node.get("compiled_code")
        if not code or node["resource_type"] not in ("model", "test"):
            continue
        if node["resource_type"] == "model" and node["config"]["materialized"] == "view":
            continue
        rows = rows_scanned(db_path, code, table)
        if rows:
            reads[node["unique_id"]] = rows
    return reads
