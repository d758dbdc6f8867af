"""The daily page: `course_engagement_<ds>.html` beside the CSV report, one self-contained file.

`data` reads what the page shows (marts, read-only; the previous published CSV report),
`charts` draws static SVG, `render` writes the HTML. The file is written like the CSV reports
(`export.py`): a hidden temporary file in the reports folder renamed into place, mode 0644, so
a reader never sees half a page and a rerun of the same date writes the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from course_engagement.page.data import PageError, page_path, read_page_data
from course_engagement.page.render import render_page
from course_engagement.publishing.export import REPORT_MODE, remove_stale_temporaries
from course_engagement.publishing.quality import connect_read_only

__all__ = ["PageError", "page_path", "write_page"]


def write_page(
    db_path: Path, reports_dir: Path, ds: str, spark_warehouse: Path | None = None
) -> Path:
    """Write the page for `ds` from the marts in `db_path` (or Spark's); return its path.

    Run after the CSV export of the same date, which created the folder and checked that the
    marts were built for `ds` (checked again here).
    """
    final = page_path(reports_dir, ds)
    if not reports_dir.is_dir():
        raise PageError(f"{reports_dir} does not exist: export the CSV report for {ds} first")
    remove_stale_temporaries(reports_dir)
    with connect_read_only(db_path, "build the daily page", spark_warehouse) as con:
        content = render_page(read_page_data(con, reports_dir, ds)).encode("utf-8")
    handle, temporary = tempfile.mkstemp(
        prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=reports_dir
    )
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, REPORT_MODE)
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    print(f"page written: {final} ({len(content):,} bytes)")
    return final
