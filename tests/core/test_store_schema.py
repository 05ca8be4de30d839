"""The file itself: location, pragmas, migrations, time format, connections per thread, closing."""
from __future__ import annotations

import gc
import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import SCHEMA_VERSION, Store, StoreError, default_db_path, search
from quarterdeck.core.store.control import outbox_id
from quarterdeck.core.store.db import connect
from quarterdeck.core.store.rows import from_db_time, to_db_time
from quarterdeck.core.store.schema import MIGRATIONS, migrate, user_version


def test_default_location_is_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("QUARTERDECK_DATA_DIR", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "quarterdeck.sqlite3"
    assert default_db_path(tmp_path / "explicit") == tmp_path / "explicit" / "quarterdeck.sqlite3"


def test_a_new_store_creates_folders_schema_and_pragmas(tmp_path):
    path = tmp_path / "deep" / "er" / "quarterdeck.sqlite3"
    with Store(path) as store:
        conn = store.connection()
        assert user_version(conn) == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"messages", "deliveries", "attempts", "messages_fts"} <= tables
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, "
                         "created_at, updated_at) VALUES ('ghost', 'A', 'dryrun', 'normal', 1, 'queued', 0, 0)")
        store.enqueue(Message(sender="captain", content="x"), [("Agent-1", "dryrun")])
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE deliveries SET state = 'lost'")
    assert path.is_file()


