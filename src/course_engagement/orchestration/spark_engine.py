"""What the Spark engine needs before a run starts, and how its dbt builds differ from DuckDB's.

dbt-spark's session method starts a local Spark (a JVM) inside each dbt process: without a
Java 17+ that fails deep in py4j, minutes into a run. `require_java` finds out first and says
what to install or set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

MIN_JAVA = 17  # Spark 4 runs on Java 17 and 21
# profiles.yml's Spark output. Every Spark build is a full refresh for now: the incremental
# models say so themselves (macros/cross_engine/incremental_config.sql, the one place).
SPARK_BUILD_FLAGS = ("--target", "spark")
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')
INSTALL_HINT = (
    "install a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless) and put its "
    "`java` on PATH, or set JAVA_HOME to its folder"
)


class JavaMissingError(RuntimeError):
    """The Spark engine cannot start: no usable Java. A retry will not help."""


def java_binary() -> Path:
    """`$JAVA_HOME/bin/java` when JAVA_HOME is set (as Spark does), else `java` on PATH."""
    java_home = os.environ.get("JAVA_HOME", "")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if not os.access(candidate, os.X_OK):
            raise JavaMissingError(
                f"the Spark engine needs Java, and JAVA_HOME={java_home!r} has no executable "
                f"bin/java; point JAVA_HOME at a Java {MIN_JAVA}+ installation or unset it to "
                "use the `java` on PATH"
            )
        return candidate
    found = shutil.which("java")
    if found is None:
        raise JavaMissingError(
            f"the Spark engine needs Java {MIN_JAVA}+, and there is no `java` on PATH and no "
            f"JAVA_HOME: {INSTALL_HINT}; or run with --engine duckdb"
        )
    return Path(found)


def require_java() -> str:
    """The Java version Spark will use; `JavaMissingError` when none or one older than 17."""
    java = java_binary()
    try:
        completed = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise JavaMissingError(f"{java} -version failed ({error}): {INSTALL_HINT}") from None
    match = _VERSION.search(completed.stderr + completed.stdout)
    if completed.returncode != 0 or match is None:
        raise JavaMissingError(
            f"{java} -version failed (exit {completed.returncode}): "
            f"{completed.stderr.strip()[:200]}; {INSTALL_HINT}"
        )
    major = int(match[2] if match[1] == "1" else match[1])  # "1.8.0" is Java 8
    if major < MIN_JAVA:
        raise JavaMissingError(f"{java} is Java {major}; Spark needs {MIN_JAVA}+: {INSTALL_HINT}")
    return match[0]
