"""The reconciliation of the legacy query with the mart, on real DuckDB files built by dbt.

Two databases: a hand-written fixture in which every course plants exactly one legacy flaw (so
every expected number below can be checked by reading the CSVs), built once for this module,
and the committed sample in data/ (the session's shared build), where every difference must be
attributed.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from dbt_harness import load_into_new_db

from course_engagement.legacy import command, compare, outputs
from course_engagement.legacy.flaws import FLAW_KEYS

# In CI's extended run (`pytest -m extended`), to keep `uv run pytest` under 8 minutes:
# the legacy comparison builds its own fixture project (~65 s) and runs the
# comparison on it.
pytestmark = pytest.mark.extended

if TYPE_CHECKING:  # the session fixture's type, from tests/conftest.py; never imported at run time
    from conftest import SampleBuild

FIXTURE_AS_OF = "2024-06-30"

# Users: 2 is deleted in its latest version (an older one is live), 3 has state ' Deleted'
# without the flag, 6 has no enrolment at all, 7 has two versions tied on updatedAt: the
# deleted one first in the file (the mart's rule, by value: the deleted version wins).
USERS_CSV = """\
id,fullName,email,signupDate,state,isGovEmployee,updatedAt,deleted
1,Ann Able,ann@example.org,2024-01-01,active,false,2024-01-01 09:00:00,
2,Bob Brown,bob@example.org,2024-01-01,active,false,2024-01-01 09:00:00,
2,Bob Brown,bob@example.org,2024-01-01,deleted,false,2024-03-01 09:00:00,TRUE
3,Cat Cole,cat@example.org,2024-01-01, Deleted,false,2024-01-01 09:00:00,
4,Dan Dunn,dan@example.org,2024-01-01,active,false,2024-01-01 09:00:00,
5,Eve Eady,eve@example.org,2024-01-01,pending,true,2024-01-01 09:00:00,
6,Fay Ford,fay@example.org,2024-01-01,active,false,2024-01-01 09:00:00,
7,Gus Gray,gus@example.org,2024-01-01,active,false,2024-02-01 09:00:00,TRUE
7,Gus Gray,gus@example.org,2024-01-01,active,false,2024-02-01 09:00:00,
"""

# One course per flaw; the title says which. 113's category is not in var course_categories:
# an open catalogue attribute, so the build neither fails nor warns on it.
COURSES_CSV = """\
course_id,title,category_name,level,publisher,course_created_at
101,Clean,Data Science,Beginner,TechSkills,2023-01-01
102,Deleted learner,Data Science,Beginner,TechSkills,2023-01-01
103,Learner in state deleted,Data Science,Beginner,TechSkills,2023-01-01
104,Cancelled spelled differently,Data Science,Beginner,TechSkills,2023-01-01
105,No enrolments,Data Science,Beginner,TechSkills,2023-01-01
106,Duplicate enrolment,Data Science,Beginner,TechSkills,2023-01-01
107,Duplicate events,Data Science,Beginner,TechSkills,2023-01-01
108,Untimed and late events,Data Science,Beginner,TechSkills,2023-01-01
109,Event type variants,Data Science,Beginner,TechSkills,2023-01-01
110,Page views only,Data Science,Beginner,TechSkills,2023-01-01
111,A third,Data Science,Beginner,TechSkills,2023-01-01
112,Enrolled after as_of,Data Science,Beginner,TechSkills,2023-01-01
113,Tied user versions and a conflicting payload,Quantum Gardening,Beginner,TechSkills,2023-01-01
"""

ENROLMENTS_CSV = """\
enrolment_id,user_id,course_id,enrolled_at,status
1,1,101,2024-02-01 10:00:00,active
2,5,101,2024-02-01 10:00:00,cancelled
3,1,102,2024-02-01 10:00:00,active
4,2,102,2024-02-01 10:00:00,active
5,1,103,2024-02-01 10:00:00,active
6,3,103,2024-02-01 10:00:00,active
7,1,104,2024-02-01 10:00:00,active
8,4,104,2024-02-01 10:00:00, Cancelled
9,5,104,2024-02-01 10:00:00,
10,1,106,2024-02-01 10:00:00,active
11,1,106,2024-03-01 10:00:00,completed
12,1,107,2024-02-01 10:00:00,active
13,1,108,2024-02-01 10:00:00,active
14,1,109,2024-02-01 10:00:00,active
15,1,110,2024-02-01 10:00:00,active
16,4,110,2024-02-01 10:00:00,active
17,1,111,2024-02-01 10:00:00,active
18,4,111,2024-02-01 10:00:00,active
19,5,111,2024-02-01 10:00:00,completed
20,1,112,2024-02-01 10:00:00,active
21,4,112,2024-07-10 10:00:00,active
22,1,113,2024-02-01 10:00:00,active
23,7,113,2024-02-01 10:00:00,active
"""

# 101: a page view before enrolment (counts in both), an unknown user and a cancelled learner
# (count in neither). 107: event 11 delivered twice identically, event 12 twice with another
# session. 108: a quiz without timestamp, a video after as_of_date. 112: user 4 enrolls on
# 2024-07-10, after as_of_date, and has a video on 05-05 (not a learner yet: counts in neither
# learners nor videos of the mart). 113: user 7 (tied versions, deleted by the mart's rule) has
# a video; event 22 of user 1 comes twice with different payloads, the later video first in the
# file and the earlier quiz second: the mart keeps the earliest event_at (the quiz), by value.
EVENTS_CSV = """\
id,user_id,course_id,event_type,event_timestamp,session_id,metadata
1,1,101,page_view,2024-01-15 08:00:00,s01,
2,1,101,video_complete,2024-05-01 10:00:00,s02,video:1
3,1,101,quiz_submit,2024-05-02 10:00:00,s03,quiz:pass
4,99,101,quiz_submit,2024-05-02 11:00:00,s04,quiz:pass
5,5,101,video_complete,2024-05-03 10:00:00,s05,video:1
6,1,102,video_complete,2024-05-10 10:00:00,s06,video:1
7,2,102,quiz_submit,2024-04-01 10:00:00,s07,quiz:pass
8,1,103,video_complete,2024-05-10 10:00:00,s08,video:1
9,1,104,video_complete,2024-05-10 10:00:00,s09,video:1
10,1,106,quiz_submit,2024-05-10 10:00:00,s10,quiz:pass
11,1,107,quiz_submit,2024-05-10 10:00:00,s11,quiz:pass
11,1,107,quiz_submit,2024-05-10 10:00:00,s11,quiz:pass
12,1,107,video_complete,2024-05-11 10:00:00,s12,video:1
12,1,107,video_complete,2024-05-11 10:00:00,s99,video:1
13,1,108,page_view,2024-05-01 10:00:00,s13,
14,1,108,quiz_submit,,s14,quiz:pass
15,1,108,video_complete,2024-07-05 10:00:00,s15,video:1
16,1,109,Quiz_Submit ,2024-05-01 10:00:00,s16,quiz:pass
17,1,109, video_complete,2024-05-01 11:00:00,s17,video:1
18,1,110,video_complete,2024-05-01 10:00:00,s18,video:1
19,4,110,page_view,2024-05-01 11:00:00,s19,
20,1,111,video_complete,2024-05-01 10:00:00,s20,video:1
21,4,112,video_complete,2024-05-05 10:00:00,s21,video:1
22,1,113,video_complete,2024-05-12 10:00:00,s98,video:1
22,1,113,quiz_submit,2024-05-11 10:00:00,s22,quiz:pass
23,7,113,video_complete,2024-05-01 10:00:00,s23,video:1
"""

# (agree, compared) per metric. Values are compared on the 12 courses in both outputs;
# presence on the 14 rows in either (the legacy NULL-course row and course 105 differ).
EXPECTED_AGREEMENT = {
    "present": (12, 14),
    "learners": (7, 12),
    "active_learners": (7, 12),
    "quizzes": (7, 12),
    "videos": (7, 12),
    "first_activity": (9, 12),
    "last_activity": (9, 12),
    "engagement_rate": (6, 12),
}

EXPECTED_CAUSES = {
    (None, "present"): ("emits_null_course_row",),
    (105, "present"): ("drops_courses_without_enrolments",),
    (102, "learners"): ("resurrects_deleted_users",),
    (103, "learners"): ("ignores_deleted_state",),
    (104, "learners"): ("status_not_normalised",),
    (102, "active_learners"): ("resurrects_deleted_users",),
    (109, "active_learners"): ("event_type_not_normalised",),
    (110, "active_learners"): ("active_only_video_quiz",),
    (102, "quizzes"): ("resurrects_deleted_users",),
    (106, "quizzes"): ("fans_out_duplicate_enrolments",),
    (107, "quizzes"): ("counts_duplicate_event_rows",),
    (108, "quizzes"): ("counts_events_without_timestamp",),
    (109, "quizzes"): ("event_type_not_normalised",),
    (107, "videos"): ("counts_conflicting_event_rows",),
    (108, "videos"): ("counts_events_after_as_of",),
    (109, "videos"): ("event_type_not_normalised",),
    (102, "first_activity"): ("resurrects_deleted_users",),
    (108, "last_activity"): ("counts_events_after_as_of",),
    (103, "engagement_rate"): ("ignores_deleted_state",),
    (104, "engagement_rate"): ("status_not_normalised",),
    (109, "engagement_rate"): ("event_type_not_normalised",),
    (110, "engagement_rate"): ("active_only_video_quiz",),
    (111, "engagement_rate"): ("rounds_engagement_rate",),
    (112, "learners"): ("counts_later_enrolments",),
    (112, "active_learners"): ("counts_later_enrolments",),
    (112, "videos"): ("counts_later_enrolments",),
    (112, "first_activity"): ("counts_later_enrolments",),
    (112, "last_activity"): ("counts_later_enrolments",),
    (112, "engagement_rate"): ("counts_later_enrolments",),
    (113, "learners"): ("resurrects_deleted_users",),
    (113, "active_learners"): ("resurrects_deleted_users",),
    (113, "videos"): ("resurrects_deleted_users", "counts_conflicting_event_rows"),
    (113, "first_activity"): ("resurrects_deleted_users",),
    (113, "last_activity"): ("counts_conflicting_event_rows",),
}


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture CSVs, loaded by the real loader and built by the real `dbt build`."""
    work_dir = tmp_path_factory.mktemp("reconcile_fixture")
    data_dir = work_dir / "data"
    data_dir.mkdir()
    for name, text in {
        "raw_users.csv": USERS_CSV,
        "raw_courses.csv": COURSES_CSV,
        "raw_enrolments.csv": ENROLMENTS_CSV,
        "raw_events.csv": EVENTS_CSV,
    }.items():
        (data_dir / name).write_text(text)
    run = load_into_new_db(data_dir, work_dir / "build")
    # the mart, its parents and their tests; cautious: no test of a model left unbuilt
    build = run.dbt(
        ["build", "--select", "+mart_course_engagement", "--indirect-selection", "cautious"],
        as_of_date=FIXTURE_AS_OF,
    )[-1]
    warned = sorted(uid for uid, status in build.statuses.items() if status == "warn")
    (run.run_dir / "warned.json").write_text(json.dumps(warned))
    return run.db_path


