"""A small hand-written export with one of every bad input, and the numbers worked out by hand.

as_of_date is 2026-03-10: "counted" means timestamped before 2026-03-11 00:00:00, and the
30-day window starts 2026-02-09 00:00:00. Line numbers are file lines (the header is line 1).

Users (12 rows, 8 ids):
  1 Ada    one version
  2 Ben    three versions; the two latest tie exactly on updatedAt, one live and one deleted:
           the deleted one wins (a deleted version wins a tie), so Ben is not a learner
  3 Cara   two versions tie exactly; both live, states 'suspended' and 'active': 'active' wins
           (state ascending), with its email cara.new@example.org
  4 Dan    the same version delivered twice (identical rows)
  5-8      Eve, Fay, Gus, Hal: state null, quoted-empty "", spaces, a tab -> all blank (null)

Courses: 201 clean; 202 category "" and level of spaces; 203 category null; 204 category a
tab (four blank categories / levels of every kind), no learners.

Enrolments (12):
  1 Ada 201, 2 Ben 201 (deleted user), 3 Cara 201 completed, 4 Dan 201 enrolled 03-06 12:00,
  5-8 Eve, Fay, Gus, Hal in 202 with status null, "", spaces, tab (blank = not cancelled),
  9 Ada 203 cancelled, 10 Cara 203 'refunded' (unknown status: not cancelled, so a learner),
  11 Ada in course 999 (not in the catalogue), 12 Eve 201 without a time (a learner as of
  every date, with no events; counted in enrolments_enrolled_at_empty)
  Dan enrolled on 03-06 12:00: as of 03-05 or before he is not yet a learner of 201, and his
  event 4 is excluded as enrolled_after_as_of_date (see test_point_in_time.py).

Events (21 rows; id: who, course, type, when -> fate as of 03-10):
   1  Ada 201 video_complete 03-04 09:00 -> counted; delivered twice (exact duplicate)
   2  Ada 201 quiz_submit    03-05 10:00 -> counted
   3  Cara 201 quiz_submit   03-06 11:00 -> counted; id re-used with session s3b (id conflict;
                                            s3 < s3b wins)
   4  Dan 201 page_view      03-05 08:00 -> counted, before Dan's enrolment (flagged)
   5  Eve 202 video_complete 03-07 12:00 -> counted
   6  Fay 202 forum_post     03-08 12:00 -> counted (unknown type still counts)
   7  Gus 202 <tab>          03-09 12:00 -> counted (blank type: unknown)
   8  Hal 202 'Quiz_Submit ' 03-10 23:59:59 -> counted quiz (variant), last instant of the day
   9  Ada 201 video_complete 03-11 00:00 -> future
  10  Cara 203 page_view     03-10 10:00 -> counted (her enrolment is 'refunded')
  11  Ben 201 -> deleted_user          12  Ada 203 -> on_cancelled_enrolment
  13  Ada 204 -> without_enrolment     14  user 99 -> unknown_user
  15  Ada 999 -> unknown_course        16  no timestamp -> empty_timestamp
  17  no user -> missing_user_or_course
  18  Eve 202 video_start    02-01 10:00 -> counted (before the 30-day window)
  19  Dan 201 download       03-08 09:00 -> counted
"""

from __future__ import annotations

import datetime as dt

AS_OF_DATE = "2026-03-10"
BACKFILL_DATES = [f"2026-03-{day:02d}" for day in range(4, 11)]

USERS = [
    "1,Ada Lovelace,ada@example.org,2025-01-01,active,false,2026-01-01 00:00:00,",
    "2,Ben Okri,ben.old@example.org,2025-01-01,active,false,2026-01-01 00:00:00,",
    "2,Ben Okri,ben@example.org,2025-01-01,active,false,2026-02-01 00:00:00,",
    "2,Ben Okri,ben@example.org,2025-01-01,deleted,false,2026-02-01 00:00:00,TRUE",
    "3,Cara Diaz,cara@example.org,2025-01-01,suspended,false,2026-02-01 00:00:00,",
    "3,Cara Diaz,cara.new@example.org,2025-01-01,active,false,2026-02-01 00:00:00,",
    "4,Dan Wu,dan@example.org,2025-01-01,active,true,2026-01-15 00:00:00,",
    "4,Dan Wu,dan@example.org,2025-01-01,active,true,2026-01-15 00:00:00,",
    "5,Eve Stone,eve@example.org,2025-01-01,,false,2026-01-01 00:00:00,",
    '6,Fay Lin,fay@example.org,2025-01-01,"",false,2026-01-01 00:00:00,',
    '7,Gus Hart,gus@example.org,2025-01-01,"   ",false,2026-01-01 00:00:00,',
    '8,Hal Ames,hal@example.org,2025-01-01,"\t",false,2026-01-01 00:00:00,',
]
COURSES = [
    "201,Data Basics,Data Science,Beginner,Acme,2025-01-01",
    '202,Cloud 101,"",   ,Acme,2025-01-01',
    "203,Policy Now,,Advanced,Gov,2025-01-01",
    '204,Design Lab,"\t",Intermediate,Gov,2025-01-01',
]
ENROLMENTS = [
    "1,1,201,2026-01-10 00:00:00,active",
    "2,2,201,2026-01-10 00:00:00,active",
    "3,3,201,2026-01-10 00:00:00,completed",
    "4,4,201,2026-03-06 12:00:00,active",
    "5,5,202,2026-01-10 00:00:00,",
    '6,6,202,2026-01-10 00:00:00,""',
    '7,7,202,2026-01-10 00:00:00,"   "',
    '8,8,202,2026-01-10 00:00:00,"\t"',
    "9,1,203,2026-01-10 00:00:00,cancelled",
    "10,3,203,2026-01-10 00:00:00,refunded",
    "11,1,999,2026-01-10 00:00:00,active",
    "12,5,201,,active",
]
EVENTS = [
    "1,1,201,video_complete,2026-03-04 09:00:00,s1,video:1",
    "1,1,201,video_complete,2026-03-04 09:00:00,s1,video:1",
    "2,1,201,quiz_submit,2026-03-05 10:00:00,s2,quiz:pass",
    "3,3,201,quiz_submit,2026-03-06 11:00:00,s3,quiz:pass",
    "3,3,201,quiz_submit,2026-03-06 11:00:00,s3b,quiz:pass",
    "4,4,201,page_view,2026-03-05 08:00:00,s4,page:1",
    "5,5,202,video_complete,2026-03-07 12:00:00,s5,video:2",
    "6,6,202,forum_post,2026-03-08 12:00:00,s6,forum:1",
    '7,7,202,"\t",2026-03-09 12:00:00,s7,',
    "8,8,202,Quiz_Submit ,2026-03-10 23:59:59,s8,quiz:pass",
    "9,1,201,video_complete,2026-03-11 00:00:00,s9,video:3",
    "10,3,203,page_view,2026-03-10 10:00:00,s10,page:2",
    "11,2,201,page_view,2026-03-05 10:00:00,s11,page:3",
    "12,1,203,page_view,2026-03-05 10:00:00,s12,page:4",
    "13,1,204,page_view,2026-03-05 10:00:00,s13,page:5",
    "14,99,201,page_view,2026-03-05 10:00:00,s14,page:6",
    "15,1,999,page_view,2026-03-05 10:00:00,s15,page:7",
    "16,1,201,page_view,,s16,page:8",
    "17,,201,page_view,2026-03-05 10:00:00,s17,page:9",
    "18,5,202,video_start,2026-02-01 10:00:00,s18,video:4",
    "19,4,201,download,2026-03-08 09:00:00,s19,file:1",
]
ROWS = {"users": USERS, "courses": COURSES, "enrolments": ENROLMENTS, "events": EVENTS}

