"""An incremental build on one more day of events gives exactly the marts of a full refresh.

The committed sample's last day (the manifest's end_date) is held back as
`raw_events_<end_date>.csv`, together with the events a real day brings besides its own:
late events of earlier days (moved out of history; one five months late), exact duplicates
of events already loaded (one of them from the same day), and conflicting payloads of events
already loaded - one that wins on session id, one that moves its event to an earlier day
(leaving a learner's day empty), one that moves it to another learner, and one that loses.

The incremental database is built on history (as of the day before), then, after
`load --append` of the day file (load batch 2), the way the DAG builds it - one `dbt build`
per layer, every data test included, checking the new batch - as of end_date. Before that
build, its compiled SQL is replayed under DuckDB's profiler: no model or test may read more
raw event rows than the day file holds. A fresh database loaded with everything (the full
load reads the day file from the data directory) is built with `--full-refresh`. The three
marts must match on every column, both ways; so must the incremental models (but for their
bookkeeping columns). The incremental run must have changed exactly the ids of the day file,
merged into the tables rather than rebuilt them.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dbt_harness import LAYERS, MART_KEYS, REPO_ROOT, CommandResult, DbtRun

from course_engagement.ingest.load_cli import main
from course_engagement.ingest.loader import load
from course_engagement.orchestration.scan_profile import build_reads, rows_scanned

SAMPLE_DIR = REPO_ROOT / "data"
MANIFEST = json.loads((SAMPLE_DIR / "manifest.json").read_text())
END = dt.date.fromisoformat(MANIFEST["end_date"])
DAY_BEFORE = END - dt.timedelta(days=1)
DAY_FILE = f"raw_events_{END.isoformat()}.csv"
MARTS = tuple(MART_KEYS)
# the conformed core the marts read (models/intermediate/core), rebuilt every run
CORE = ("dim_courses", "dim_users", "fct_enrolments")
# each incremental model, and its bookkeeping columns (how a row got there, not what it says)
INCREMENTAL = {
    "int_events__deduplicated": (
        "payload_change",
        "previous_load_batch_id",
        "previous_exact_duplicate_row_count",
        "previous_conflicting_payload_count",
        "replaced_user_id",
        "replaced_course_id",
        "replaced_event_type",
        "replaced_event_at",
    ),
    "int_user_course__daily_activity": ("load_batch_id",),
    "int_user_course__activity_totals": ("load_batch_id",),
    "int_load_batches__event_rows": (),
    "int_events__date_counts": ("load_batch_id",),
    "fct_learner_course_days": ("load_batch_id", "changed_at", "is_removed"),
}
# the models whose daily reads of stored rows are bounded (each replayed under the profiler
# on a copy of the database in the state the layer build gives it: see _stored_rows_read)
DEDUP_READERS = (
    "int_user_course__daily_activity",
    "int_user_course__activity_totals",
    "int_events__date_counts",
)
# rows of an incremental model that are bookkeeping only: removed learner-day markers
MARKERS = {"fct_learner_course_days": "not is_removed"}
DAY_BATCH = 2  # the history file is load batch 1
ID, USER, COURSE, TYPE, AT, SESSION = range(6)
LATE_DAYS_AGO = (1, 7, 150)  # one late event from each of these days before end_date
DUPLICATED_DAYS_AGO = (2, 200)  # one exact duplicate of an event of each of these days


def _date(row: list[str]) -> dt.date | None:
    return dt.date.fromisoformat(row[AT][:10]) if row[AT] else None


def _as_of(day: dt.date, **extra: object) -> list[str]:
    # per command, not per session: both sessions on the incremental database then parse with
    # the same vars, and the second reuses the first one's parse (seconds saved)
    return ["--vars", json.dumps({"as_of_date": day.isoformat(), **extra})]


def _daily_vars(day: dt.date) -> list[str]:
    # as the DAG passes them: data tests check the batches this run brings
    return _as_of(day, data_tests_from_load_batch=DAY_BATCH)


def _layer_builds(day: dt.date) -> list[list[str]]:
    """The DAG's build of each layer (dbt_runner.build_command), but for unit tests, which
    need no data (the sample build in tests/conftest.py runs them)."""
    return [
        [
            *("build", "--select", f"path:models/{layer}", "--indirect-selection", "buildable"),
            *("--exclude", "test_type:unit", *_daily_vars(day)),
        ]
        for layer in LAYERS
    ]


def _write_events(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _first_of_day(rows: list[list[str]], day: dt.date) -> int:
    """The index of the first row of `day` (an index: a row may have an identical twin)."""
    return next(i for i, row in enumerate(rows) if _date(row) == day)


def _shifted(row: list[str], **changes: object) -> list[str]:
    """A conflicting payload of `row`: same id, some fields changed (at: a timedelta)."""
    new = list(row)
    if "at" in changes:
        at = dt.datetime.fromisoformat(row[AT]) + changes["at"]
        new[AT] = at.strftime("%Y-%m-%d %H:%M:%S")
    if "user" in changes:
        new[USER] = str(changes["user"])
    if "session" in changes:
        new[SESSION] = str(changes["session"])
    return new


@dataclass(frozen=True)
class Scenario:
    incremental: DbtRun
    fresh: DbtRun
    history_rows: int
    day_rows: int
    day_ids: set[int]
    exact_duplicates: int
    conflicts: int
    emptied_key: tuple[int, int, dt.date]  # a learner-day whose only event moved away
    replaced_days: set[dt.date]  # the days of the payloads the conflicts replaced
    builds: list[CommandResult]
    raw_rows_read: dict[str, int]  # per model and test of the daily build
    stored_rows_read: dict[str, int]  # per model of DEDUP_READERS, the activity model, the
    # event reconciliation


def _conflicts(
    history: list[list[str]],
) -> tuple[list[list[str]], tuple[int, int, dt.date], set[dt.date]]:
    """Conflicting payloads of events delivered once, by users enrolled (not cancelled) in the
    course, so that the events they touch are most likely counted ones. Also returns the
    learner-day the first payload empties, and the days of the payloads the winners replace."""
    with (SAMPLE_DIR / "raw_enrolments.csv").open(newline="") as handle:
        _, *enrolments = csv.reader(handle)
    enrolled: dict[str, list[str]] = {}
    for _, user, course, _, status in enrolments:
        if status in ("active", "completed") and user not in enrolled.setdefault(course, []):
            enrolled[course].append(user)
    deliveries = Counter(row[ID] for row in history)
    days = Counter((row[USER], row[COURSE], _date(row)) for row in history)
    candidates = [
        row
        for row in history
        if deliveries[row[ID]] == 1
        and row[AT]
        and row[SESSION]
        and row[USER] in enrolled.get(row[COURSE], [])
    ]
    alone = next(  # the only event of its learner-day
        row
        for row in candidates
        if days[row[USER], row[COURSE], _date(row)] == 1
        and _date(row) < END - dt.timedelta(days=20)
    )
    rest = [row for row in candidates if row is not alone]
    winner, loser, moved = rest[0], rest[1], rest[-1]
    other_learner = next(user for user in enrolled[moved[COURSE]] if user != moved[USER])
    payloads = [
        _shifted(alone, at=dt.timedelta(days=-3)),  # three days earlier: its day is left empty
        _shifted(moved, user=other_learner, at=dt.timedelta(hours=-1)),  # to another learner
        _shifted(winner, session="0-" + winner[SESSION]),  # same time, sorts first: wins
        _shifted(loser, at=dt.timedelta(hours=1)),  # later: the stored payload stays
    ]
    replaced_days = {_date(row) for row in (alone, moved, winner)}  # the loser replaces none
    return payloads, (int(alone[USER]), int(alone[COURSE]), _date(alone)), replaced_days


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("incremental")
    with (SAMPLE_DIR / "raw_events.csv").open(newline="") as handle:
        header, *rows = csv.reader(handle)
    late_rows = {_first_of_day(rows, END - dt.timedelta(days=n)) for n in LATE_DAYS_AGO}
    late = [rows[i] for i in sorted(late_rows)]
    today = [row for row in rows if _date(row) == END]
    history = [row for i, row in enumerate(rows) if _date(row) != END and i not in late_rows]
    conflicts, emptied_key, replaced_days = _conflicts(history)
    duplicates = [
        rows[_first_of_day(rows, END - dt.timedelta(days=n))] for n in DUPLICATED_DAYS_AGO
    ]
    duplicates.append(today[0])  # delivered twice in its own day
    last_id = max(int(row[ID]) for row in rows)
    new_ids = [
        [str(last_id + 1), *today[0][USER:AT], "", "s-new", ""],  # no timestamp
        [str(last_id + 2), *today[0][USER:AT], f"{END + dt.timedelta(days=2)} 08:00:00", "s", ""],
    ]
    day = [*today, *late, *duplicates, *conflicts, *new_ids]

    data_dir = root / "data"
    data_dir.mkdir()
    for name in ("raw_users.csv", "raw_courses.csv", "raw_enrolments.csv"):
        shutil.copyfile(SAMPLE_DIR / name, data_dir / name)
    _write_events(data_dir / "raw_events.csv", header, history)
    day_file = _write_events(root / DAY_FILE, header, day)
    incremental = DbtRun(root / "incremental.duckdb", root / "incremental")
    load(data_dir, incremental.db_path)  # history only
    shutil.copyfile(day_file, data_dir / DAY_FILE)  # where a full reload finds it
    fresh = DbtRun(root / "fresh.duckdb", root / "fresh")
    load(data_dir, fresh.db_path)  # history, then the day file

    def build_incrementally() -> tuple[list[CommandResult], dict[str, int]]:
        # history: every model (its tests run in the incremental builds)
        incremental.dbt(["seed"], ["run", *_as_of(DAY_BEFORE)])  # seeds: `dbt run` skips them
        assert main(["--db", str(incremental.db_path), "--append", str(day_file)]) == 0
        incremental.dbt(["compile", "--exclude", "test_type:unit", *_daily_vars(END)])
        reads = build_reads(incremental.target_path / "manifest.json", incremental.db_path)
        return incremental.dbt(*_layer_builds(END)), reads

    # two databases, two dbt processes at once; the fresh one only needs its models
    with ThreadPoolExecutor(max_workers=2) as pool:
        incremental_run = pool.submit(build_incrementally)
        fresh_run = pool.submit(fresh.dbt, ["seed"], ["run", "--full-refresh", *_as_of(END)])
        builds, reads = incremental_run.result()
        fresh_run.result()

    return Scenario(
        incremental=incremental,
        fresh=fresh,
        history_rows=len(history),
        day_rows=len(day),
        day_ids={int(row[ID]) for row in day},
        exact_duplicates=len(duplicates),
        conflicts=len(conflicts),
        emptied_key=emptied_key,
        replaced_days=replaced_days,
        builds=builds,
        raw_rows_read=reads,
        stored_rows_read=_stored_rows_read(incremental),
    )


def _stored_rows_read(run: DbtRun) -> dict[str, int]:
    """Stored rows each model read in the daily build: its SQL as the intermediate build
    compiled it (a model compiles just before it runs), replayed under DuckDB's profiler on
    the tables it read, which no later model changes. The dedup model's rows for the readers
    of its changes and the event reconciliation, the daily model's for the pair activity."""
    compiled = run.target_path / "compiled" / "course_engagement" / "models"
    tables = {f"intermediate/{model}": "int_events__deduplicated" for model in DEDUP_READERS}
    tables["intermediate/int_user_course__activity"] = "int_user_course__daily_activity"
    tables["marts/mart_event_reconciliation"] = "int_events__deduplicated"
    return {
        path.split("/")[1]: rows_scanned(
            run.db_path, (compiled / f"{path}.sql").read_text(), f"analytics.{table}"
        )
        for path, table in tables.items()
    }


