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


def build_reads(manifest: Path, db_path: Path, source: str = "raw.events") -> dict[str, int]:
    """Rows of the source table each compiled model and data test of a `dbt compile` reads.

    `manifest`: the compile's target/manifest.json. Only the nodes that depend on the source,
    directly or through views, are replayed; views themselves are not (their SQL runs inside
    the nodes that read them). Nodes that read no row are left out.
    """
    nodes = json.loads(manifest.read_text())["nodes"]
    readers = _readers(nodes, source)
    reads = {}
    for unique_id in sorted(readers):
        node = nodes[unique_id]
        code = node.get("compiled_code")
        if not code or node["resource_type"] not in ("model", "test"):
            continue
        if node["resource_type"] == "model" and node["config"]["materialized"] == "view":
            continue
        rows = rows_scanned(db_path, code, source)
        if rows:
            reads[unique_id] = rows
    return reads


def _readers(nodes: dict[str, dict], source: str) -> set[str]:
    """The nodes that read `source` (schema.name) directly or through views."""
    schema, name = source.split(".")
    reading = {f"source.{schema}.{name}"}

    def reads(unique_id: str) -> bool:
        parents = nodes[unique_id]["depends_on"].get("nodes", [])  # a seed has none
        return any(
            (parent.startswith("source.") and parent.endswith(f".{schema}.{name}"))
            or (
                parent in nodes
                and nodes[parent]["config"].get("materialized") == "view"
                and reads(parent)
            )
            for parent in parents
        )

    return {unique_id for unique_id in nodes if reads(unique_id)} - reading
