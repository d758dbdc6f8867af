"""The generator: determinism, the manifest's counts recounted from the files, realistic shape.

The recount is an independent implementation of `defects.py` in SQL over the CSV text, so a
manifest that drifted from the files (or a planted class that leaked into another) fails here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from course_engagement.contract import TABLES
from course_engagement.synthetic.defects import DEFECTS
from course_engagement.synthetic.generate import GeneratorConfig, generate, main

REPO = Path(__file__).resolve().parents[1]

RECOUNT_SQL = {
    "user_older_versions": "select count(*) - count(distinct id) from users",
    "users_deleted_latest_with_live_older": """
        select count(*) from latest_users l
        where l.deleted and exists (
            select 1 from users u where u.id = l.id and not u.deleted)""",
    "users_restored": """
        select count(*) from latest_users l
        where not l.deleted and exists (select 1 from users u where u.id = l.id and u.deleted)""",
    "users_state_empty": "select count(*) from users where trim(coalesce(state, '')) = ''",
    "users_state_variant": """
        select count(*) from users where trim(coalesce(state, '')) <> ''
        and state not in ('active', 'pending', 'suspended', 'deleted')
        and lower(trim(state)) in ('active', 'pending', 'suspended', 'deleted')""",
    "courses_category_empty": """
        select count(*) from courses where trim(coalesce(category_name, '')) = ''""",
    "courses_category_variant": """
        select count(*) from courses
        where trim(coalesce(category_name, '')) <> ''
          and category_name not in (select category from canonical_categories)
          and lower(trim(category_name)) in (select lower(category) from canonical_categories)""",
    "courses_level_empty": "select count(*) from courses where trim(coalesce(level, '')) = ''",
    "courses_level_variant": """
        select count(*) from courses where trim(coalesce(level, '')) <> ''
        and level not in ('Beginner', 'Intermediate', 'Advanced')
        and lower(trim(level)) in ('beginner', 'intermediate', 'advanced')""",
    "enrolments_status_empty": """
        select count(*) from enrolments where trim(coalesce(status, '')) = ''""",
    "enrolments_status_variant": """
        select count(*) from enrolments where trim(coalesce(status, '')) <> ''
        and status not in ('active', 'cancelled', 'completed')
        and lower(trim(status)) in ('active', 'cancelled', 'completed')""",
    "events_type_variant": """
        select count(*) from events where event_type not in (select t from valid_types)
        and lower(trim(event_type)) in (select t from valid_types)""",
    "enrolments_cancelled": """
        select count(*) from enrolments where lower(trim(status)) = 'cancelled'""",
    "enrolments_duplicate_user_course": """
        select count(*) - (select count(*) from (select distinct user_id, course_id
                                                  from enrolments))
        from enrolments""",
    "enrolments_of_deleted_users": """
        select count(*) from enrolments e join latest_users l on l.id = e.user_id
        where l.deleted""",
    "events_exact_duplicates": """
        select count(*) - (select count(*) from (select distinct * from events)) from events""",
    "events_id_conflicts": """
        select (select count(*) from (select distinct * from events))
             - count(distinct id) from events""",
    "events_empty_timestamp": "select count(*) from one_event where event_timestamp is null",
    "events_future": "select count(*) from one_event where event_timestamp >= end_of_data()",
    "events_unknown_type": """
        select count(*) from one_event
        where lower(trim(event_type)) not in (select t from valid_types)""",
    "events_unknown_user": """
        select count(*) from one_event
        where user_id not in (select id from users)
          and course_id in (select course_id from courses)""",
    "events_unknown_course": """
        select count(*) from one_event
        where user_id in (select id from users)
          and course_id not in (select course_id from courses)""",
    "events_without_enrolment": """
        select count(*) from one_event e
        where user_id in (select id from users) and course_id in (select course_id from courses)
          and not exists (select 1 from enrolments n
                          where n.user_id = e.user_id and n.course_id = e.course_id)""",
    "events_on_cancelled_enrolment": """
        select count(*) from one_event e join latest_users l on l.id = e.user_id
        where not l.deleted
          and exists (select 1 from enrolments n
                      where n.user_id = e.user_id and n.course_id = e.course_id)
          and not exists (select 1 from enrolments n
                          where n.user_id = e.user_id and n.course_id = e.course_id
                            and coalesce(lower(trim(n.status)), '') <> 'cancelled')""",
    "events_before_enrolment": """
        select count(*) from one_event e
        join (select user_id, course_id, min(enrolled_at) as first_at from enrolments
              where coalesce(lower(trim(status)), '') <> 'cancelled'
              group by all) n using (user_id, course_id)
        where e.event_timestamp < n.first_at""",
}


def recount(folder: Path, end_date: str) -> dict[str, int]:
    """Every defect class recounted from the CSV files with plain SQL."""
    con = duckdb.connect()
    for table in TABLES:
        columns = ", ".join(f"'{name}': '{kind}'" for name, kind in table.columns)
        if table.name == "users":
            columns = columns.replace("'deleted': 'BOOLEAN'", "'deleted': 'VARCHAR'")
        con.execute(
            f"create table {table.name} as select * from read_csv("
            f"'{folder / (table.file_stem + '.csv')}', header = true, auto_detect = false, "
            f"columns = {{{columns}}})"
        )
    con.execute("update users set deleted = coalesce(deleted = 'TRUE', false)")
    con.execute("alter table users alter deleted type boolean")
    con.execute(
        "create view latest_users as select * from users "
        "qualify row_number() over (partition by id order by updatedAt desc) = 1"
    )
    con.execute("create view one_event as select distinct on (id) * from events order by id")
    con.execute(
        "create table valid_types as select unnest(['video_start', 'video_complete', "
        "'quiz_start', 'quiz_submit', 'page_view', 'download', 'other']) as t"
    )
    con.execute(
        "create table canonical_categories as select category from "
        "(select category_name as category, count(*) as n from courses group by 1) "
        "where category = trim(category) and category <> '' and n > 1"
    )
    con.execute(f"create macro end_of_data() as timestamp '{end_date}' + interval 1 day")
    return {name: con.execute(sql).fetchone()[0] for name, sql in RECOUNT_SQL.items()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen")
    assert main(["--out", str(out), "--events", "100000", "--seed", "7", "--quiet"]) == 0
    return out, json.loads((out / "manifest.json").read_text())


def test_same_arguments_give_byte_identical_files(generated, tmp_path):
    first, _ = generated
    assert main(["--out", str(tmp_path), "--events", "100000", "--seed", "7", "--quiet"]) == 0
    for path in sorted(first.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_another_seed_gives_other_files(generated, tmp_path):
    first, _ = generated
    main(["--out", str(tmp_path), "--events", "100000", "--seed", "8", "--quiet"])
    assert (tmp_path / "raw_events.csv").read_bytes() != (first / "raw_events.csv").read_bytes()


def test_manifest_counts_match_an_independent_recount(generated):
    folder, manifest = generated
    assert manifest["defects"] == recount(folder, manifest["end_date"])
    assert set(manifest["defects"]) == set(DEFECTS)


def test_manifest_row_counts_match_the_files(generated):
    folder, manifest = generated
    for name, info in manifest["files"].items():
        data_lines = len((folder / name).read_text().splitlines()) - 1
        assert data_lines == info["rows"], name
    assert manifest["files"]["raw_events.csv"]["rows"] == 100_000
    assert manifest["files"]["raw_enrolments.csv"]["rows"] == 3_000


def test_headers_follow_the_contract_exactly(generated):
    folder, _ = generated
    for table in TABLES:
        with (folder / f"{table.file_stem}.csv").open() as handle:
            assert handle.readline().rstrip("\n") == table.header


def test_every_defect_rate_is_configurable(tmp_path):
    manifest = generate(
        GeneratorConfig(events=20_000, defect_rate=0.0, defect_rates={"events_future": 0.002}),
        tmp_path,
    )
    planted = {name: count for name, count in manifest["defects"].items() if count}
    assert planted == {"events_future": 40}
    assert recount(tmp_path, manifest["end_date"])["events_future"] == 40


def test_organic_sessions_follow_sensible_sequences(generated):
    """A video_complete follows a video_start and a quiz_submit a quiz_start in its session."""
    folder, _ = generated
    con = duckdb.connect()
    orphans = con.execute(
        f"""
        with events as (
            select * from read_csv('{folder / "raw_events.csv"}', all_varchar = true)
            where event_type in ('video_complete', 'quiz_submit')
        ),
        starts as (
            select session_id, event_type, event_timestamp
            from read_csv('{folder / "raw_events.csv"}', all_varchar = true)
        )
        select count(*) filter (where not exists (
            select 1 from starts s where s.session_id = e.session_id
              and s.event_type = replace(replace(e.event_type, 'complete', 'start'),
                                         'submit', 'start')
              and s.event_timestamp <= e.event_timestamp)),
               count(*)
        from events e
        """
    ).fetchone()
    # Only planted stand-alone events (one per session) lack their start.
    assert orphans[0] < 0.02 * orphans[1]


def test_activity_is_skewed_and_follows_the_working_week(generated):
    folder, _ = generated
    con = duckdb.connect()
    events = f"read_csv('{folder / 'raw_events.csv'}', all_varchar = true)"
    top_share = con.execute(
        f"""
        with per_course as (select course_id, count(*) as n from {events} group by 1)
        select sum(n) filter (where rnk <= 6) / sum(n)
        from (select n, row_number() over (order by n desc) as rnk from per_course)
        """
    ).fetchone()[0]
    assert top_share > 0.4  # the top 10% of courses carry most of the activity
    weekday, weekend = con.execute(
        f"""
        select avg(n) filter (where dow between 1 and 5), avg(n) filter (where dow in (0, 6))
        from (select dayofweek(cast(event_timestamp as timestamp)) as dow,
                     cast(event_timestamp as date) as day, count(*) as n
              from {events} where event_timestamp is not null group by all)
        """
    ).fetchone()
    assert weekday > 1.5 * weekend


def test_committed_sample_is_the_generator_default_and_has_every_defect_thrice():
    manifest = json.loads((REPO / "data" / "manifest.json").read_text())
    assert min(manifest["defects"].values()) >= 3
    assert manifest["defects"] == recount(REPO / "data", manifest["end_date"])
    for name, info in manifest["files"].items():
        digest = hashlib.sha256((REPO / "data" / name).read_bytes()).hexdigest()
        assert info["sha256"] == digest, f"data/{name} differs from its manifest: regenerate it"
    total = sum((REPO / "data" / name).stat().st_size for name in manifest["files"])
    assert total < 3 * 1024 * 1024
