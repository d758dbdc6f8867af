"""House rules for the Python side, as tests: names that never collide, modules and functions
a reader can hold in their head.

A newcomer finds a file by its name; two files with one name (the DAG file and its task bodies
were both `pipeline.py`) send them to the wrong one. A module past ~400 lines usually does two
jobs, a function past ~60 lines usually does several steps that want names.
"""

from __future__ import annotations

import ast
import subprocess
from collections import defaultdict
from pathlib import Path

from course_engagement.settings import REPO_ROOT

CODE_FOLDERS = ("src", "tests", "3-airflow", "scripts", "benchmarks")
# names Python and pytest give a role, so one per folder is the point
SHARED_BY_DESIGN = {"__init__.py", "conftest.py"}
PACKAGE = REPO_ROOT / "src" / "course_engagement"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# Folders or modules the limits skip; none today.
NOT_YET_LIMITED: set[Path] = set()
# Functions whose length is data (a literal table), not steps; none today.
DATA_FUNCTIONS: set[str] = set()


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


def oversized(path: Path) -> list[str]:
    """The module if it is over MAX_MODULE_LINES, and each function over MAX_FUNCTION_LINES."""
    text = path.read_text()
    found = []
    if len(text.splitlines()) > MAX_MODULE_LINES:
        found.append(f"{path.name}: {len(text.splitlines())} lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and node.name not in DATA_FUNCTIONS:
                found.append(f"{path.name}:{node.lineno} {node.name}(): {length} lines")
    return found


def test_oversized_finds_a_long_module_and_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x = {i}" for i in range(60))
    module = tmp_path / "long.py"
    module.write_text(f"def steps():\n{body}\n" + "\n" * 340)
    assert oversized(module) == ["long.py: 401 lines", "long.py:1 steps(): 61 lines"]


def test_no_module_or_function_in_the_package_or_the_benchmarks_is_oversized() -> None:
    code = [*PACKAGE.rglob("*.py"), *(REPO_ROOT / "benchmarks").glob("*.py")]
    modules = [
        path
        for path in sorted(code)
        if not any(path == skip or skip in path.parents for skip in NOT_YET_LIMITED)
    ]
    assert len(modules) > 30
    assert [problem for path in modules for problem in oversized(path)] == []