def recomputed(run: DbtRun, model: str) -> dict[str, int]:
    """What the model's last incremental build logged it recomputes ({'dates': 35}, ...);
    empty when it has not run incrementally since its last full rebuild."""
    lines = (run.run_dir / "logs" / "dbt.log").read_text().splitlines()
    logged: dict[str, int] = {}
    for line in lines:
        if f'{model}": no usable watermark' in line:
            logged = {}
        found = re.search(f'{model}": incremental, recomputing ([0-9]+) ([a-z ]+)', line)
        if found:
            logged[found[2]] = int(found[1])
    return logged


def _difference(scenario: Scenario, table: str, exclude: tuple[str, ...] = ()) -> list[int]:
    """Rows of `table` in the incremental database but not the fresh one, and the reverse
    (but for bookkeeping: `exclude`d columns, MARKERS rows)."""
    columns = "*" + (f" exclude ({', '.join(exclude)})" if exclude else "")
    with duckdb.connect() as con:
        con.execute(f"attach '{scenario.incremental.db_path}' as incremental (read_only)")
        con.execute(f"attach '{scenario.fresh.db_path}' as fresh (read_only)")
        select = "select {} from {}.analytics.{}" + f" where {MARKERS.get(table, 'true')}"
        return [
            con.execute(
                f"select count(*) from ({select.format(columns, a, table)} "
                f"except all {select.format(columns, b, table)})"
            ).fetchone()[0]
            for a, b in (("incremental", "fresh"), ("fresh", "incremental"))
        ]


