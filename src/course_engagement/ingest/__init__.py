"""Ingest: the loader of raw exports into DuckDB and the checks and accounting it relies on."""
