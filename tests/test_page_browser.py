"""The daily page, as the export task writes it from the sample build, in headless Chromium.

The page is opened from file:// with every request outside file:// aborted and recorded: it
must need none, log no console error, draw every chart, and show the CSV's headline numbers.
A screenshot is saved as output/screenshots/daily_page.png (docs/daily_page.png in the README
is one of these).
"""

from __future__ import annotations

import csv

import browser as browser_harness
import pytest
from browser import DRAWN_CHARTS, screenshot, visit

from course_engagement import page
from course_engagement.publishing import export

MAX_PAGE_BYTES = 3 * 2**20


@pytest.fixture(scope="module")
def published(sample_build, tmp_path_factory):
    """The CSV report and the page of the sample's end date, as the export task writes them."""
    reports = tmp_path_factory.mktemp("published") / "reports"
    db, ds = sample_build.run.db_path, sample_build.end_date
    report = export.export_report(db, reports, ds)
    export.export_time_series(db, reports, ds)
    return report.path, page.write_page(db, reports, ds)


@pytest.fixture(scope="module")
def opened(browser, published):
    _, html = published
    seen = visit(browser, html.as_uri(), "file://")
    yield seen
    seen.page.close()


def test_the_page_is_one_file_under_3_mb(published):
    _, html = published
    assert html.stat().st_size < MAX_PAGE_BYTES


def test_the_page_opens_offline_without_console_errors(opened, published):
    _, html = published
    assert opened.outside == []
    assert opened.requests == [html.as_uri()]
    assert opened.console_errors == []


def test_every_chart_is_drawn(opened, published):
    screenshot(opened.page, "daily_page.png")
    with published[0].open(newline="") as handle:
        with_learners = sum(1 for row in csv.DictReader(handle) if int(row["learners"]))
    drawn = opened.page.evaluate(DRAWN_CHARTS)
    charts = {svg["id"].split("-")[0]: svg for svg in drawn["svgs"]}
    assert sorted(charts) == ["activity", "courses", "retention"]
    for chart in charts.values():
        assert chart["width"] > 100 and chart["height"] > 100, chart
    assert charts["activity"]["marks"] == 3  # daily, weekly, monthly
    assert charts["courses"]["marks"] == with_learners == 58  # a bar per course with learners
    assert charts["retention"]["marks"] > 1_000  # cohort x week cells


def test_headline_numbers_on_the_page_equal_the_csv(opened, published):
    report, _ = published
    with report.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    learners = sum(int(row["learners"]) for row in rows)
    active = sum(int(row["active_learners"]) for row in rows)
    active_30d = sum(int(row["active_learners_30d"]) for row in rows)

    def shown(metric: str) -> str:
        return opened.page.inner_text(f'.figure[data-metric="{metric}"] .value')

    assert int(shown("learners").replace(",", "")) == learners
    assert int(shown("active_learners_30d").replace(",", "")) == active_30d
    assert shown("engagement_rate") == f"{active / learners * 100:.1f}%"
    assert (learners, active_30d) == (2906, 594)  # the committed sample as of 2026-10-31


def test_without_chromium_the_browser_tests_fail_saying_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(browser_harness, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y chromium"):
        browser_harness.chromium_path()