@pytest.mark.parametrize("mart", MARTS)
def test_incremental_build_gives_the_marts_of_a_full_refresh(scenario: Scenario, mart: str):
    assert _difference(scenario, mart) == [0, 0]


@pytest.mark.parametrize("model", CORE)
def test_incremental_build_gives_the_core_of_a_full_refresh(scenario: Scenario, model: str):
    assert _difference(scenario, model) == [0, 0]


@pytest.mark.parametrize("model", INCREMENTAL)
def test_incremental_models_equal_a_full_refresh_but_for_bookkeeping(scenario, model):
    assert _difference(scenario, model, exclude=INCREMENTAL[model]) == [0, 0]


def test_the_daily_build_reads_no_more_raw_events_than_the_day_file_holds(scenario: Scenario):
    # DuckDB's profiler on the build's compiled SQL: each reader of raw.events scans the new
    # batch's rows only (the batch filter prunes history's row groups from their statistics)
    reads = scenario.raw_rows_read
    assert reads["model.course_engagement.int_events__deduplicated"] == scenario.day_rows
    assert reads["model.course_engagement.int_load_batches__event_rows"] == scenario.day_rows
    assert max(reads.values()) == scenario.day_rows
    # the rest are the base layer's event-grain tests, scoped to the batch
    others = set(reads) - {
        "model.course_engagement.int_events__deduplicated",
        "model.course_engagement.int_load_batches__event_rows",
    }
    assert others and all("_base_raw__events_" in node for node in others), others