def test_an_unlisted_course_category_builds_without_a_warning(fixture_db: Path) -> None:
    """Only the tied user versions warn (the tie is reported); category 'Quantum Gardening' not."""
    warned = json.loads((fixture_db.parent / "warned.json").read_text())
    assert [uid.split(".")[2] for uid in warned] == [
        "unique_combination_of_columns_base_raw__users_user_id__updated_at"
    ]


@pytest.fixture(scope="module")
def fixture_result(fixture_db: Path) -> compare.Comparison:
    return compare.compare(fixture_db)


@pytest.fixture(scope="module")
def sample_db(sample_build: SampleBuild) -> Path:
    """The committed sample, built once per session by tests/conftest.py as of its end date."""
    return sample_build.run.db_path


def causes_of(result: compare.Comparison) -> dict[tuple[int | None, str], tuple[str, ...]]:
    return {(d.course_id, d.metric): tuple(c.flaw for c in d.causes) for d in result.differences}


def difference(
    result: compare.Comparison, course_id: int | None, metric: str
) -> compare.Difference:
    return next(d for d in result.differences if d.course_id == course_id and d.metric == metric)


# --------------------------------------------------------------------------- the fixture


def test_model_with_every_flaw_reproduces_the_legacy_query(fixture_db: Path) -> None:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        legacy = outputs.run_legacy(con)
        model = outputs.run_model(con, FLAW_KEYS, dt.date.fromisoformat(FIXTURE_AS_OF))
    assert {k: v.values for k, v in model.items()} == {k: v.values for k, v in legacy.items()}


