"""Filesystem checks made before DuckDB opens anything, and literal paths for DuckDB readers."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

_GLOB_CHARACTER = re.compile(r"([\[\]*?])")


def literal_pattern(path: Path) -> str:
    """`path` as a DuckDB file pattern matching only itself (`[`, `]`, `*`, `?` in brackets).

    DuckDB's read_csv/read_parquet treat those characters as a glob even in a folder name, and
    would read a sibling folder's file (`d[12]` matches `d1`).
    """
    return _GLOB_CHARACTER.sub(r"[\1]", str(path))


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be written in `folder` (created if missing), or None when they can."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder; move it away or choose another folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write_probe_{os.getpid()}_{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        return (
            f"cannot write in folder {folder} ({error.strerror}); give this user write access "
            "to it or choose another folder"
        )
    return None
