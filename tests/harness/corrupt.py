"""Broken variants of a good raw CSV, to prove the loader rejects or refuses each of them.

Every function takes the text of a good file (as the generator writes it: one record per line,
no quoted commas) and returns the broken text, so a test can say exactly which line and column
it broke. Lines are numbered as in `raw.load_rejects`: the header is line 1. `corrupt_file` does
the same for a file on disk, for use from a command line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _column_index(text: str, column: str) -> int:
    header = _lines(text)[0].rstrip("\r").split(",")
    if column not in header:
        raise ValueError(f"no column {column!r} in header {','.join(header)!r}")
    return header.index(column)


def _edit_line(text: str, line: int, edit: Callable[[list[str]], list[str]]) -> str:
    lines = _lines(text)
    if not 2 <= line <= len(lines) or lines[line - 1] == "":
        raise ValueError(f"line {line} is not a data line of this text")
    lines[line - 1] = ",".join(edit(lines[line - 1].split(",")))
    return "\n".join(lines)


def _edit_every_line(text: str, edit: Callable[[list[str]], list[str]]) -> str:
    return "\n".join(",".join(edit(line.split(","))) if line else line for line in _lines(text))


# Row-level problems: the loader rejects the line and loads the rest.


def bad_cast(text: str, line: int, column: str, value: str = "not-a-value") -> str:
    """Put a value that does not cast to the column's type (or a wrong timestamp format)."""
    index = _column_index(text, column)
    return _edit_line(text, line, lambda fields: [*fields[:index], value, *fields[index + 1 :]])


def short_row(text: str, line: int) -> str:
    """Drop the last field of a line."""
    return _edit_line(text, line, lambda fields: fields[:-1])


def long_row(text: str, line: int, extra: str = "surplus") -> str:
    """Append a field the header does not have."""
    return _edit_line(text, line, lambda fields: [*fields, extra])


def bad_quoting(text: str, line: int, column: str) -> str:
    """Close a quote in the middle of a value: `"abc"def`."""
    index = _column_index(text, column)
    return _edit_line(
        text,
        line,
        lambda fields: [*fields[:index], f'"{fields[index]}"x', *fields[index + 1 :]],
    )


def unterminated_quote(text: str, line: int, column: str) -> str:
    """Open a quote that is never closed, so it swallows the lines after it."""
    index = _column_index(text, column)
    return _edit_line(
        text, line, lambda fields: [*fields[:index], f'"{fields[index]}', *fields[index + 1 :]]
    )


def invalid_utf8(text: str, line: int, column: str) -> bytes:
    """Append a byte that is never valid UTF-8 (0xff) to one value; returns bytes."""
    index = _column_index(text, column)
    _edit_line(text, line, lambda fields: fields)  # validates the line number
    lines = text.encode("utf-8").split(b"\n")
    fields = lines[line - 1].split(b",")
    fields[index] += b"\xff"
    lines[line - 1] = b",".join(fields)
    return b"\n".join(lines)


# Structural problems: the loader refuses the whole load.


def missing_column(text: str, column: str) -> str:
    """Remove a column from the header and from every line."""
    index = _column_index(text, column)
    return _edit_every_line(text, lambda fields: fields[:index] + fields[index + 1 :])


def extra_column(text: str, column: str, value: str = "") -> str:
    """Add a column at the end of the header and a value to every line."""
    header, *rest = _lines(text)
    body = _edit_every_line("\n".join(rest), lambda fields: [*fields, value])
    return f"{header},{column}\n{body}"


def rename_column(text: str, old: str, new: str) -> str:
    """Rename a column in the header only (the data stays valid)."""
    index = _column_index(text, old)
    header, *rest = _lines(text)
    names = header.split(",")
    names[index] = new
    return "\n".join([",".join(names), *rest])


def reorder_columns(text: str, first: str, second: str) -> str:
    """Swap two columns in the header and in every line."""
    i, j = _column_index(text, first), _column_index(text, second)

    def swap(fields: list[str]) -> list[str]:
        fields = list(fields)
        fields[i], fields[j] = fields[j], fields[i]
        return fields

    return _edit_every_line(text, swap)


def invalid_utf8_header(text: str) -> bytes:
    """Make the header undecodable, as a Latin-1 export with an accented column would be."""
    header, *rest = _lines(text)
    return b"\xe9" + "\n".join([header, *rest]).encode("utf-8")


def empty(text: str = "") -> str:
    """A 0-byte file."""
    return ""


def header_only(text: str) -> str:
    """Just the header line: valid, and loads an empty table."""
    return _lines(text)[0] + "\n"


VARIANTS: dict[str, Callable[..., str | bytes]] = {
    "bad-cast": bad_cast,
    "short-row": short_row,
    "long-row": long_row,
    "bad-quoting": bad_quoting,
    "unterminated-quote": unterminated_quote,
    "invalid-utf8": invalid_utf8,
    "missing-column": missing_column,
    "extra-column": extra_column,
    "rename-column": rename_column,
    "reorder-columns": reorder_columns,
    "invalid-utf8-header": invalid_utf8_header,
    "empty": empty,
    "header-only": header_only,
}


def write(path: Path, content: str | bytes) -> Path:
    """Write text or bytes exactly (no newline translation)."""
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def corrupt_file(source: Path, target: Path, variant: str, *args: object, **kwargs: object) -> Path:
    """Write `VARIANTS[variant]` of the good CSV at `source` to `target` (may be the same path)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    text = source.read_bytes().decode("utf-8")
    return write(target, VARIANTS[variant](text, *args, **kwargs))
