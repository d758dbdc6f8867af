"""`course-engagement reconcile`: the comparison printed - agreement per metric, each
difference with its causes, the cause table ANALYSIS.md quotes, and the totals bridge.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from course_engagement.legacy.compare import BRIDGE_METRICS, Comparison, Difference, compare
from course_engagement.legacy.flaws import FLAWS, METRICS
from course_engagement.legacy.outputs import MART, ComparisonError
from course_engagement.settings import REPO_ROOT, Settings


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "present" if value else "missing"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _course(diff: Difference) -> str:
    name = "(no course)" if diff.course_id is None else f"course {diff.course_id}"
    return f"{name} {diff.course_title!r}" if diff.course_title else name


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def format_report(rec: Comparison, details: bool = True) -> str:
    """The agreement table, each difference with its causes, then the cause table.

    Without `details`, only UNEXPLAINED differences are listed one by one.
    """
    lines = [
        f"Legacy query ({_relative(rec.legacy_sql)}) vs {MART}",
        f"database {rec.db_path}, as_of_date {rec.as_of_date}",
        f"rows: legacy {rec.legacy_rows}, mart {rec.mart_rows}",
        "",
        f"{'metric':<48} {'agree':>6} {'compared':>9}",
    ]
    for result in rec.metrics:
        lines.append(f"{result.metric.title:<48} {result.agree:>6} {result.compared:>9}")
    lines.append("")
    for result in rec.metrics:
        shown = [d for d in result.differences if details or not d.explained]
        if not shown:
            continue
        lines.append(f"{result.metric.title}: {len(result.differences)} difference(s)")
        for diff in shown:
            lines.append(f"  {_course(diff)}: legacy {_show(diff.legacy)}, mart {_show(diff.mart)}")
            for cause in diff.causes:
                step = f"{_show(cause.before)} -> {_show(cause.after)}"
                lines.append(f"    - {cause.text} [{step}]")
        lines.append("")
    lines += format_cause_table(rec)
    lines += format_bridge(rec)
    unexplained = rec.unexplained
    lines.append(
        f"UNEXPLAINED differences: {len(unexplained)}"
        if unexplained
        else f"All {len(rec.differences)} differences are explained by a known legacy flaw."
    )
    return "\n".join(lines)


def format_cause_table(rec: Comparison) -> list[str]:
    """Courses whose difference each flaw moved, per metric: the summary ANALYSIS.md quotes."""
    counts = rec.cause_counts()
    if not counts:
        return []
    headers = [m.short for m in METRICS]
    rows = [(flaw.key, flaw.short) for flaw in FLAWS]
    if any(flaw == "UNEXPLAINED" for _, flaw in counts):
        rows.append(("UNEXPLAINED", "UNEXPLAINED"))
    width = max(len(label) for _, label in rows)
    lines = [
        "Courses whose difference each cause explains (a course can have several causes):",
        f"  {'cause':<{width}} " + " ".join(f"{h:>9}" for h in headers),
    ]
    for key, label in rows:
        cells = [counts.get((m.key, key), 0) for m in METRICS]
        if any(cells):
            lines.append(f"  {label:<{width}} " + " ".join(f"{c or '.':>9}" for c in cells))
    lines.append("")
    return lines


def format_bridge(rec: Comparison) -> list[str]:
    """Totals over all courses as each flaw is removed: how legacy's totals become the mart's."""
    width = max(len(step.label) for step in rec.bridge)
    headers = [next(m.short for m in METRICS if m.key == key) for key in BRIDGE_METRICS]
    lines = [
        "Totals over all courses as each flaw is removed in turn:",
        f"  {'step':<{width}} {'rows':>5} " + " ".join(f"{h:>9}" for h in headers),
    ]
    for step in rec.bridge:
        cells = " ".join(f"{step.totals[key]:>9}" for key in BRIDGE_METRICS)
        lines.append(f"  {step.label:<{width}} {step.rows:>5} {cells}")
    lines.append("")
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(
            "Run the legacy course engagement query and read analytics.mart_course_engagement "
            "on the same DuckDB database (read-only), report per metric how many courses agree "
            "and name the cause of every difference. Exits 1 if any difference is UNEXPLAINED."
        ),
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="DuckDB database holding raw.* and the mart (default: COURSE_ENGAGEMENT_DB, "
        "else mock_data.duckdb in the repo root)",
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="print the two tables only (and any UNEXPLAINED difference), not every course",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    db_path = args.db.expanduser().resolve() if args.db else Settings.from_env().db_path
    try:
        rec = compare(db_path)
    except ComparisonError as exc:
        print(f"reconcile: error: {exc}", file=sys.stderr)
        return 2
    print(format_report(rec, details=not args.summary))
    return 1 if rec.unexplained else 0


if __name__ == "__main__":
    raise SystemExit(main())