def test_the_pair_totals_read_the_day_files_rows_of_the_deduplicated_events_only(scenario):
    # the batch filter on load_batch_id: history's row groups are skipped from their statistics
    assert scenario.stored_rows_read["int_user_course__activity_totals"] == len(scenario.day_ids)


def test_the_event_reconciliation_reads_the_changed_deduplicated_events_only(scenario):
    # its date counts apply the day file's changes (the batch filter, as the pair totals);
    # the mart reads those counts, never the events
    reads = scenario.stored_rows_read
    assert reads["int_events__date_counts"] == len(scenario.day_ids)
    assert reads["mart_event_reconciliation"] == 0


def test_the_daily_model_recounts_only_the_days_of_the_replaced_payloads(scenario: Scenario):
    # the recount reads the deduplicated events of these dates only, as literal ranges DuckDB
    # prunes with zone maps (the sample is one row group, so here it reads them all: the
    # benchmark measures the pruning at scale); one of them is a day far in the past
    compiled = scenario.incremental.target_path / "compiled" / "course_engagement" / "models"
    sql = (compiled / "intermediate" / "int_user_course__daily_activity.sql").read_text()
    recount = sql[sql.index("recount_events as (") : sql.index("recounted as (")]
    bounds = [dt.date.fromisoformat(day) for day in re.findall(r"'([0-9-]{10})'", recount)]
    days = {
        first + dt.timedelta(days=n)
        for first, after in zip(bounds[::2], bounds[1::2], strict=True)
        for n in range((after - first).days)
    }
    assert days == scenario.replaced_days
    assert min(days) < END - dt.timedelta(days=20)


