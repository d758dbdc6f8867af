"""tests/dbt: the dbt project built on real DuckDB files; the helpers live in dbt_harness.py.

They are imported by name (`from dbt_harness import ...`) rather than from this conftest, so
they never collide with another conftest module that pytest has already imported.
"""