def test_model_with_no_flaw_reproduces_the_mart(fixture_db: Path) -> None:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        mart, as_of = outputs.run_mart(con)
        model = outputs.run_model(con, (), as_of)
    assert as_of == dt.date.fromisoformat(FIXTURE_AS_OF)
    assert {k: v.values for k, v in model.items()} == {k: v.values for k, v in mart.items()}


def test_tied_user_version_and_conflicting_payload_pick_the_marts_winner(
    fixture_db: Path,
) -> None:
    """The model with every flaw removed reads the mart's rules, so it picks the mart's user
    version (tie on updatedAt: the deleted one) and event payload (the earliest event_at), not
    load order (which would keep user 7 and the video of event 22)."""
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        mart, as_of = outputs.run_mart(con)
        model = outputs.run_model(con, (), as_of)
        deleted = con.execute(
            "select is_deleted from analytics.dim_users where user_id = 7 and is_current"
        ).fetchone()
    expected = {
        "learners": 1,
        "active_learners": 1,
        "quizzes": 1,
        "videos": 0,
        "first_activity": dt.datetime(2024, 5, 11, 10, 0),
        "last_activity": dt.datetime(2024, 5, 11, 10, 0),
        "engagement_rate": 1.0,
    }
    assert deleted == (True,)
    assert model[113].values == expected
    assert mart[113].values == expected
    assert model[113].learner_ids == {1}


