"""The daily page builder on a small DuckDB file whose marts are written here by hand.

Every expected number below can be checked against the rows in `marts_db`. The page as the
real pipeline builds it, opened in a browser, is tested in tests/test_page_browser.py.
"""

from __future__ import annotations

import datetime as dt
import re
import stat

import duckdb
import pytest

from course_engagement.page import PageError, write_page
from course_engagement.page.charts import nice_max
from course_engagement.page.data import Headline, previous_report, read_page_data
from course_engagement.page.render import (
    NO_PREVIOUS,
    change,
    count,
    day,
    moment,
    percent,
    rate_change,
)
from course_engagement.publishing.export import REPORT_COLUMNS

DS = "2026-10-31"
AS_OF = dt.date(2026, 10, 31)
COURSES = [  # id, title, category, learners, active, active_30d, rate
    (1, "Intro <SQL> & more", "Data Science", 10, 8, 5, 0.8),
    (2, "Cloud basics", "Cloud Computing", 20, 5, 2, 0.25),
    (3, "Leading teams", None, 4, 4, 4, 1.0),
    (4, "Empty course", "Design", 0, 0, 0, None),
    (5, "Risk", "Policy", 6, 3, 0, 0.5),
]
HEALTH = [  # course id, active, previous week, active 30d, change, status
    (1, 3, 2, 5, 0.5, "growing"),
    (2, 1, 1, 2, 0.0, "steady"),
    (3, 2, 0, 4, None, "new"),
    (4, 0, 0, 0, None, "dormant"),
    (5, 0, 1, 0, None, "dormant"),
]


def write_marts(path, *, as_of: dt.date = AS_OF) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema analytics; create schema raw")
        con.execute(
            "create table analytics.mart_course_engagement (course_id bigint, course_title "
            "varchar, category varchar, learners bigint, active_learners bigint, "
            "active_learners_30d bigint, engagement_rate double, last_activity timestamp, "
            "as_of_date date)"
        )
        for row in COURSES:
            last = None if row[4] == 0 else dt.datetime(2026, 10, 30, 17, row[0])
            con.execute(
                "insert into analytics.mart_course_engagement values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*row, last, as_of],
            )
        con.execute(
            "create table analytics.mart_active_learners_daily as select d::date as activity_date,"
            " 1 as daily_active_learners, 2 as weekly_active_learners, "
            "(row_number() over (order by d))::bigint as monthly_active_learners, 0.5 as stickiness"
            " from range(date '2026-07-01', date '2026-11-01', interval 1 day) t(d)"
        )
        con.execute(
            "create table analytics.mart_cohort_retention_weekly as select cohort_week, "
            "weeks_since_enrolment, cohort_learners, active_learners, "
            "retention_rate::double as retention_rate from (values "
            "(date '2026-10-19', 0, 4, 4, 1.0), (date '2026-10-19', 1, 4, 1, 0.25), "
            "(date '2026-10-19', 2, 4, 2, 0.5), (date '2026-10-26', 0, 3, 3, 1.0), "
            "(date '2026-10-26', 1, 3, 2, 0.6667)) t(cohort_week, weeks_since_enrolment, "
            "cohort_learners, active_learners, retention_rate)"
        )
        con.execute(
            "create table analytics.mart_course_health_weekly (course_id bigint, week_start date,"
            " active_learners bigint, active_learners_previous_week bigint, "
            "active_learners_30d bigint, active_learners_change double, health_status varchar)"
        )
        for row in HEALTH:
            con.execute(
                "insert into analytics.mart_course_health_weekly values (?, ?, ?, ?, ?, ?, ?)",
                [row[0], dt.date(2026, 10, 26), *row[1:]],
            )
            # an older week, which the page must not show
            con.execute(
                "insert into analytics.mart_course_health_weekly "
                "values (?, ?, 9, 9, 9, 0, 'steady')",
                [row[0], dt.date(2026, 10, 19)],
            )
        con.execute(
            "create table analytics.mart_event_reconciliation as select * from (values "
            "(1, 'counted', true, 1000), (2, 'exact_duplicate', false, 12), "
            "(3, 'id_conflict', false, 0), (4, 'unknown_user', false, 7)) "
            "t(reason_order, reason, is_counted, event_rows)"
        )
        con.execute(
            "create table raw.load_rejects as select * from (values "
            "('raw_users.csv', 4, 'user_id', 'empty key', 'x'), "
            "('raw_events.csv', 9, null, 'malformed', 'y'), "
            "('raw_events.csv', 11, 'event_timestamp', 'not a timestamp', 'z')) "
            "t(file_name, line_number, column_name, error, raw_line)"
        )


