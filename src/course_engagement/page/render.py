"""The daily page as one self-contained HTML document: inline CSS and SVG, no script, no link.

Numbers are formatted for people here and only here (`count`, `percent`, `change`, `day`);
`data-value` attributes keep the exact figures for machines (the browser test reads them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from html import escape
from pathlib import Path

from course_engagement.page import charts
from course_engagement.page.data import HEALTH_ORDER, PageData
from course_engagement.publishing.export import CONTROL_CHARACTERS, REPLACEMENT_CHARACTER

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
STATUS_COLOURS = {
    "dormant": "#000",
    "declining": "#D55E00",
    "steady": "#56B4E9",
    "new": "#CC79A7",
    "growing": "#009E73",
}
NO_PREVIOUS = "no earlier report to compare with"
MINUS, NOTHING = "\u2212", "\u2013"  # a real minus sign; an en dash for "no value"
STYLE = Path(__file__).with_name("page.css")


def count(value: int) -> str:
    return f"{value:,}"


def percent(value: float | None) -> str:
    return NOTHING if value is None else f"{value * 100:.1f}%"


def day(value: dt.date) -> str:
    """`31 Oct 2026`, whatever the process locale."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def moment(value: dt.datetime | None) -> str:
    return "no counted event" if value is None else f"{day(value)} {value:%H:%M} UTC"


def _signed(value: float, text: str) -> str:
    return f"+{text}" if value > 0 else (f"{MINUS}{text.lstrip('-')}" if value < 0 else text)


def change(current: int, previous: int) -> str:
    """`+12 (+1.3%)`, `-5 (-0.4%)` (minus signs), `no change`; `+7 (from 0)` after nothing."""
    delta = current - previous
    if delta == 0:
        return "no change"
    share = "from 0" if previous == 0 else _signed(delta, f"{abs(delta) / previous * 100:.1f}%")
    return f"{_signed(delta, count(abs(delta)))} ({share})"


def rate_change(current: float | None, previous: float | None) -> str:
    if current is None or previous is None:
        return "no rate to compare"
    points = round((current - previous) * 100, 1)
    return "no change" if points == 0 else f"{_signed(points, f'{abs(points):.1f}')} points"


def text(value: object) -> str:
    """Escaped for HTML, control characters shown as U+FFFD (as the CSV report does)."""
    return escape(re.sub(CONTROL_CHARACTERS, REPLACEMENT_CHARACTER, str(value)))


