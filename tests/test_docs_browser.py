"""dbt's docs site for the sample build, served by `course-engagement docs`'s server, in Chromium.

The default run serves the docs the sample build generated (`sample_build` ran `dbt docs
generate`); the extended run goes through the command itself (`docs --port 0` as a child
process, and `docs --static`). Requests outside the local server (or file://) are aborted and
fail the test, as does any console error but two that dbt's own page always logs: it requests
two asset URLs whose Angular template was never filled in (`{{ getIcon(...) }}` and
`${require('./assets/favicons/favicon.ico')}`), answered 404 - a defect of dbt-docs' bundled
index.html, requests to the same server, listed here exactly so nothing else can hide behind it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from browser import DRAWN_CHARTS, screenshot, visit

from course_engagement import docs

DBT_DOCS_TEMPLATE_URLS = ("/%7B%7B%20getIcon(item.type,%20", "/$%7Brequire('./assets/favicons/")
MART_PAGE = "#!/model/model.course_engagement.mart_course_engagement"
LINEAGE_BUTTON = """() => {
  const icon = [...document.querySelectorAll('use')]
    .filter(use => use.getAttribute('xlink:href') === '#icn-flow').pop();
  const box = icon.closest('svg').getBoundingClientRect();
  return [box.x + box.width / 2, box.y + box.height / 2];
}"""


def unexpected(errors: list[str]) -> list[str]:
    return [e for e in errors if not any(url in e for url in DBT_DOCS_TEMPLATE_URLS)]


def wait_for_text(page, text: str) -> None:
    page.wait_for_function(f"document.body.innerText.includes({text!r})", timeout=60_000)


def check_mart_page(browser, base: str, screenshot_name: str) -> None:
    """The mart's page (description with its metric doc blocks), its lineage graph, an exposure."""
    seen = visit(browser, base + MART_PAGE, base)
    page = seen.page
    wait_for_text(page, "Grain: one row per course in the catalogue")
    wait_for_text(page, "is a user with at least one enrolment in the course")  # doc('learner')
    page.mouse.click(*page.evaluate(LINEAGE_BUTTON))  # the lineage graph, drawn on canvas
    page.wait_for_function(f"({DRAWN_CHARTS})().canvases > 0", timeout=60_000)
    screenshot(page, screenshot_name, full_page=False)
    page.goto(base + "#!/exposure/exposure.course_engagement.course_engagement_report")
    wait_for_text(page, "The daily stakeholder report")  # the exposure's own page
    page.close()
    assert seen.outside == []
    assert unexpected(seen.console_errors) == []


def test_docs_site_served_locally_loads_nothing_from_outside(browser, sample_build):
    httpd = docs.server(sample_build.run.target_path, 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", docs.url(httpd))
        check_mart_page(browser, docs.url(httpd), "dbt_docs_site.png")
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def docs_env(sample_build, tmp_path):
    return os.environ | {
        "COURSE_ENGAGEMENT_DB": str(sample_build.run.db_path),
        "COURSE_ENGAGEMENT_OUTPUT_DIR": str(tmp_path / "output"),
    }


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "course_engagement.cli", "docs", *args]


@pytest.mark.extended
def test_docs_command_generates_and_serves_the_site_and_prints_its_url(browser, docs_env):
    server = subprocess.Popen(
        command("--port", "0"), env=docs_env, stdout=subprocess.PIPE, text=True
    )
    try:
        lines = []
        while not (lines and lines[-1].startswith("dbt docs: ")):
            line = server.stdout.readline()
            assert line, f"the command ended without printing a URL: {lines}"
            lines.append(line)
        url = re.match(r"dbt docs: (http://127\.0\.0\.1:\d+/) ", lines[-1])[1]
        check_mart_page(browser, url, "dbt_docs_command.png")
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.extended
def test_docs_static_writes_one_file_that_opens_offline(browser, docs_env):
    printed = subprocess.run(
        command("--static"), env=docs_env, capture_output=True, text=True, check=True
    ).stdout
    path = Path(docs_env["COURSE_ENGAGEMENT_OUTPUT_DIR"]) / "docs" / docs.STATIC_NAME
    assert f"dbt docs (one self-contained file): {path}\n" in printed
    seen = visit(browser, path.as_uri() + MART_PAGE, "file://")
    wait_for_text(seen.page, "Grain: one row per course in the catalogue")
    screenshot(seen.page, "dbt_docs_static.png", full_page=False)
    seen.page.close()
    assert seen.outside == []
    assert unexpected(seen.console_errors) == []
