"""One Airflow process for `course-engagement run`: make sure of the pool, then `dags test`.

Importing Airflow costs ~10 s of CPU here; `airflow pools set` and `airflow dags test` as two
commands paid it twice on every run. After a successful run the process ends with `os._exit`:
the run is committed and every log line written, and Python's normal exit would spend 3-8 s
tearing down Airflow's in-process execution API (its event loop and lifespan, and the objects
of every API version). A failed run exits the normal way, with its traceback. Run as
`python -m course_engagement.orchestration.airflow_launch <ds>` with the environment from
`local_airflow.airflow_env` (AIRFLOW_HOME must be set before Airflow is imported, hence a
child process and not an import in the caller).
"""

from __future__ import annotations

import logging
import os
import sys

from course_engagement.orchestration import tasks
from course_engagement.validation import validate_date

DAG_ID = "course_engagement_pipeline"


def main(argv: list[str]) -> None:
    ds = validate_date(argv[0]).isoformat()
    from airflow.cli import cli_parser
    from airflow.configuration import write_default_airflow_configuration_if_needed
    from airflow.models.pool import Pool

    write_default_airflow_configuration_if_needed()
    Pool.create_or_update_pool(tasks.POOL, 1, tasks.POOL_DESCRIPTION, include_deferred=False)
    args = cli_parser.get_parser().parse_args(["dags", "test", DAG_ID, ds])
    args.func(args)


def exit_now() -> None:
    """Flush every log handler and stream, then end the process without Python's teardown."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
    exit_now()  # only reached when the run succeeded: `dags test` raises on a failed run