def test_reopening_keeps_history_and_does_not_migrate_again(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    message = Message(sender="captain", content="kept across restarts")
    with Store(path) as store:
        store.enqueue(message, [("Agent-1", "dryrun")])
    with Store(path) as store:
        assert user_version(store.connection()) == SCHEMA_VERSION
        assert migrate(store.connection()) == SCHEMA_VERSION
        assert [r.message_id for r in search(store, text="restarts")] == [message.id]


def test_a_newer_file_is_refused_untouched(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.execute("CREATE TABLE future (x)")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master")} == {"future"}
    conn.close()


def test_migrations_run_in_order_once_and_all_or_nothing(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    Store(path).close()
    conn = connect(path)
    try:
        broken = (*MIGRATIONS, ("CREATE TABLE extra (x)", "CREATE TABLE extra (y)"))
        with pytest.raises(sqlite3.OperationalError):
            migrate(conn, broken)
        assert user_version(conn) == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").fetchone()[0] == 0
        fixed = (*MIGRATIONS, ("CREATE TABLE extra (x)", "INSERT INTO extra VALUES (1)"))
        assert migrate(conn, fixed) == SCHEMA_VERSION
        assert migrate(conn, fixed) == SCHEMA_VERSION + 1
        assert conn.execute("SELECT count(*) FROM extra").fetchone()[0] == 1
    finally:
        conn.close()


@pytest.mark.parametrize("moment", [
    datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    datetime(2025, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-7))),
    datetime(1999, 12, 31, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2040, 2, 29, 12, 0, tzinfo=UTC),
])
def test_times_round_trip_to_the_microsecond_and_sort_by_value(moment):
    back = from_db_time(to_db_time(moment))
    assert back == moment and back.tzinfo == UTC
    later = moment + timedelta(microseconds=1)
    assert to_db_time(later) > to_db_time(moment)


def test_each_thread_has_its_own_connection_closed_when_the_thread_ends(tmp_path):
    with Store(tmp_path / "quarterdeck.sqlite3") as store:
        main = store.connection()
        assert store.connection() is main
        seen = []
        worker = threading.Thread(target=lambda: seen.append(store.connection()))
        worker.start()
        worker.join()
        assert seen[0] is not main
        gc.collect()
        assert store._conns.open_count() == 1
        with pytest.raises(sqlite3.ProgrammingError):
            seen[0].execute("SELECT 1")


def test_threads_enqueue_concurrently_without_loss(tmp_path):
    with Store(tmp_path / "quarterdeck.sqlite3") as store:
        errors = []

        def writer(n: int) -> None:
            try:
                for i in range(25):
                    store.enqueue(Message(sender="captain", content=f"{n}-{i}"), [(f"Agent-{n}", "dryrun")])
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert store.counts_by_state()["queued"] == 100


def test_a_closed_store_refuses_work_and_closes_twice_quietly(tmp_path):
    store = Store(tmp_path / "quarterdeck.sqlite3")
    conn = store.connection()
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.pending_count()
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")


def test_version_5_widens_the_checks_in_place_and_keeps_every_row(tmp_path):
    path = tmp_path / "v4.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:4])
    conn.execute("INSERT INTO messages (id, sender, sender_kind, type, priority, content, created_at) "
                 "VALUES ('m1', 'Captain', 'captain', 'text', 'normal', 'from version 4', 0)")
    conn.execute("INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, created_at, "
                 "updated_at, verdict) VALUES ('m1', 'Agent-1', 'tmux', 'normal', 1, 'delivered', 0, 0, 'submitted')")
    other = sqlite3.connect(path, isolation_level=None)  # open before the change: must see the new schema
    assert other.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1
    assert migrate(conn, MIGRATIONS[:5]) == 4
    assert user_version(conn) == 5
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    other.execute("INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, created_at, "
                  "updated_at, when_idle, expires_at) VALUES ('m1', 'Agent-1', 'tmux', 'normal', 1, 'waiting', "
                  "1, 1, 1, 99)")
    other.execute("UPDATE deliveries SET state = 'expired' WHERE state = 'waiting'")
    other.execute("UPDATE deliveries SET verdict = 'confirmed_by_agent' WHERE state = 'delivered'")
    other.execute("INSERT INTO agent_events (key, agent_id, source, kind, name, at) "
                  "VALUES ('k', 'Agent-1', 'tmux-watch', 'seen_rate_limited', 'usage limit', 1)")
    with pytest.raises(sqlite3.IntegrityError):
        other.execute("UPDATE deliveries SET state = 'lost'")
    with pytest.raises(sqlite3.IntegrityError):
        other.execute("UPDATE deliveries SET verdict = 'guessed'")
    states = sorted(r[0] for r in conn.execute("SELECT state FROM deliveries"))
    assert states == ["delivered", "expired"]


def test_a_table_that_is_not_as_expected_stops_the_migration_with_one_line(tmp_path):
    conn = sqlite3.connect(tmp_path / "odd.sqlite3", isolation_level=None)
    migrate(conn, MIGRATIONS[:4])
    conn.execute("DROP TABLE agent_events")
    conn.execute("CREATE TABLE agent_events (seq INTEGER PRIMARY KEY, kind TEXT)")
    with pytest.raises(StoreError, match="agent_events is not as this Quarterdeck expects"):
        migrate(conn)
    assert user_version(conn) == 4


def test_version_6_adds_the_machine_that_typed_each_delivery_and_keeps_every_row(tmp_path):
    path = tmp_path / "v5.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:5])
    conn.execute("INSERT INTO messages (id, sender, sender_kind, type, priority, content, created_at) "
                 "VALUES ('m1', 'Captain', 'captain', 'text', 'normal', 'from version 5', 0)")
    conn.execute("INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, created_at, "
                 "updated_at) VALUES ('m1', 'Agent-1', 'tmux', 'normal', 1, 'delivered', 0, 0)")
    conn.close()
    with Store(path) as store:
        assert user_version(store.connection()) == SCHEMA_VERSION
        [old] = store.connection().execute("SELECT id FROM deliveries").fetchall()
        assert store.delivery(old[0]).machine is None  # typed on this machine
        store.connection().execute("UPDATE deliveries SET machine = 'M2'")
        assert store.delivery(old[0]).machine == "M2"


def test_version_7_gives_each_file_an_id_of_its_own_kept_across_opens(tmp_path):
    old = tmp_path / "v6.sqlite3"
    conn = sqlite3.connect(old, isolation_level=None)
    migrate(conn, MIGRATIONS[:6])
    conn.close()
    ids = []
    for path in (old, old, tmp_path / "new.sqlite3"):
        with Store(path) as store:
            assert user_version(store.connection()) == SCHEMA_VERSION
            ids.append(outbox_id(store.connection()))
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert ids[0] == ids[1] != ids[2]  # the same file keeps its id; another file has its own
