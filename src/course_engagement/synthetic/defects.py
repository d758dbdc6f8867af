"""The data-quality defect classes the generator plants, and what each one means exactly.

The classes and their definitions live in the dbt seed `defect_classes.csv` (`dbt_seeds`);
`DEFECTS` is its planted rows, and `data/manifest.json` records the count of each under these
keys. The definitions are written so that a SQL query over the raw tables can recount each one
independently: mart_data_quality counts them (the pipeline's one count); the notebook and
tests/test_generate.py recount them from raw as independent checks of the generator. Categorical
values are compared on `lower(trim(value))`; "latest version" of a user means the row with the
greatest `updatedAt`, a tie broken by value as `dim_users` breaks it (never by row
position; the generator never writes a tie).
"""

from __future__ import annotations

from course_engagement.dbt_seeds import defect_classes

DEFECTS: dict[str, str] = {c.defect: c.definition for c in defect_classes() if c.is_planted}