def _table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th scope='col'>{text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><caption>{text(caption)}</caption><thead><tr>{head}</tr></thead>{body}</table>"


def _figure(svg: str, caption: str, table: str) -> str:
    return (
        f"<figure>{svg}<figcaption>{text(caption)}</figcaption>"
        f"<details><summary>The numbers behind this chart</summary>{table}</details></figure>"
    )


def _headline(data: PageData) -> str:
    now, previous = data.headline, data.previous
    before = previous.headline if previous else None
    since = f" since {day(previous.report_date)}" if previous else ""
    figures = (
        ("learners", "Learners", now.learners, count(now.learners), "learners"),
        (
            "active_learners_30d",
            "Active in the last 30 days",
            now.active_learners_30d,
            count(now.active_learners_30d),
            "active_learners_30d",
        ),
        (
            "engagement_rate",
            "Engagement rate",
            now.engagement_rate,
            percent(now.engagement_rate),
            None,
        ),
    )
    cards = []
    for key, label, value, shown, column in figures:
        if before is None:
            delta = NO_PREVIOUS
        elif column is None:
            delta = rate_change(now.engagement_rate, before.engagement_rate) + since
        else:
            delta = change(getattr(now, column), getattr(before, column)) + since
        exact = "" if value is None else repr(value)
        cards.append(
            f'<div class="figure" data-metric="{key}" data-value="{exact}">'
            f'<p class="label">{label}</p><p class="value">{shown}</p>'
            f'<p class="change">{text(delta)}</p></div>'
        )
    basis = (
        f"Compared with the report of {day(previous.report_date)} ({text(previous.path.name)})."
        if previous
        else "This is the first published report in its folder: there is nothing to compare with."
    )
    return (
        '<section id="headline" aria-labelledby="headline-h"><h2 id="headline-h">Headline</h2>'
        f'<div class="figures">{"".join(cards)}</div><p class="note">Learners and active learners '
        "are summed over courses (someone in two courses counts twice); the engagement rate is "
        f"active learners / learners over all courses. {basis}</p></section>"
    )


def _activity(data: PageData) -> str:
    if not data.activity:
        return "<p>No counted event in the 90 days to the as-of date: nothing to chart.</p>"
    dates = [row[0] for row in data.activity]
    names = ("Daily active", "Weekly active (7 days)", "Monthly active (30 days)")
    series = [(name, [row[i + 1] for row in data.activity]) for i, name in enumerate(names)]
    last = data.activity[-1]
    peak = max(data.activity, key=lambda row: (row[3], row[0]))
    desc = (
        f"Active learners each day from {day(dates[0])} to {day(dates[-1])}. On the last day: "
        f"{count(last[1])} daily, {count(last[2])} weekly and {count(last[3])} monthly active "
        f"learners. Monthly active learners peaked at {count(peak[3])} on {day(peak[0])}."
    )
    labels = [f"{d.day} {MONTHS[d.month - 1]}" for d in dates]
    svg = charts.line_chart("activity", "Active learners, last 90 days", desc, labels, series)
    table = _table(
        "Active learners by day",
        ("Date", *names),
        [(day(d), count(a), count(w), count(m)) for d, a, w, m in data.activity],
    )
    return _figure(svg, desc, table)


def _retention(data: PageData) -> str:
    if not data.retention:
        return "<p>No enrolment cohort yet: nothing to chart.</p>"
    cohorts = sorted({row[0] for row in data.retention})
    index = {cohort: i for i, cohort in enumerate(cohorts)}
    weeks = max(row[1] for row in data.retention) + 1
    cells = [
        (
            index[cohort],
            week,
            rate,
            f"cohort of {day(cohort)}, week {week}: {percent(rate)} ({count(active)} of "
            f"{count(size)})",
        )
        for cohort, week, size, active, rate in data.retention
    ]
    week_one = [row[4] for row in data.retention if row[1] == 1]
    average = sum(week_one) / len(week_one) if week_one else None
    desc = (
        f"Share of each weekly enrolment cohort active in each week since enrolment, "
        f"{len(cohorts)} cohorts from {day(cohorts[0])} to {day(cohorts[-1])}. "
        f"Week 1 retention averages {percent(average)} over the cohorts that have reached it. "
        "Darker is lower, yellow is higher."
    )
    svg = charts.heatmap(
        "retention",
        "Weekly cohort retention",
        desc,
        [day(c) for c in cohorts],
        weeks,
        cells,
    )
    table = _table(
        "Retention by cohort and week since enrolment",
        ("Cohort week", "Week since", "Cohort learners", "Active", "Retention"),
        [(day(c), w, count(s), count(a), percent(r)) for c, w, s, a, r in data.retention],
    )
    return _figure(svg, desc, table)


def _courses(data: PageData) -> str:
    categories = sorted({c.category for c in data.courses if c.category})
    palette = charts.OKABE_ITO
    colour = {category: palette[i % len(palette)] for i, category in enumerate(categories)}
    bars = [
        (
            f"{c.title} · {c.category or '(no category)'}",
            c.engagement_rate,
            percent(c.engagement_rate) if c.learners else "no learners",
            colour.get(c.category, charts.NO_CATEGORY_COLOUR),
        )
        for c in data.courses
    ]
    rated = [c for c in data.courses if c.engagement_rate is not None]
    desc = (
        f"Engagement rate of each of the {len(data.courses)} courses, highest first, labelled "
        "with its category (bar colour also shows the category; grey: none)."
        + (
            f" Highest: {rated[0].title} at {percent(rated[0].engagement_rate)}; lowest: "
            f"{rated[-1].title} at {percent(rated[-1].engagement_rate)}."
            if rated
            else " No course has learners yet."
        )
    )
    svg = charts.bar_chart("courses", "Courses by engagement rate", desc, bars)
    table = _table(
        "Courses by engagement rate",
        ("Course", "Category", "Learners", "Active", "Active 30 days", "Engagement"),
        [
            (
                text(c.title),
                text(c.category or "(no category)"),
                count(c.learners),
                count(c.active_learners),
                count(c.active_learners_30d),
                percent(c.engagement_rate),
            )
            for c in data.courses
        ],
    )
    return _figure(svg, desc, table)


def _health(data: PageData) -> str:
    if not data.health:
        return "<p>No course health week yet.</p>"
    tally = Counter(h.health_status for h in data.health)
    summary = ", ".join(f"{tally[s]} {s}" for s in HEALTH_ORDER if tally[s])
    rows = [
        (
            f'<span class="status" style="--status:{STATUS_COLOURS.get(h.health_status, "#777")}">'
            f"{text(h.health_status)}</span>",
            text(h.title),
            text(h.category or "(no category)"),
            count(h.active_learners),
            count(h.active_learners_previous_week),
            NOTHING
            if h.active_learners_change is None
            else _signed(h.active_learners_change, percent(abs(h.active_learners_change))),
            count(h.active_learners_30d),
        )
        for h in data.health
    ]
    return (
        f"<p>Week of {day(data.health[0].week_start)} (to the as-of date): {summary}. "
        "Worst first: "
        + ", ".join(HEALTH_ORDER)
        + ".</p>"
        + _table(
            "Course health this week",
            (
                "Status",
                "Course",
                "Category",
                "Active this week",
                "Active last week",
                "Change vs 4-week baseline",
                "Active 30 days",
            ),
            rows,
        )
    )


def _quality(data: PageData) -> str:
    rejected = sum(n for _, n in data.rejects)
    excluded = sum(n for _, n in data.exclusions)
    rejects = _table(
        "Rows rejected at load, by file",
        ("File", "Rejected lines"),
        [(text(name), count(n)) for name, n in data.rejects] or [("none", "0")],
    )
    exclusions = _table(
        "Raw event rows not counted, by reason",
        ("Reason", "Event rows"),
        [(text(reason.replace("_", " ")), count(n)) for reason, n in data.exclusions],
    )
    return (
        '<dl class="quality">'
        f'<dt>As of</dt><dd data-value="{data.as_of.isoformat()}">{day(data.as_of)}, end of day '
        "UTC</dd>"
        f"<dt>Freshness: last counted event</dt><dd>{moment(data.last_event)}</dd>"
        f'<dt>Rows rejected at load</dt><dd data-value="{rejected}">{count(rejected)}</dd>'
        f'<dt>Event rows excluded</dt><dd data-value="{excluded}">{count(excluded)} of '
        f"{count(excluded + data.counted_events)} raw event rows ({count(data.counted_events)} "
        f"counted)</dd></dl>{rejects}{exclusions}"
    )


def render_page(data: PageData) -> str:
    as_of = day(data.as_of)
    sections = (
        ("activity", "Active learners", _activity(data)),
        ("retention", "Cohort retention", _retention(data)),
        ("courses", "Courses by engagement", _courses(data)),
        ("health", "Course health", _health(data)),
        ("quality", "Data quality", _quality(data)),
    )
    body = "".join(
        f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{title}</h2>'
        f"{content}</section>"
        for key, title, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # nothing may be fetched: no script, no remote font, image or style
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>Course engagement, {as_of}</title><style>{STYLE.read_text()}</style></head>"
        f"<body><header><h1>Course engagement</h1><p>As of {as_of} (end of day, UTC). "
        "Metric definitions: the dbt docs site (<code>course-engagement docs</code>).</p>"
        f"</header><main>{_headline(data)}{body}</main></body></html>\n"
    )
