"""The raw zone (ingest/raw_zone.py): Parquet files the loader keeps equal to raw.*, on real
DuckDB files and real Parquet files read back with DuckDB's read_parquet.

History is three events (batch 1), a day file adds three more and one reject (batch 2); the
users carry nulls in a date, a timestamp, a boolean and a text column, so every count and value
below can be checked by reading this file and tests/test_loader_append.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import corrupt
import duckdb
import pytest
from test_loader_append import COURSES, DAY_2, DAY_10, ENROLMENTS, HISTORY, write_day

from course_engagement.ingest import raw_zone
from course_engagement.ingest.load_cli import main
from course_engagement.ingest.loader import LoadError, append, load
from course_engagement.ingest.raw_zone import STAGING, TABLES, RawZoneError, zone_row_counts
from course_engagement.settings import RAW_ZONE_ENV, Settings, SettingsError

USERS = """\
id,fullName,email,signupDate,state,isGovEmployee,updatedAt,deleted
1,Ada Lovelace,ada@example.org,2024-01-05,active,false,2024-02-01 09:30:00,false
2,Grace Hopper,,2024-01-06,,true,,TRUE
3,Alan Turing,alan@example.org,,pending,,2024-02-03 23:59:59,FALSE
"""
DAY_2_NAME = "raw_events_2024-03-02.csv"
BATCH_1 = "events/load_batch_id=1"
BATCH_2 = "events/load_batch_id=2"
EVENTS_READ = "read_parquet(?, hive_partitioning = true, hive_types = {'load_batch_id': BIGINT})"


def write_data(folder: Path, events: str = HISTORY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    texts = {"users": USERS, "courses": COURSES, "enrolments": ENROLMENTS, "events": events}
    for name, text in texts.items():
        corrupt.write(folder / f"raw_{name}.csv", text)
    return folder


def files_of(zone: Path) -> dict[str, tuple[str, int]]:
    """(sha256, mtime in ns) of every file under the zone, by path relative to it."""
    return {
        str(path.relative_to(zone)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(zone.rglob("*"))
        if path.is_file()
    }


def changed(before: dict, after: dict) -> set[str]:
    return {name for name in before.keys() & after.keys() if before[name] != after[name]}


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, Path]:
    """(database, zone) after the history load and an append of day 2."""
    db, zone = tmp_path / "warehouse.duckdb", tmp_path / "zone"
    load(write_data(tmp_path / "data"), db, max_reject_share=0.5, raw_zone=zone)
    day_2 = write_day(tmp_path / "incoming", DAY_2_NAME, DAY_2)
    append([day_2], db, max_reject_share=0.5, raw_zone=zone)
    return db, zone


def test_the_zone_holds_every_raw_table_row_for_row_with_its_types(loaded) -> None:
    db, zone = loaded
    assert zone_row_counts(zone) == {
        BATCH_1: 3,
        BATCH_2: 3,
        "courses": 1,
        "enrolments": 1,
        "load_audit": 5,
        "load_batches": 2,
        "load_rejects": 1,
        "users": 3,
    }
    with duckdb.connect(str(db), read_only=True) as con:
        for table in TABLES:
            raw = con.sql(f"SELECT * FROM raw.{table} ORDER BY ALL")
            parquet = con.sql(
                "SELECT * FROM read_parquet(?) ORDER BY ALL",
                params=[str(zone / table / "data.parquet")],
            )
            assert parquet.columns == raw.columns, table
            assert parquet.types == raw.types, table
            assert parquet.fetchall() == raw.fetchall(), table
        raw = con.sql("SELECT * FROM raw.events ORDER BY ALL")
        parquet = con.sql(
            f"SELECT * FROM {EVENTS_READ} ORDER BY ALL", params=[str(zone / "events/*/*.parquet")]
        )
        assert (parquet.columns, parquet.types) == (raw.columns, raw.types)
        rows = raw.fetchall()
        assert parquet.fetchall() == rows
        assert len(rows) == 6


def test_a_batch_file_holds_its_rows_in_key_order_and_names_its_source(loaded) -> None:
    _, zone = loaded
    path = str(zone / BATCH_2 / "data.parquet")
    with duckdb.connect() as con:
        ids = con.execute("SELECT id FROM read_parquet(?)", [path]).fetchall()
        metadata = con.execute(
            "SELECT decode(key), decode(value) FROM parquet_kv_metadata(?) ORDER BY 1", [path]
        ).fetchall()
    assert ids == [(2,), (4,), (6,)]
    sha256 = hashlib.sha256(DAY_2.encode()).hexdigest()
    assert metadata == [("source_file", DAY_2_NAME), ("source_sha256", sha256)]


def test_a_table_file_is_rewritten_when_its_rows_change_and_only_then(loaded) -> None:
    db, zone = loaded
    with duckdb.connect(str(db)) as con:
        assert raw_zone.sync_raw_zone(con, zone) == raw_zone.ZoneSync(written=(), removed=())
        con.execute("UPDATE raw.users SET state = 'suspended' WHERE id = 3")
        assert raw_zone.sync_raw_zone(con, zone) == raw_zone.ZoneSync(("users",), ())
        con.execute("DELETE FROM raw.load_batches WHERE load_batch_id = 2")
        assert raw_zone.sync_raw_zone(con, zone) == raw_zone.ZoneSync(("load_batches",), (BATCH_2,))
    assert zone_row_counts(zone)["load_batches"] == 1


def test_an_append_adds_one_batch_folder_and_leaves_the_other_files_untouched(
    loaded, tmp_path: Path
) -> None:
    db, zone = loaded
    before = files_of(zone)
    day_10 = write_day(tmp_path / "incoming", "raw_events_2024-03-10.csv", DAY_10)

    append([day_10], db, raw_zone=zone)

    after = files_of(zone)
    assert after.keys() - before.keys() == {"events/load_batch_id=3/data.parquet"}
    assert before.keys() - after.keys() == set()
    # the day adds an audit row and a batch; its events file, users, rejects are as they were
    assert changed(before, after) == {"load_audit/data.parquet", "load_batches/data.parquet"}
    assert zone_row_counts(zone)["events/load_batch_id=3"] == 1


def test_a_full_reload_of_changed_history_replaces_every_batch_folder(tmp_path: Path) -> None:
    data, db, zone = tmp_path / "data", tmp_path / "warehouse.duckdb", tmp_path / "zone"
    write_data(data)
    write_day(data, DAY_2_NAME, DAY_2)
    load(data, db, max_reject_share=0.5, raw_zone=zone)
    assert [k for k in zone_row_counts(zone) if k.startswith("events/")] == [BATCH_1, BATCH_2]

    write_data(data, events=HISTORY + "8,1,10,download,2024-03-01 12:00:00,s2,file:b\n")
    load(data, db, max_reject_share=0.5, raw_zone=zone)

    counts = zone_row_counts(zone)
    # history changed, so both files get new numbers (ingest/load_batches.py)
    assert {k: v for k, v in counts.items() if k.startswith("events/")} == {
        "events/load_batch_id=3": 4,
        "events/load_batch_id=4": 3,
    }
    assert sorted(path.name for path in (zone / "events").iterdir()) == [
        "load_batch_id=3",
        "load_batch_id=4",
    ]


def test_reloading_the_same_files_rewrites_only_the_audit(loaded, tmp_path: Path) -> None:
    db, zone = loaded
    write_day(tmp_path / "data", DAY_2_NAME, DAY_2)  # the full load reads the day from the folder
    before = files_of(zone)

    load(tmp_path / "data", db, max_reject_share=0.5, raw_zone=zone)

    after = files_of(zone)
    assert after.keys() == before.keys()
    assert changed(before, after) == {"load_audit/data.parquet"}  # the audit is a history


def test_the_same_files_give_the_same_bytes_in_another_zone(loaded, tmp_path: Path) -> None:
    _, zone = loaded
    other_db, other_zone = tmp_path / "other.duckdb", tmp_path / "other_zone"
    load(tmp_path / "data", other_db, raw_zone=other_zone)
    append(
        [tmp_path / "incoming" / DAY_2_NAME], other_db, max_reject_share=0.5, raw_zone=other_zone
    )

    ours, theirs = files_of(zone), files_of(other_zone)
    assert ours.keys() == theirs.keys()
    different = {name for name in ours if ours[name][0] != theirs[name][0]}
    assert different == {"load_audit/data.parquet"}  # loaded_at is the time of the load


def test_a_failed_load_leaves_the_zone_byte_for_byte(loaded, tmp_path: Path) -> None:
    db, zone = loaded
    before = files_of(zone)
    drifted = corrupt.rename_column(USERS, "email", "e_mail")
    corrupt.write(tmp_path / "data" / "raw_users.csv", drifted)
    write_day(tmp_path / "data", DAY_2_NAME, DAY_2)

    with pytest.raises(LoadError, match=r"raw_users\.csv"):
        load(tmp_path / "data", db, max_reject_share=0.5, raw_zone=zone)

    assert files_of(zone) == before


def test_a_zone_that_cannot_be_written_leaves_it_as_it_was_and_keeps_the_load(
    loaded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, zone = loaded
    before = files_of(zone)
    day_10 = write_day(tmp_path / "incoming", "raw_events_2024-03-10.csv", DAY_10)
    copy = raw_zone._copy

    def disk_full_at_the_last_table(con, select, path, metadata=None):
        # the new batch and load_audit are written, then the disk fills (a fault not causable)
        if path.parent.name == "load_batches":
            raise duckdb.IOException("could not write file: No space left on device")
        copy(con, select, path, metadata)

    monkeypatch.setattr(raw_zone, "_copy", disk_full_at_the_last_table)
    with pytest.raises(RawZoneError) as error:
        append([day_10], db, raw_zone=zone)

    assert str(error.value) == (
        f"the load is committed, but the raw zone {zone} could not be written (could not "
        "write file: No space left on device); the zone is as it was before this load. Fix the "
        "cause (disk space, permissions) and run the same load again: it loads the same rows "
        "and writes the zone"
    )
    assert files_of(zone) == before
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.load_batches").fetchone() == (3,)

    monkeypatch.undo()
    append([day_10], db, raw_zone=zone)  # already loaded: adds nothing, writes the zone
    assert zone_row_counts(zone)["events/load_batch_id=3"] == 1
    assert not (zone / STAGING).exists()


def test_a_first_load_whose_zone_fails_keeps_its_new_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, zone = tmp_path / "warehouse.duckdb", tmp_path / "zone"

    def no_space(*args: object, **kwargs: object) -> None:
        raise duckdb.IOException("No space left on device")

    monkeypatch.setattr(raw_zone, "_copy", no_space)
    with pytest.raises(RawZoneError, match="the load is committed"):
        load(write_data(tmp_path / "data"), db, raw_zone=zone)

    with duckdb.connect(str(db), read_only=True) as con:  # committed, so kept
        assert con.execute("SELECT count(*) FROM raw.events").fetchone() == (3,)
    assert list(zone.iterdir()) == []


def test_the_variable_sets_the_zone_and_unset_writes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_data(tmp_path / "data")
    monkeypatch.delenv(RAW_ZONE_ENV, raising=False)
    load(data, tmp_path / "none.duckdb")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data", "none.duckdb"]

    monkeypatch.setenv(RAW_ZONE_ENV, str(tmp_path / "zone"))
    load(data, tmp_path / "zoned.duckdb")
    assert zone_row_counts(tmp_path / "zone")[BATCH_1] == 3


def test_a_relative_zone_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RAW_ZONE_ENV, "zone")
    with pytest.raises(SettingsError) as error:
        Settings.from_env()
    assert str(error.value) == (
        f"{RAW_ZONE_ENV}='zone' is a relative path; the raw zone is read by other processes "
        f"from other folders, so give an absolute one, e.g. {RAW_ZONE_ENV}={Path.cwd() / 'zone'}"
    )


def test_the_load_command_writes_the_zone_it_is_given_and_prints_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(RAW_ZONE_ENV, str(tmp_path / "not_this_one"))
    data, zone = write_data(tmp_path / "data"), tmp_path / "zone"
    args = ["--data-dir", str(data), "--db", str(tmp_path / "w.duckdb"), "--raw-zone", str(zone)]

    assert main(args) == 0

    assert capsys.readouterr().out.splitlines()[-1] == (
        f"raw zone {zone}: users 3, courses 1, enrolments 1, load_audit 4, load_batches 1, "
        "load_rejects 0 rows; events 3 rows (load batches: 1)"
    )
    assert not (tmp_path / "not_this_one").exists()
