"""How the benchmark compares an implementation with the dbt mart (benchmarks/run.py).

The floor query and the pandas mart are independent implementations, compared on the columns
they implement, so a new mart column needs no edit of them; the incremental check (an
incremental build against a full refresh) still compares every column. Fast, so not `extended`.
"""

from __future__ import annotations

import duckdb
import pytest
from test_benchmarks import _benchmark_module


@pytest.fixture(scope="module")
def compare():
    return _benchmark_module("results").compare


def _two_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create table mart as select 1 as course_id, 2 as learners, 0.5 as rate")
    con.execute("create table impl as select 1 as course_id, 2 as learners")


def test_an_independent_implementation_is_compared_on_the_columns_it_implements(compare):
    """A new mart column (rate) needs no edit of the floor or pandas version."""
    with duckdb.connect() as con:
        _two_tables(con)
        assert compare(con, "impl", "mart", left_columns_only=True) == {
            "equal": True,
            "rows": 1,
            "only_in_left": 0,
            "only_in_right": 0,
            "not_compared": ["rate"],
        }
        con.execute("update impl set learners = 3")
        assert not compare(con, "impl", "mart", left_columns_only=True)["equal"]
        # a column the mart does not have is a difference, not something to skip
        con.execute("alter table impl add column typo integer")
        assert not compare(con, "impl", "mart", left_columns_only=True)["equal"]


def test_the_incremental_comparison_still_needs_every_column(compare):
    with duckdb.connect() as con:
        _two_tables(con)
        assert compare(con, "impl", "mart") == {
            "equal": False,
            "columns": {
                "left": ["course_id", "learners"],
                "right": ["course_id", "learners", "rate"],
            },
        }