def test_agreement_per_metric_on_the_fixture(fixture_result: compare.Comparison) -> None:
    agreement = {r.metric.key: (r.agree, r.compared) for r in fixture_result.metrics}
    assert agreement == EXPECTED_AGREEMENT


def test_each_difference_is_attributed_to_its_planted_flaw(
    fixture_result: compare.Comparison,
) -> None:
    assert causes_of(fixture_result) == EXPECTED_CAUSES


def test_every_flaw_is_exercised_by_the_fixture() -> None:
    planted = {flaw for causes in EXPECTED_CAUSES.values() for flaw in causes}
    assert planted == set(FLAW_KEYS)


def test_deleted_user_is_named(fixture_result: compare.Comparison) -> None:
    diff = difference(fixture_result, 102, "learners")
    assert (diff.legacy, diff.mart) == (2, 1)
    assert diff.causes[0].text.startswith("legacy counts deleted user 2 ")


def test_status_cause_quotes_the_raw_spelling(fixture_result: compare.Comparison) -> None:
    diff = difference(fixture_result, 104, "learners")
    assert diff.causes[0].text == "legacy does not normalise status ' Cancelled' (user 4)"


def test_event_type_cause_quotes_the_raw_spelling(
    fixture_result: compare.Comparison,
) -> None:
    quizzes = difference(fixture_result, 109, "quizzes")
    videos = difference(fixture_result, 109, "videos")
    assert quizzes.causes[0].text == "legacy does not normalise event_type 'Quiz_Submit '"
    assert videos.causes[0].text == "legacy does not normalise event_type ' video_complete'"


def test_null_course_row_names_the_user_without_enrolments(
    fixture_result: compare.Comparison,
) -> None:
    diff = difference(fixture_result, None, "present")
    assert (diff.legacy, diff.mart) == (True, False)
    assert "user 6" in diff.causes[0].text


def test_later_enrolment_cause_names_the_user_and_the_date(
    fixture_result: compare.Comparison,
) -> None:
    diff = difference(fixture_result, 112, "learners")
    assert (diff.legacy, diff.mart) == (2, 1)
    assert diff.causes[0].text == ("legacy counts user 4 enrolled only after as_of_date 2024-06-30")


def test_late_event_moves_last_activity_back_to_the_last_counted_one(
    fixture_result: compare.Comparison,
) -> None:
    diff = difference(fixture_result, 108, "last_activity")
    assert diff.legacy == dt.datetime(2024, 7, 5, 10, 0)
    assert diff.mart == dt.datetime(2024, 5, 1, 10, 0)
    assert diff.causes[0].text == "legacy counts events after as_of_date 2024-06-30"


def test_bridge_walks_the_legacy_totals_to_the_mart_totals(
    fixture_result: compare.Comparison,
) -> None:
    legacy, model_start, *_, model_end, mart = fixture_result.bridge
    assert legacy.totals == model_start.totals
    assert model_end.totals == mart.totals
    assert (legacy.totals["learners"], mart.totals["learners"]) == (21, 16)


def test_cli_prints_the_table_and_exits_zero_when_all_is_explained(
    fixture_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command.main(["--db", str(fixture_db)]) == 0
    out = capsys.readouterr().out
    assert "quizzes vs total_quizzes_completed" in out
    assert "All 34 differences are explained" in out


def test_unexplained_difference_fails_the_command(
    fixture_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = tmp_path / "tampered.duckdb"
    shutil.copy(fixture_db, tampered)
    with duckdb.connect(str(tampered)) as con:
        con.execute(f"update {outputs.MART} set total_videos_completed = 5 where course_id = 101")
    result = compare.compare(tampered)
    diff = difference(result, 101, "videos")
    assert [c.flaw for c in diff.causes] == ["UNEXPLAINED"]
    assert command.main(["--db", str(tampered)]) == 1
    assert "UNEXPLAINED differences: 1" in capsys.readouterr().out


def test_missing_mart_is_an_actionable_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "raw_only.duckdb"
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema raw")
    assert command.main(["--db", str(db_path)]) == 2
    assert "dbt build" in capsys.readouterr().err


# --------------------------------------------------------------------------- the sample


def test_every_difference_on_the_sample_is_attributed(sample_db: Path) -> None:
    result = compare.compare(sample_db)
    assert result.differences, "the sample plants defects, so legacy and mart must differ"
    assert result.unexplained == []


def test_the_model_removes_flaws_only_in_their_order() -> None:
    with duckdb.connect() as con, pytest.raises(ValueError, match="not a suffix"):
        outputs.set_model_variables(con, FLAW_KEYS[:1], dt.date(2024, 6, 30))
