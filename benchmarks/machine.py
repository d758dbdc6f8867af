"""The machine and the code a benchmark runs on (cores, memory, versions, git state, load), and
small helpers every part of it uses."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from course_engagement.settings import REPO_ROOT


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