FULL_NAMES = sorted({line.split(",")[1] for line in USERS})
EMAILS = sorted({line.split(",")[2] for line in USERS})


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# The mart as of 2026-03-10, course by course.
#   201: learners Ada, Cara, Dan, Eve (Ben is deleted); active Ada (1, 2), Cara (3), Dan (4,
#        19); all three in the window; quizzes 2 and 3; video 1; first 03-04 09:00 (event 1),
#        last 03-08 09:00 (event 19)
#   202: learners Eve, Fay, Gus, Hal (blank statuses are not cancelled), all active and in the
#        window; quiz 8 (a variant); video 5; first 02-01 10:00 (18), last 03-10 23:59:59 (8)
#   203: learner Cara (refunded); Ada's enrolment is cancelled; event 10
#   204: nobody
MART = {
    201: (4, 3, 3, 2, 1, ts("2026-03-04 09:00:00"), ts("2026-03-08 09:00:00"), 0.75),
    202: (4, 4, 4, 1, 1, ts("2026-02-01 10:00:00"), ts("2026-03-10 23:59:59"), 1.0),
    203: (1, 1, 1, 0, 0, ts("2026-03-10 10:00:00"), ts("2026-03-10 10:00:00"), 1.0),
    204: (0, 0, 0, 0, 0, None, None, None),
}
MART_COLUMNS = (
    "learners",
    "active_learners",
    "active_learners_30d",
    "total_quizzes_completed",
    "total_videos_completed",
    "first_activity",
    "last_activity",
    "engagement_rate",
)

RECONCILIATION = {
    "counted": 11,  # 1, 2, 3, 4, 5, 6, 7, 8, 10, 18, 19
    "exact_duplicate": 1,  # the second delivery of event 1
    "id_conflict": 1,  # event 3 with session s3b
    "empty_timestamp": 1,  # 16
    "future": 1,  # 9
    "missing_user_or_course": 1,  # 17
    "unknown_user": 1,  # 14
    "unknown_course": 1,  # 15
    "without_enrolment": 1,  # 13
    "deleted_user": 1,  # 11
    "on_cancelled_enrolment": 1,  # 12
    "enrolled_after_as_of_date": 0,  # Dan's event 4 as of 03-05 or before
}

QUALITY = {
    "user_older_versions": 4,  # 12 rows, 8 ids
    "users_deleted_latest_with_live_older": 1,  # Ben
    "users_restored": 0,
    "users_state_empty": 4,  # users 5-8: null, "", spaces, tab
    "users_state_variant": 0,
    "courses_category_empty": 3,  # 202 "", 203 null, 204 tab
    "courses_category_variant": 0,
    "courses_level_empty": 1,  # 202 spaces
    "courses_level_variant": 0,
    "enrolments_status_empty": 4,  # 5-8: null, "", spaces, tab
    "enrolments_status_variant": 0,
    "enrolments_status_unknown": 1,  # 10 'refunded'
    "enrolments_enrolled_at_empty": 1,  # 12 (Eve 201)
    "enrolments_cancelled": 1,  # 9
    "enrolments_duplicate_user_course": 0,
    "enrolments_of_deleted_users": 1,  # 2 (Ben)
    "events_type_variant": 1,  # 'Quiz_Submit '
    "events_exact_duplicates": 1,
    "events_id_conflicts": 1,
    "events_empty_timestamp": 1,
    "events_future": 1,
    "events_unknown_type": 2,  # forum_post (6) and the blank type (7)
    "events_unknown_user": 1,
    "events_unknown_course": 1,
    "events_without_enrolment": 1,
    "events_on_cancelled_enrolment": 1,
    "events_before_enrolment": 1,  # 4 (Dan, 03-05 08:00 before 03-06 12:00)
}
