"""House rules for the Python side, as tests: names that never collide.

A newcomer finds a file by its name; two files with one name (the DAG file and its task bodies
were both `pipeline.py`) send them to the wrong one.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict

from course_engagement.settings import REPO_ROOT

CODE_FOLDERS = ("src", "tests", "3-airflow", "scripts", "benchmarks")
# names Python and pytest give a role, so one per folder is the point
SHARED_BY_DESIGN = {"__init__.py", "conftest.py"}


def _tracked(*folders: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *folders],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in listed.stdout.splitlines() if (REPO_ROOT / line).is_file()]


def duplicate_basenames(paths: list[str]) -> dict[str, list[str]]:
    """Every file name used by more than one path, except the names shared by design."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        name = path.rsplit("/", 1)[-1]
        if name not in SHARED_BY_DESIGN:
            by_name[name].append(path)
    return {name: sorted(found) for name, found in by_name.items() if len(found) > 1}


def test_duplicate_basenames_are_found_and_init_files_are_not() -> None:
    paths = ["src/a/run.py", "benchmarks/run.py", "src/a/__init__.py", "tests/__init__.py"]
    assert duplicate_basenames(paths) == {"run.py": ["benchmarks/run.py", "src/a/run.py"]}


def test_no_two_code_files_share_a_name() -> None:
    paths = _tracked(*CODE_FOLDERS)
    assert len(paths) > 50  # the listing found the repo's files
    assert duplicate_basenames(paths) == {}
