"""Which events files raw.events holds, and what a full load of a folder would do to them.

A full load rebuilds raw.events from the data folder. Two ways it could count or lose events
without a word: the folder holds one file's content twice (a day file identical to
`raw_events.csv`, or one day under two names), or raw.events holds a file the folder no longer
has (typically a day appended from elsewhere). Both are refused here before anything is loaded;
a file dropped knowingly (`--drop-missing-day-files`) is reported as a `DroppedFile`.

A loaded file is still "in the folder" when the folder has a file of its name (a corrected
file replaces it, as documented) or of its content (a renamed copy).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from course_engagement.sql_files import sql_file

DROP_MISSING_FLAG = "--drop-missing-day-files"


@dataclass(frozen=True)
class LoadedFile:
    """An events file raw.events holds now, as its last audit row describes it."""

    file_name: str
    sha256: str
    loaded_rows: int
    loaded_at: datetime
    source_path: str | None  # None: loaded before raw.load_audit kept source paths

    def describe(self) -> str:
        where = self.source_path or "a path not recorded (loaded before source paths were kept)"
        return (
            f"{self.file_name} ({_rows(self.loaded_rows)}, sha256 {self.sha256}, loaded from "
            f"{where} at {self.loaded_at:%Y-%m-%d %H:%M:%S} UTC)"
        )


@dataclass(frozen=True)
class DroppedFile:
    """An events file a full load dropped from raw.events because the folder lacks it."""

    file: LoadedFile

    def summary(self) -> str:
        return (
            f"{self.file.file_name}: dropped from raw.events ({_rows(self.file.loaded_rows)}, "
            f"sha256 {self.file.sha256}, loaded from {self.file.source_path or 'an unknown path'})"
            f"; not in the data directory, {DROP_MISSING_FLAG} given"
        )


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def loaded_files(con: duckdb.DuckDBPyConnection) -> list[LoadedFile]:
    """Every events file in raw.events now, in batch order, with its latest audit row."""
    return [
        LoadedFile(*row)
        for row in con.execute(sql_file(__file__, "loaded_event_files.sql")).fetchall()
    ]


def duplicate_content(paths: Sequence[Path], sha256_of: Callable[[Path], str]) -> str | None:
    """Why a folder whose events files hold the same content under two names is refused.

    Only files of equal size are hashed here, so a large history rarely waits for its hash.
    """
    by_size: dict[int, list[Path]] = {}
    for path in paths:
        by_size.setdefault(path.stat().st_size, []).append(path)
    by_sha: dict[str, list[Path]] = {}
    for same_size in by_size.values():
        if len(same_size) > 1:
            for path in same_size:
                by_sha.setdefault(sha256_of(path), []).append(path)
    copies = [group for group in by_sha.values() if len(group) > 1]
    if not copies:
        return None
    named = "; ".join(
        " and ".join(path.name for path in group) + f" (sha256 {sha256_of(group[0])})"
        for group in copies
    )
    return (
        f"{paths[0].parent} holds the same events twice: {named} are identical, so a full "
        "load would count their rows twice. Keep one of each and remove the other copies "
        "from the data directory"
    )


def missing_from_folder(
    loaded: Sequence[LoadedFile], paths: Sequence[Path], sha256_of: Callable[[Path], str]
) -> list[LoadedFile]:
    """The loaded files the folder has neither by name nor by content."""
    names = {path.name for path in paths}
    unnamed = [file for file in loaded if file.file_name not in names]
    if not unnamed:
        return []
    shas = {sha256_of(path) for path in paths}
    return [file for file in unnamed if file.sha256 not in shas]


def refusal(missing: Sequence[LoadedFile], data_dir: Path) -> str:
    """What to tell someone whose full load would drop `missing` from raw.events."""
    copies = " && ".join(
        f"cp {file.source_path} {data_dir}/" for file in missing if file.source_path
    )
    keep = f" ({copies})" if copies else ""
    return (
        f"raw.events holds events file(s) that are not in the data directory {data_dir}: "
        + "; ".join(file.describe() for file in missing)
        + ". A full load rebuilds raw.events from that folder and would drop their rows. "
        f"Copy them into the folder{keep} and load again, or, to drop them knowingly, run "
        f"course-engagement load {DROP_MISSING_FLAG}"
    )
