"""Validation of run parameters: a report date is a calendar date and nothing else.

The date ends up in a file name and in dbt vars, so anything but `YYYY-MM-DD` (a path, a quote,
SQL) is refused before it reaches either.
"""

from __future__ import annotations

import datetime as dt
import re

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def validate_date(value: object) -> dt.date:
    """Return the date `value` names, or raise ValueError saying what was wrong."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    if not _DATE.fullmatch(text):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a calendar date: {error}") from None
