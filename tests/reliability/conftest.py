"""The reliability register's fixtures, defined in reliability_harness.py.

Test modules import helpers from `reliability_harness` by that name: a module imported as
`conftest` is whichever conftest.py pytest loaded last (tests/dags has one too).
"""

from reliability_harness import (  # noqa: F401 - pytest finds fixtures by name here
    dbt_runner_in_worker,
    dbt_worker,
    fast_children,
    fixture_build,
    pycache_dir,
)
