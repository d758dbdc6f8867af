"""docs/RELIABILITY.md stays true: every case has a row, and every test it names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from course_engagement.settings import REPO_ROOT

REGISTER = REPO_ROOT / "docs" / "RELIABILITY.md"
HERE = Path(__file__).parent


def _rows() -> dict[int, str]:
    rows = {}
    for line in REGISTER.read_text().splitlines():
        match = re.match(r"\| (\d+) \|", line)
        if match:
            rows[int(match.group(1))] = line
    return rows


def _references(row: str) -> list[tuple[Path, str]]:
    """`file::test` references in a row; `::test` continues the previous file."""
    found, current = [], None
    for token in re.findall(r"`([^`]*::[^`]*)`", row):
        path, _, name = token.partition("::")
        if path:
            current = REPO_ROOT / path if path.startswith("tests/") else HERE / path
        found.append((current, name))
    return found


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def _test_files(row: str) -> list[Path]:
    """Whole test files a row names (`test_backfill.py`: every test in it)."""
    return [HERE / name for name in re.findall(r"`(test_\w+\.py)`", row)]


def test_every_case_of_the_issue_has_a_row_naming_a_test() -> None:
    rows = _rows()
    assert sorted(rows) == list(range(1, len(rows) + 1))  # numbered 1, 2, ... without a gap
    assert len(rows) >= 23
    for number, row in rows.items():
        assert _references(row) or _test_files(row), f"row {number} names no test"
    for path in (path for row in rows.values() for path in _test_files(row)):
        assert len({n for n in _test_names(path) if n.startswith("test_")}) >= 4, path


def test_every_test_the_register_names_exists() -> None:
    missing = [
        f"{path.relative_to(REPO_ROOT)}::{name}"
        for row in _rows().values()
        for path, name in _references(row)
        if not path.exists() or name not in _test_names(path)
    ]
    assert missing == []
