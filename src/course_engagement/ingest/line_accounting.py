"""Byte-level facts about a CSV file, independent of DuckDB: physical lines, blank lines, lines
too long for the reader, stray carriage returns, and what the first bytes say the file is.

The loader checks `data lines = loaded + rejected` against these counts, so they must never
come from the parser they check (only which records span several lines comes from the parse).
"""

from __future__ import annotations

import hashlib
import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHUNK = 1 << 22  # 4 MiB: large enough to stream, small enough to stay in cache for the hash
HEADER_PROBE = 1 << 20  # a file with no line break in its first MiB has no CSV header
LINE_STEPS = 1_000  # lines to a wanted line within which stepping beats counting a chunk
# DuckDB's read_csv `max_line_size` default: a longer record is rejected (LINE SIZE OVER
# MAXIMUM); one longer than its buffer (`buffer_size`, ~32 MiB) is skipped without a reject.
MAX_LINE_SIZE = 2_000_000
RAW_LINE_KEPT = 10_000  # characters of an over-long line kept in raw.load_rejects

# Magic numbers of compressed files someone might name `.csv`.
COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
}


@dataclass(frozen=True)
class ByteScan:
    """What the bytes of a file say, independently of DuckDB."""

    sha256: str
    physical_lines: int  # after the header; a last line without a newline counts


def scan_bytes(path: Path) -> ByteScan:
    """sha256 and the number of physical lines after the header, in one streaming pass."""
    digest = hashlib.sha256()
    newlines = 0
    last = b""
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            chunk = view[:size]
            digest.update(chunk)  # releases the GIL
            newlines += int(np.count_nonzero(np.frombuffer(buffer, np.uint8, size) == 10))
            last = bytes(chunk[-1:])
    lines = newlines + (1 if last not in (b"", b"\n") else 0)
    return ByteScan(digest.hexdigest(), max(lines - 1, 0))


def compression(head: bytes) -> str | None:
    """The compression format the first bytes announce, or None."""
    return next((name for magic, name in COMPRESSED.items() if head.startswith(magic)), None)


def line_numbers(mm: mmap.mmap, offsets: list[int]) -> list[int]:
    """Physical line number (header = 1) of each byte offset; offsets must be sorted."""
    numbers, line, position = [], 1, 0
    for offset in offsets:
        line += count_newlines(mm, position, offset)
        position = offset
        numbers.append(line)
    return numbers


def count_newlines(mm: mmap.mmap, start: int, end: int) -> int:
    count = 0
    for low in range(start, end, CHUNK):
        count += mm[low : min(low + CHUNK, end)].count(b"\n")
    return count


def _outside_quotes(mm: mmap.mmap, positions: list[int]) -> list[int]:
    """The sorted positions with an even number of quote bytes before them (a heuristic: a
    quote inside an unquoted value flips it; used only to name a line in an error)."""
    kept, quotes, previous = [], 0, 0
    for position in positions:
        for low in range(previous, position, CHUNK):
            quotes += mm[low : min(low + CHUNK, position)].count(b'"')
        previous = position
        if quotes % 2 == 0:
            kept.append(position)
    return kept


def empty_lines(mm: mmap.mmap) -> list[int]:
    """Physical line numbers of empty lines (`\\n\\n`, `\\n\\r\\n`), in quoted values or not."""
    positions = []
    for pattern in (b"\n\n", b"\n\r\n"):
        found = mm.find(pattern)
        while found != -1:
            positions.append(found + 1)
            found = mm.find(pattern, found + 1)
    return line_numbers(mm, sorted(positions))


def blank_lines(
    empty: list[int], taken: list[int], breaks: list[tuple[int, int]], parsed: int
) -> list[int]:
    """The empty lines that are blank lines of the file, not lines of a quoted value.

    Walks the records the parser kept (`parsed`, in file order; `breaks`: (position, line
    breaks) of those spanning several lines) through the physical lines from line 2, skipping
    lines `taken` by rejected records: an empty line where a record would start is blank, one
    inside a record's span is part of its value. Sorted inputs; O(events), not O(lines).
    """
    blank, line, record, e, t, b = [], 2, 0, 0, 0, 0
    while True:
        if t < len(taken) and taken[t] <= line:
            line += taken[t] == line
            t += 1
            continue
        if e < len(empty) and empty[e] <= line:
            if empty[e] == line:
                blank.append(line)
                line += 1
            e += 1
            continue
        if record >= parsed:
            break
        span = 0
        if b < len(breaks) and breaks[b][0] == record:
            span, b = breaks[b][1], b + 1
        while e < len(empty) and empty[e] <= line + span:
            e += 1  # inside this record's quoted value
        line, record = line + span + 1, record + 1
        # records without line breaks up to the next event take one line each
        upcoming = min(
            taken[t] if t < len(taken) else parsed + line,
            empty[e] if e < len(empty) else parsed + line,
        )
        next_break = breaks[b][0] if b < len(breaks) else parsed
        step = max(min(next_break - record, upcoming - line), 0)
        line, record = line + step, record + step
    return blank + empty[e:]


def long_lines(mm: mmap.mmap, limit: int = MAX_LINE_SIZE) -> list[tuple[int, str]]:
    """(line number, first RAW_LINE_KEPT characters) of each physical line longer than
    `limit` bytes (line ending excluded)."""
    found, line, start, position = [], 1, 0, 0
    while position < len(mm):
        end = min(position + CHUNK, len(mm))
        breaks = np.flatnonzero(np.frombuffer(mm[position:end], np.uint8) == 10) + position
        if len(breaks):
            line_starts = np.concatenate([[start], breaks[:-1] + 1])
            for k in np.flatnonzero(breaks - line_starts > limit).tolist():
                found.append((line + k, _text(mm, int(line_starts[k]), int(breaks[k]))))
            line, start = line + len(breaks), int(breaks[-1]) + 1
        position = end
    if len(mm) - start > limit:
        found.append((line, _text(mm, start, len(mm))))
    return found


def _text(mm: mmap.mmap, start: int, end: int) -> str:
    raw = mm[start : min(end, start + RAW_LINE_KEPT)]
    return raw.decode("utf-8", errors="replace").removesuffix("\r")


def stray_carriage_return(mm: mmap.mmap) -> tuple[int, int] | None:
    """(line, column) of the first CR outside quotes that does not end a line, or None."""
    found = mm.find(b"\r")
    while found != -1:
        if mm[found + 1 : found + 2] not in (b"\n", b"") and _outside_quotes(mm, [found]):
            (line,) = line_numbers(mm, [found])
            line_start = mm.rfind(b"\n", 0, found) + 1
            return line, mm[line_start:found].count(b",") + 1
        found = mm.find(b"\r", found + 1)
    return None


def physical_lines(mm: mmap.mmap, numbers: list[int]) -> list[str]:
    """The text of each physical line (header = 1; sorted), without its line ending."""
    texts, line, position = [], 1, 0
    for number in numbers:
        while number - line > LINE_STEPS:  # far ahead: skip whole chunks while they end before
            end = min(position + CHUNK, len(mm))
            newlines = mm[position:end].count(b"\n")
            if end == len(mm) or line + newlines >= number:
                break
            line, position = line + newlines, end
        while line < number:
            found = mm.find(b"\n", position)
            if found == -1:  # never for a line that was counted; do not loop forever
                raise ValueError(f"line {number} is past the end of the file ({line} lines)")
            position, line = found + 1, line + 1
        end = mm.find(b"\n", position)
        raw = mm[position : len(mm) if end == -1 else end]
        texts.append(raw.decode("utf-8", errors="replace").removesuffix("\r"))
    return texts
