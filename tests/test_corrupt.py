"""Each corruption breaks exactly what it says, where it says, and nothing else."""

from __future__ import annotations

import corrupt
import pytest

GOOD = "a,b,c\n1,x,2024-01-01\n2,y,2024-01-02\n"


def test_bad_cast_replaces_one_value():
    assert corrupt.bad_cast(GOOD, 3, "a", "two") == "a,b,c\n1,x,2024-01-01\ntwo,y,2024-01-02\n"


def test_short_row_drops_the_last_field():
    assert corrupt.short_row(GOOD, 2) == "a,b,c\n1,x\n2,y,2024-01-02\n"


def test_long_row_appends_a_field():
    assert corrupt.long_row(GOOD, 2) == "a,b,c\n1,x,2024-01-01,surplus\n2,y,2024-01-02\n"


def test_bad_quoting_closes_a_quote_mid_value():
    assert corrupt.bad_quoting(GOOD, 2, "b") == 'a,b,c\n1,"x"x,2024-01-01\n2,y,2024-01-02\n'


def test_unterminated_quote_opens_a_quote_that_never_closes():
    assert corrupt.unterminated_quote(GOOD, 2, "b") == 'a,b,c\n1,"x,2024-01-01\n2,y,2024-01-02\n'


def test_invalid_utf8_adds_a_0xff_byte_to_one_value():
    assert corrupt.invalid_utf8(GOOD, 3, "b") == b"a,b,c\n1,x,2024-01-01\n2,y\xff,2024-01-02\n"


def test_missing_column_removes_it_everywhere():
    assert corrupt.missing_column(GOOD, "b") == "a,c\n1,2024-01-01\n2,2024-01-02\n"


def test_extra_column_adds_it_everywhere():
    assert corrupt.extra_column(GOOD, "d", "z") == "a,b,c,d\n1,x,2024-01-01,z\n2,y,2024-01-02,z\n"


def test_rename_column_touches_only_the_header():
    assert corrupt.rename_column(GOOD, "b", "bee") == "a,bee,c\n1,x,2024-01-01\n2,y,2024-01-02\n"


def test_reorder_columns_swaps_header_and_values():
    assert corrupt.reorder_columns(GOOD, "a", "c") == "c,b,a\n2024-01-01,x,1\n2024-01-02,y,2\n"


def test_invalid_utf8_header_starts_with_a_latin1_byte():
    assert corrupt.invalid_utf8_header(GOOD) == b"\xe9" + GOOD.encode()


def test_empty_and_header_only():
    assert (corrupt.empty(), corrupt.header_only(GOOD)) == ("", "a,b,c\n")


def test_unknown_column_or_line_is_an_error():
    with pytest.raises(ValueError, match="no column 'z'"):
        corrupt.bad_cast(GOOD, 2, "z")
    with pytest.raises(ValueError, match="line 4 is not a data line"):
        corrupt.short_row(GOOD, 4)


def test_corrupt_file_writes_the_variant(tmp_path):
    good = corrupt.write(tmp_path / "good.csv", GOOD)

    broken = corrupt.corrupt_file(good, tmp_path / "broken.csv", "invalid-utf8", 2, "a")

    assert broken.read_bytes() == b"a,b,c\n1\xff,x,2024-01-01\n2,y,2024-01-02\n"
    assert good.read_text() == GOOD
