"""One load, one DuckDB transaction: committed when the block ends, rolled back on any error, so
a failed load leaves the database exactly as it was (a file it created is removed again)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from course_engagement.ingest.load_error import LoadError
from course_engagement.paths import folder_problem
from course_engagement.settings import Settings, duckdb_config
from course_engagement.sql_files import sql_file
from course_engagement.warehouse import is_lock_conflict


def _connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    problem = folder_problem(db_path.parent)
    if problem:
        raise LoadError(f"cannot create database {db_path}: {problem}")
    try:
        return duckdb.connect(str(db_path), config=duckdb_config(Settings.from_env()))
    except duckdb.Error as exc:
        if not is_lock_conflict(exc):
            raise LoadError(f"cannot open database {db_path}: {exc}") from None
        raise LoadError(
            f"cannot open database {db_path}: {exc}. If another process (dbt, Airflow, a "
            "notebook) holds it open, close that first"
        ) from None


def _commit(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Commit, or a LoadError naming the file when it cannot be written (a full disk)."""
    try:
        con.commit()
    except duckdb.Error as exc:
        raise LoadError(
            f"cannot write database {db_path}: {exc}. Nothing was loaded; free disk space "
            "(or raise the file size limit) and load again"
        ) from None


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open (a failed commit has already ended it)."""
    with contextlib.suppress(duckdb.TransactionException):
        con.rollback()


def _remove_empty_wal(db_path: Path) -> None:
    wal = db_path.with_name(db_path.name + ".wal")
    if wal.is_file() and wal.stat().st_size == 0:
        wal.unlink()


@contextlib.contextmanager
def transaction(
    db_path: Path, after_commit: Callable[[duckdb.DuckDBPyConnection], object] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction on `db_path` with the loader's own tables (bookkeeping_tables.sql):
    committed when the block ends, rolled back on any exception; an empty `.wal` it leaves is
    removed either way. `after_commit` runs on the committed database while it is still held
    (the raw zone is written there, so no other load can come between)."""
    try:
        with _connect(db_path) as con:
            con.begin()
            try:
                con.execute(sql_file(__file__, "bookkeeping_tables.sql"))
                yield con
                _commit(con, db_path)
            except BaseException:
                _rollback(con)
                raise
            if after_commit is not None:
                after_commit(con)
    finally:
        _remove_empty_wal(db_path)


def remove_database(db_path: Path) -> None:
    if not db_path.parent.is_dir():  # never created: its folder could not be
        return
    for leftover in (db_path, db_path.with_name(db_path.name + ".wal")):
        leftover.unlink(missing_ok=True)
