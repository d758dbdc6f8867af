"""The error that stops a load, and how long its message may grow."""

from __future__ import annotations

MAX_MESSAGE = 2_000  # characters of a LoadError; a quoted DuckDB error keeps MAX_DUCKDB_ERROR


class LoadError(Exception):
    """A problem with an input file (or the database) that stops the whole load.

    The message names the file and says what to do; the database is left as it was. It is cut
    to MAX_MESSAGE characters so a huge bad value cannot flood a log.
    """

    def __init__(self, message: str) -> None:
        super().__init__(shorten(message, MAX_MESSAGE))


def shorten(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    note = f"... [{len(text):,} characters in all]"
    return text[: limit - len(note)] + note
