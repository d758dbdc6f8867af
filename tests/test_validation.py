from __future__ import annotations

import datetime as dt

import pytest

from course_engagement.validation import validate_date


def test_a_calendar_date_passes():
    assert validate_date("2026-02-28") == dt.date(2026, 2, 28)


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30",
        "2026-2-28",
        "20260228",
        "2026-02-28T00:00",
        "../2026-02-28",
        "2026-02-28'--",
        "",
    ],
)
def test_anything_else_is_refused(value):
    with pytest.raises(ValueError):
        validate_date(value)
