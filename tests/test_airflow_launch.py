"""The launcher's fast exit after a successful run: nothing written is lost."""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = """
import logging, sys
from course_engagement.orchestration import airflow_launch
logging.basicConfig(filename=sys.argv[1], level=logging.INFO)
logging.getLogger("run").info("DagRun Finished")
sys.stdout.write("last line without a newline")
airflow_launch.exit_now()
raise SystemExit(3)  # not reached
"""


def test_the_fast_exit_flushes_logs_and_output_and_exits_zero(tmp_path):
    log = tmp_path / "run.log"
    # buffered, as a redirected stream is without PYTHONUNBUFFERED
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(log)], capture_output=True, text=True, env=env
    )
    assert child.returncode == 0
    assert child.stdout == "last line without a newline"
    assert log.read_text() == "INFO:run:DagRun Finished\n"
