"""Recording hook events: the table when it can, the spool file when it cannot, the spool taken in later."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
import time

import pytest

from quarterdeck.core.activity import journal, record
from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.store import DB_FILE_NAME, Store, default_db_path


def ev(name: str = "Stop", kind: str = "turn_ended", at: float | None = None, agent: str = "A1") -> ActivityEvent:
    return ActivityEvent(agent_id=agent, source="claude-code", kind=kind, name=name,
                         at=time.time() if at is None else at, session="s1")


def table(data_dir) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(data_dir / DB_FILE_NAME)
    try:
        return [tuple(r) for r in conn.execute("SELECT agent_id, kind, name FROM agent_events ORDER BY seq")]
    finally:
        conn.close()


def test_the_file_name_is_the_stores():
    assert record.DB_FILE_NAME == DB_FILE_NAME


def test_an_open_store_takes_the_event_in_its_table(tmp_path):
    Store(default_db_path(tmp_path)).close()
    assert record.record(tmp_path, ev()) == (record.STORED, None)
    assert table(tmp_path) == [("A1", "turn_ended", "Stop")]
    assert not (tmp_path / record.SPOOL_NAME).exists()


def test_no_database_yet_spools_and_never_creates_one(tmp_path):
    data = tmp_path / "not" / "yet"
    outcome, why = record.record(data, ev())
    assert outcome == record.SPOOLED and "does not exist" in (why or "")
    assert not (data / DB_FILE_NAME).exists()
    spool = data / record.SPOOL_NAME
    assert stat.S_IMODE(spool.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert [e.name for e in journal.load_events(data)] == ["Stop"]  # read without a database, left in place
    assert spool.exists()


def test_a_locked_database_spools_within_the_short_wait_and_the_next_read_takes_it_in(tmp_path):
    Store(default_db_path(tmp_path)).close()
    holder = sqlite3.connect(tmp_path / DB_FILE_NAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.perf_counter()
        outcome, why = record.record(tmp_path, ev("UserPromptSubmit", "prompt_submitted", at=100.0))
        waited = time.perf_counter() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert outcome == record.SPOOLED and "locked" in (why or "")
    assert waited < 1.0
    assert record.record(tmp_path, ev("Stop", at=200.0)) == (record.STORED, None)
    events = journal.load_events(tmp_path)
    assert [e.name for e in events] == ["UserPromptSubmit", "Stop"]  # by the tool's time, not by arrival
    assert table(tmp_path) == [("A1", "turn_ended", "Stop"), ("A1", "prompt_submitted", "UserPromptSubmit")]
    assert list(tmp_path.glob(f"{record.SPOOL_NAME}*")) == []
    assert journal.activities(tmp_path, ["A1", "A9"])["A1"].state == "idle"


def test_an_older_database_without_the_table_spools_until_it_is_migrated(tmp_path):
    from quarterdeck.core.store.schema import MIGRATIONS, migrate

    conn = sqlite3.connect(tmp_path / DB_FILE_NAME, isolation_level=None)
    migrate(conn, MIGRATIONS[:3])
    conn.close()
    outcome, why = record.record(tmp_path, ev())
    assert outcome == record.SPOOLED and "no such table" in (why or "")
    assert [e.name for e in journal.load_events(tmp_path)] == ["Stop"]  # migrated, then taken in
    assert table(tmp_path) == [("A1", "turn_ended", "Stop")]


def test_a_spool_left_by_an_interrupted_ingest_is_taken_in_once(tmp_path):
    Store(default_db_path(tmp_path)).close()
    line = json.dumps(record.row(ev(at=50.0), "k-1"))
    (tmp_path / f"{record.SPOOL_NAME}.1.2.ingesting").write_text(line + "\n" + "not json\n")
    (tmp_path / record.SPOOL_NAME).write_text(line + "\n")  # the same event again (same key)
    events = journal.load_events(tmp_path)
    assert [e.at for e in events] == [50.0]
    assert table(tmp_path) == [("A1", "turn_ended", "Stop")]
    assert list(tmp_path.glob(f"{record.SPOOL_NAME}*")) == []


def test_an_append_after_the_spool_was_renamed_goes_to_a_fresh_file(tmp_path):
    first = record.append_spool(tmp_path, "one")
    os.replace(first, tmp_path / "claimed")
    record.append_spool(tmp_path, "two")
    assert (tmp_path / "claimed").read_text() == "one\n"
    assert (tmp_path / record.SPOOL_NAME).read_text() == "two\n"


def test_an_unwritable_folder_is_reported_not_hidden(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    data = tmp_path / "ro"
    data.mkdir()
    data.chmod(0o500)
    try:
        with pytest.raises(OSError):
            record.record(data, ev())
    finally:
        data.chmod(0o700)


def test_only_the_latest_events_of_each_agent_are_read(tmp_path):
    Store(default_db_path(tmp_path)).close()
    for i in range(8):
        record.record(tmp_path, ev(at=float(i), agent="A"))
    record.record(tmp_path, ev(at=3.5, agent="B"))
    events = journal.load_events(tmp_path, per_agent=3)
    assert [(e.agent_id, e.at) for e in events] == [("B", 3.5), ("A", 5.0), ("A", 6.0), ("A", 7.0)]
