"""Fixtures shared across test folders.

`sample_build`: the committed sample loaded by the real loader and built by one real
`dbt build` (every model, data test and unit test) plus `dbt docs generate`, as of the
manifest's end date. Building it costs ~20 s, so it is made once per test process and shared
by every test that only reads it (quality counts, reconciliation, notebook, browser tests).

`browser`: headless Chromium for one test module (tests/harness/browser.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from browser import launch
from dbt_harness import REPO_ROOT, CommandResult, DbtRun, load_into_new_db
from playwright.sync_api import sync_playwright

SAMPLE_DIR = REPO_ROOT / "data"


@dataclass(frozen=True)
class SampleBuild:
    manifest: dict
    run: DbtRun
    commands: list[CommandResult]

    @property
    def end_date(self) -> str:
        return self.manifest["end_date"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for a test module (tests/harness/browser.py)."""
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    manifest = json.loads((SAMPLE_DIR / "manifest.json").read_text())
    run = load_into_new_db(SAMPLE_DIR, tmp_path_factory.mktemp("sample_build"))
    commands = run.dbt(["build"], ["docs", "generate"], as_of_date=manifest["end_date"])
    return SampleBuild(manifest, run, commands)