def write_report(reports, date: str, rows: list[tuple[int, int, int]]) -> None:
    """A published CSV report whose rows have these learners, active, active 30d figures."""
    lines = [",".join(REPORT_COLUMNS)]
    for i, (learners, active, active_30d) in enumerate(rows, 1):
        lines.append(f"{i},T{i},Cat,beginner,P,{learners},{active},{active_30d},0,0,,,0.5,{date}")
    (reports / f"course_engagement_{date}.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def marts_db(tmp_path):
    path = tmp_path / "marts.duckdb"
    write_marts(path)
    return path


@pytest.fixture
def reports(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    return folder


def page_data(marts_db, reports):
    with duckdb.connect(str(marts_db), read_only=True) as con:
        return read_page_data(con, reports, DS)


def figure_change(html: str, metric: str) -> str:
    match = re.search(
        rf'data-metric="{metric}" data-value="([^"]*)">.*?<p class="value">([^<]*)</p>'
        r'<p class="change">([^<]*)</p>',
        html,
    )
    assert match, metric
    return match.groups()


def test_numbers_are_formatted_for_people():
    assert count(1234567) == "1,234,567"
    assert percent(0.82914) == "82.9%"
    assert percent(None) == "\u2013"
    assert day(dt.date(2026, 3, 1)) == "1 Mar 2026"
    assert moment(dt.datetime(2026, 10, 30, 7, 5, 59)) == "30 Oct 2026 07:05 UTC"
    assert moment(None) == "no counted event"
    assert change(1010, 1000) == "+10 (+1.0%)"
    assert change(995, 1000) == "\u22125 (\u22120.5%)"
    assert change(2500, 1000) == "+1,500 (+150.0%)"
    assert change(7, 0) == "+7 (from 0)"
    assert change(5, 5) == "no change"
    assert rate_change(0.5, 0.488) == "+1.2 points"
    assert rate_change(0.4, 0.5) == "\u221210.0 points"
    assert rate_change(0.5, 0.4996) == "no change"
    assert rate_change(None, 0.5) == "no rate to compare"


def test_axes_end_at_a_round_number_at_or_above_the_highest_value():
    assert [nice_max(v) for v in (0, 1, 7, 12, 13, 299, 301, 4_100)] == [
        1, 1, 8, 12, 15, 300, 400, 5_000,
    ]  # fmt: skip


def test_headline_sums_the_courses_and_shows_no_previous_report(marts_db, reports):
    data = page_data(marts_db, reports)
    assert data.headline == Headline(learners=40, active_learners=20, active_learners_30d=11)
    assert data.headline.engagement_rate == 0.5
    assert data.previous is None
    html = write_page(marts_db, reports, DS).read_text()
    assert figure_change(html, "learners") == ("40", "40", NO_PREVIOUS)
    assert figure_change(html, "active_learners_30d") == ("11", "11", NO_PREVIOUS)
    assert figure_change(html, "engagement_rate") == ("0.5", "50.0%", NO_PREVIOUS)
    assert "This is the first published report in its folder" in html


def test_change_is_against_the_newest_earlier_report(marts_db, reports):
    write_report(reports, "2026-10-29", [(1, 1, 1)])
    write_report(reports, "2026-10-30", [(30, 10, 5), (8, 2, 1)])  # 38, 12, 6
    write_report(reports, "2026-11-02", [(99, 99, 99)])  # later than the page's date
    (reports / "course_engagement_2026-10-30.csv.bak").write_text("not a report")
    (reports / "course_engagement_2026-02-30.csv").write_text("not a date")
    previous = previous_report(reports, DS)
    assert previous.report_date == dt.date(2026, 10, 30)
    assert previous.headline == Headline(learners=38, active_learners=12, active_learners_30d=6)
    html = write_page(marts_db, reports, DS).read_text()
    since = " since 30 Oct 2026"
    assert figure_change(html, "learners")[2] == "+2 (+5.3%)" + since
    assert figure_change(html, "active_learners_30d")[2] == "+5 (+83.3%)" + since
    # 20 / 40 = 50.0% against 12 / 38 = 31.6%
    assert figure_change(html, "engagement_rate")[2] == "+18.4 points" + since
    assert "Compared with the report of 30 Oct 2026 (course_engagement_2026-10-30.csv)" in html


def test_an_unreadable_previous_report_is_named_with_line_and_column(marts_db, reports):
    write_report(reports, "2026-10-30", [(3, 2, 1), (4, 2, 1)])
    path = reports / "course_engagement_2026-10-30.csv"
    path.write_text(path.read_text().replace(",4,2,1,", ",4,two,1,"))
    with pytest.raises(PageError, match=rf"{path}: line 3: column active_learners: 'two'"):
        write_page(marts_db, reports, DS)


def test_health_shows_the_latest_week_worst_first(marts_db, reports):
    data = page_data(marts_db, reports)
    assert [(h.course_id, h.health_status) for h in data.health] == [
        (4, "dormant"),  # dormant: fewer active last week first, then course id
        (5, "dormant"),
        (2, "steady"),
        (3, "new"),
        (1, "growing"),
    ]
    assert {h.week_start for h in data.health} == {dt.date(2026, 10, 26)}
    html = write_page(marts_db, reports, DS).read_text()
    assert "Week of 26 Oct 2026 (to the as-of date): 2 dormant, 1 steady, 1 new, 1 growing." in html
    statuses = re.findall(r'<span class="status" style="--status:[^"]+">(\w+)</span>', html)
    assert statuses == ["dormant", "dormant", "steady", "new", "growing"]
    assert "<td>+50.0%</td>" in html  # course 1's change against its baseline


def test_courses_are_ordered_by_engagement_with_their_category(marts_db, reports):
    data = page_data(marts_db, reports)
    assert [c.course_id for c in data.courses] == [3, 1, 5, 2, 4]
    html = write_page(marts_db, reports, DS).read_text()
    labels = re.findall(r'<text x="294" y="\d+" text-anchor="end">([^<]*)</text>', html)
    assert labels == [
        "Leading teams · (no category)",
        "Intro &lt;SQL&gt; &amp; more · Data Science",
        "Risk · Policy",
        "Cloud basics · Cloud Computing",
        "Empty course · Design",
    ]
    assert html.count('class="bar"') == 4  # the course without learners has no bar
    assert ">no learners</text>" in html


def test_data_quality_panel_counts_rejects_exclusions_and_freshness(marts_db, reports):
    data = page_data(marts_db, reports)
    assert data.rejects == (("raw_events.csv", 2), ("raw_users.csv", 1))
    assert data.exclusions == (("exact_duplicate", 12), ("id_conflict", 0), ("unknown_user", 7))
    assert data.counted_events == 1000
    assert data.last_event == dt.datetime(2026, 10, 30, 17, 5)
    html = write_page(marts_db, reports, DS).read_text()
    assert '<dd data-value="3">3</dd>' in html
    assert '<dd data-value="19">19 of 1,019 raw event rows (1,000 counted)</dd>' in html
    assert "<dd>30 Oct 2026 17:05 UTC</dd>" in html
    assert '<dd data-value="2026-10-31">31 Oct 2026, end of day UTC</dd>' in html
    assert "<tr><td>unknown user</td><td>7</td></tr>" in html


def test_activity_chart_covers_the_90_days_to_the_as_of_date(marts_db, reports):
    data = page_data(marts_db, reports)
    assert len(data.activity) == 90
    assert data.activity[0][0] == dt.date(2026, 8, 3)
    assert data.activity[-1] == (AS_OF, 1, 2, 123)  # day 123 from 1 Jul
    html = write_page(marts_db, reports, DS).read_text()
    assert html.count('class="series"') == 3
    assert "Monthly active learners peaked at 123 on 31 Oct 2026." in html


def test_every_chart_has_a_title_and_a_text_alternative(marts_db, reports):
    html = write_page(marts_db, reports, DS).read_text()
    charts = re.findall(r'<svg [^>]*role="img"[^>]*aria-labelledby="(\w+)-title \1-desc"', html)
    assert charts == ["activity", "retention", "courses"]
    for key in charts:
        assert re.search(rf'<title id="{key}-title">[^<]+</title><desc id="{key}-desc">', html)
    assert html.count("<summary>The numbers behind this chart</summary>") == 3
    assert html.count('class="cell"') == 5  # one per cohort x week


def test_the_page_is_self_contained(marts_db, reports):
    html = write_page(marts_db, reports, DS).read_text()
    assert "<script" not in html
    assert re.findall(r"\b(?:src|href)=", html) == []
    assert re.findall(r"https?://[^\"' ]+", html) == ["http://www.w3.org/2000/svg"] * 3


def test_a_rerun_writes_the_same_bytes_atomically_and_readable(marts_db, reports):
    first = write_page(marts_db, reports, DS)
    before = first.read_bytes()
    stale = reports / f".{first.name}.999999999.abc.tmp"  # a killed writer's leftover
    stale.write_text("half a page")
    assert write_page(marts_db, reports, DS).read_bytes() == before
    assert first.name == "course_engagement_2026-10-31.html"
    assert stat.S_IMODE(first.stat().st_mode) == 0o644
    assert sorted(p.name for p in reports.iterdir()) == [first.name]


def test_marts_built_for_another_date_publish_no_page(tmp_path, reports):
    path = tmp_path / "old.duckdb"
    write_marts(path, as_of=dt.date(2026, 10, 30))
    with pytest.raises(PageError, match="built as of 2026-10-30, not 2026-10-31"):
        write_page(path, reports, DS)
    assert list(reports.iterdir()) == []


def test_no_activity_yet_gives_a_page_that_says_so(marts_db, reports):
    with duckdb.connect(str(marts_db)) as con:
        con.execute("delete from analytics.mart_active_learners_daily")
        con.execute("delete from analytics.mart_cohort_retention_weekly")
        con.execute("update analytics.mart_course_engagement set last_activity = null")
    html = write_page(marts_db, reports, DS).read_text()
    assert "No counted event in the 90 days to the as-of date: nothing to chart." in html
    assert "No enrolment cohort yet: nothing to chart." in html
    assert "<dt>Freshness: last counted event</dt><dd>no counted event</dd>" in html
    assert html.count('role="img"') == 1  # the courses chart only
