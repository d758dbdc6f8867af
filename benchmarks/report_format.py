"""How RESULTS.md writes a figure: scale labels, rounded numbers, a stage's median and repeats."""

from __future__ import annotations

from typing import Any

QUERY_TIME_STAGES = {"mart_floor", "mart_legacy"}


def label(events: int) -> str:
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if events >= size and events % size == 0:
            return f"{events // size}{suffix}"
    return f"{events:,}"


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def repeats(result: dict[str, Any], stage: str) -> str:
    n = result["stages"].get(stage, {}).get("n", 0)
    return "" if n == result["repeats"] and n > 1 else f" ({n} run{'s' if n != 1 else ''})"


def figure(result: dict[str, Any], stage: str, digits: int = 1) -> str:
    record = result["stages"].get(stage)
    if record is None:
        return "n/a"
    if record.get("skipped") and "wall_s" not in record:
        return "skipped"
    key = "query_s" if stage in QUERY_TIME_STAGES and "query_s" in record else "wall_s"
    return fmt(record.get(key), digits) + repeats(result, stage)