def test_the_day_file_changed_the_marts(scenario: Scenario):
    # every raw row is accounted for, and the day's duplicates and conflicts are counted
    reasons = dict(
        scenario.incremental.query(
            "select reason, event_rows from analytics.mart_event_reconciliation"
        )
    )
    assert sum(reasons.values()) == scenario.history_rows + scenario.day_rows
    assert scenario.history_rows + scenario.day_rows == 20000 + 3 + 4 + 2
    assert (reasons["exact_duplicate"], reasons["id_conflict"]) == (200 + 3, 200 + 4)
    assert scenario.exact_duplicates == 3 and scenario.conflicts == 4
    (as_of,) = scenario.incremental.query(
        "select distinct as_of_date from analytics.mart_course_engagement"
    )
    assert as_of == (END,)


def test_incremental_run_changed_exactly_the_day_files_event_ids(scenario: Scenario):
    written = scenario.incremental.query(
        "select event_id, payload_change from analytics.int_events__deduplicated "
        f"where load_batch_id = {DAY_BATCH}"
    )
    assert {event_id for event_id, _ in written} == scenario.day_ids
    # ids stored before were compared with what they held, so the table was merged into, not
    # rebuilt: two late exact duplicates and the losing payload left the kept payload as it
    # was; the three winning payloads replaced theirs
    changes = Counter(change for _, change in written)
    assert (changes["same_payload"], changes["new_payload"]) == (3, 3)
    (total,) = scenario.incremental.query("select count(*) from analytics.int_events__deduplicated")
    # 70-odd ids of about 19,600: the run did not recompute history
    assert len(written) == len(scenario.day_ids) < total[0] / 100


def test_incremental_run_rewrote_a_small_part_of_the_daily_model(scenario: Scenario):
    (written, total) = scenario.incremental.query(
        f"select count(*) filter (where load_batch_id = {DAY_BATCH}), count(*) "
        "from analytics.int_user_course__daily_activity"
    )[0]
    assert 0 < written < total / 50


def _rows_written(run: DbtRun, mart: str) -> tuple[int, int]:
    """Rows the mart's last run wrote (its watermark's bookkeeping), and the rows it holds."""
    return run.query(
        "select (select rows_written from analytics.incremental_watermarks "
        f"where model_name = '{mart}'), (select count(*) from analytics.{mart})"
    )[0]


def test_incremental_run_recomputed_a_small_part_of_the_course_health_mart(scenario: Scenario):
    # the incremental path: the weeks the day's learner-days reach, and the week of the old
    # as_of_date; a full rebuild would write every row
    written, total = _rows_written(scenario.incremental, "mart_course_health_weekly")
    assert 0 < written < total / 10


def test_the_daily_run_recomputed_the_dates_its_changed_days_reach_only(scenario: Scenario):
    (dates,) = scenario.incremental.query(
        "select count(*) from analytics.mart_active_learners_daily"
    )[0]
    # the dates 30 days on from the late, re-delivered and moved events' days, of 368
    assert recomputed(scenario.incremental, "mart_active_learners_daily") == {"dates": 71}
    assert dates == 368


def test_the_daily_run_recomputed_the_weeks_its_changed_days_fall_in_only(scenario: Scenario):
    (weeks,) = scenario.incremental.query(
        "select count(distinct weeks_since_enrolment) from analytics.mart_cohort_retention_weekly"
    )[0]
    # the weeks of the changed days, of 78; no cohort's members changed
    assert recomputed(scenario.incremental, "mart_cohort_retention_weekly") == {
        "weeks of every cohort": 4,
        "cohorts in every week": 0,
    }
    assert weeks == 78


