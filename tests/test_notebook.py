"""The exploration notebook runs top to bottom on the committed sample, and its checks hold.

Built the way CI builds it: the committed sample loaded by the real loader into a throw-away
DuckDB file and the real `dbt build` as of the manifest's end_date (the helpers in
tests/dbt/conftest.py), then the notebook executed in a fresh Jupyter kernel with
COURSE_ENGAGEMENT_DB pointing at that file. The notebook asserts its own invariants (loaded +
rejected = data lines, manifest = recount = mart for every defect class, reconciliation reasons
add up to raw.events), so a run without error already proves them; the tests also read the line
it prints when the defect counts agree, so a notebook that quietly skipped the check fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_engagement.settings import REPO_ROOT
from course_engagement.synthetic.defects import DEFECTS

# In CI's extended run (`pytest -m extended`), to keep `uv run pytest` under 8 minutes:
# the notebook runs top to bottom on its own build.
pytestmark = pytest.mark.extended

NOTEBOOK = REPO_ROOT / "notebooks" / "example_data_exploration.ipynb"
SAMPLE_DIR = REPO_ROOT / "data"
CELL_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def sample_db(sample_build) -> Path:
    """The committed sample built by the real loader and dbt (tests/conftest.py)."""
    return sample_build.run.db_path


@pytest.fixture(scope="module")
def executed(sample_db: Path) -> nbformat.NotebookNode:
    """The notebook after a top-to-bottom run; a failing cell raises CellExecutionError."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    env = os.environ | {
        "COURSE_ENGAGEMENT_DB": str(sample_db),
        "COURSE_ENGAGEMENT_DATA_DIR": str(SAMPLE_DIR),
    }
    # Let ipykernel pick its inline backend (Agg-based, headless), whatever the caller set.
    env.pop("MPLBACKEND", None)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute(env=env)
    return notebook


def outputs(notebook: nbformat.NotebookNode, output_type: str) -> list[dict]:
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output["output_type"] == output_type
    ]


def stdout(notebook: nbformat.NotebookNode) -> str:
    return "".join(o["text"] for o in outputs(notebook, "stream") if o["name"] == "stdout")


def test_notebook_runs_top_to_bottom_and_closes_its_connection(
    executed: nbformat.NotebookNode, sample_db: Path
) -> None:
    assert outputs(executed, "error") == []
    assert stdout(executed).rstrip().endswith(f"closed {sample_db}")


def test_notebook_shows_manifest_recount_and_mart_agree_on_every_defect_class(
    executed: nbformat.NotebookNode,
) -> None:
    assert (
        f"OK: manifest, recount and mart_data_quality agree on all {len(DEFECTS)} defect classes"
        in stdout(executed)
    )


def test_notebook_shows_every_file_accounted_for_on_load(executed: nbformat.NotebookNode) -> None:
    assert "loaded + rejected = data lines for all 4 files; 0 rejected lines" in stdout(executed)


def test_notebook_draws_its_three_charts(executed: nbformat.NotebookNode) -> None:
    images = [o for o in outputs(executed, "display_data") if "image/png" in o["data"]]
    assert len(images) == 3  # courses, daily active learners, the time-series mart


def test_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with_outputs = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert with_outputs == [], (
        f"cells {with_outputs} of {NOTEBOOK.name} carry outputs; clear them before committing: "
        f"uv run jupyter nbconvert --clear-output --inplace {NOTEBOOK.relative_to(REPO_ROOT)}"
    )