def test_a_learner_day_whose_only_event_moved_away_is_gone(scenario: Scenario):
    user_id, course_id, day = scenario.emptied_key
    rows = scenario.incremental.query(
        "select count(*) from analytics.int_user_course__daily_activity "
        f"where user_id = {user_id} and course_id = {course_id} and activity_date = '{day}'"
    )
    assert rows == [(0,)]


def test_each_layer_builds_incrementally_and_every_test_passes(scenario: Scenario):
    # the first build of each layer, tables absent, is tests/dbt/test_dbt_mart_fixture.py's
    builds = [c for c in scenario.builds if c.args[0] == "build"]
    assert [c.args[2] for c in builds] == [f"path:models/{layer}" for layer in LAYERS]
    for build in builds:
        statuses = {n: s for n, s in build.statuses.items() if "exposure" not in n}
        assert statuses, f"{build.args} selected nothing"
        assert set(statuses.values()) <= {"success", "pass"}, statuses


EARLIER = END - dt.timedelta(days=60)
# the pair activity as of EARLIER, summed from the daily model's days: each pair with a day,
# and the learners' counted activity (the quiz and video lists of dbt_project.yml)
DAYS_UP_TO = """
select
    user_id,
    course_id,
    coalesce(sum(event_count) filter (where activity_date <= $day), 0),
    coalesce(sum(event_count) filter (where activity_date > $day), 0),
    coalesce(sum(unknown_type_count) filter (where activity_date <= $day), 0)
from analytics.int_user_course__daily_activity
group by user_id, course_id
"""
LEARNER_DAYS_UP_TO = """
select
    user_id,
    course_id,
    coalesce(sum(quiz_submit_count), 0),
    coalesce(sum(video_complete_count), 0),
    min(first_event_at),
    max(last_event_at)
from analytics.int_user_course__daily_activity
semi join (
    select user_id, course_id from analytics.int_user_course__activity where is_learner
) using (user_id, course_id)
where activity_date <= $day
group by user_id, course_id
"""


@pytest.fixture(scope="module")
def earlier(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """The incremental database, built as of end_date, then its pair activity as of a date
    60 days before (a backfill of an earlier date after a later one)."""
    root = tmp_path_factory.mktemp("earlier")
    run = DbtRun(root / "earlier.duckdb", root / "earlier")
    shutil.copyfile(scenario.incremental.db_path, run.db_path)
    run.dbt(["run", "--select", "int_user_course__activity", *_as_of(EARLIER)])
    return run


def test_the_pair_activity_as_of_an_earlier_date_is_the_sum_of_its_days_up_to_it(earlier):
    with duckdb.connect(str(earlier.db_path), read_only=True) as con:
        days = con.execute(DAYS_UP_TO, {"day": EARLIER}).fetchall()
        learner_days = con.execute(LEARNER_DAYS_UP_TO, {"day": EARLIER}).fetchall()
        activity = con.execute(
            "select user_id, course_id, event_count, future_event_count, unknown_type_count "
            "from analytics.int_user_course__activity where event_count + future_event_count > 0"
        ).fetchall()
        counted = con.execute(
            "select user_id, course_id, quizzes_completed, videos_completed, "
            "first_activity_at, last_activity_at from analytics.int_user_course__activity "
            "where counted_event_count > 0"
        ).fetchall()
    assert sorted(activity) == sorted(days)
    assert sorted(counted) == sorted(learner_days)
    # the paths this date takes: pairs with days on both sides of it, and pairs whose only
    # days are after it (no event up to it, no first or last activity)
    both_sides = [row for row in days if row[2] > 0 and row[3] > 0]
    only_after = [row for row in days if row[2] == 0]
    assert (len(both_sides), len(only_after)) == (635, 535)  # of the committed sample
    (only_after_learners,) = earlier.query(
        "select count(*) from analytics.int_user_course__activity "
        "where event_count = 0 and future_event_count > 0 and is_learner "
        "and first_activity_at is null and last_activity_at is null"
    )
    assert only_after_learners[0] == 430
