"""The relay's ledger (quarterdeck.core.relay.ledger): a repeat is the same captain delivery of the
same message; an id reused for another message after the first one ended is a new delivery."""
from __future__ import annotations

import sqlite3

from quarterdeck.core.relay.ledger import FILE_NAME, Ledger
from quarterdeck.core.relay.protocol import Receipt


def test_a_repeat_keeps_its_local_delivery(tmp_path):
    ledger = Ledger(tmp_path)
    try:
        assert ledger.record(4, "m-1", "Agent-1").local_delivery is None
        ledger.set_local(4, 17)
        assert ledger.record(4, "m-1", "Agent-1").local_delivery == 17  # the same entry again
    finally:
        ledger.close()


def test_an_id_reused_for_another_message_after_the_first_ended_is_a_new_delivery(tmp_path):
    # a captain whose outbox was started afresh numbers its deliveries from 1 again
    ledger = Ledger(tmp_path)
    try:
        ledger.record(4, "m-1", "Agent-1")
        ledger.set_local(4, 17)
        in_flight = ledger.record(4, "m-2", "Agent-1")
        assert (in_flight.message_id, in_flight.local_delivery) == ("m-1", 17)  # the first is still going
        assert ledger.add_receipt(Receipt("box-1", 4, "Agent-1", "delivered", verdict="submitted"), final=True)
        fresh = ledger.record(4, "m-2", "Agent-1")
        assert (fresh.message_id, fresh.local_delivery) == ("m-2", None)  # typed, not taken for a repeat
        assert ledger.record(4, "m-2", "Agent-1").message_id == "m-2"
    finally:
        ledger.close()


def test_a_read_of_entries_is_recorded_as_each_one_in_turn_would_be(tmp_path):
    ledger = Ledger(tmp_path / "a")
    try:
        ledger.record_many([("c1", 1, "m-1", "Agent-1"), ("c1", 2, "m-2", "Agent-1"), ("c1", 3, "m-3", "Agent-2")])
        ledger.set_locals([(("c1", 1), 10), (("c1", 2), 20), (("c1", 3), 30)])
        done = Receipt("box-1", 2, "Agent-1", "delivered", verdict="submitted", captain="c1")
        assert ledger.add_receipt(done, final=True)
        rows = ledger.record_many([("c1", 1, "m-1", "Agent-1"),  # a repeat: keeps its local delivery
                                   ("c1", 2, "m-9", "Agent-1"),  # id 2 ended: reused for another message
                                   ("c1", 3, "m-8", "Agent-2"),  # id 3 in flight: kept as it is
                                   ("c2", 3, "m-7", "Agent-2"),  # another captain's 3: its own delivery
                                   ("c1", 4, "m-4", "Agent-1")])  # new
        assert [(r.captain, r.captain_delivery, r.message_id, r.local_delivery) for r in rows] == [
            ("c1", 1, "m-1", 10), ("c1", 2, "m-9", None), ("c1", 3, "m-3", 30), ("c2", 3, "m-7", None),
            ("c1", 4, "m-4", None)]
        twice = ledger.record_many([("c1", 5, "m-5", "Agent-1"), ("c1", 5, "m-6", "Agent-1"),
                                    ("c2", 5, "m-6", "Agent-1")])  # one delivery twice: the first holds
        assert [(r.captain, r.captain_delivery, r.message_id) for r in twice] == [
            ("c1", 5, "m-5"), ("c1", 5, "m-5"), ("c2", 5, "m-6")]
    finally:
        ledger.close()


def test_receipts_close_the_delivery_of_their_own_captain_only(tmp_path):
    ledger = Ledger(tmp_path)
    try:
        ledger.record_many([("c1", 7, "m-1", "Agent-1"), ("c2", 7, "m-2", "Agent-1")])
        ledger.set_locals([(("c1", 7), 70), (("c2", 7), 71)])
        first = Receipt("box-1", 7, "Agent-1", "delivered", verdict="submitted", captain="c1")
        assert ledger.add_receipts([(first, True)]) == 1
        assert [(r.captain, r.local_delivery) for r in ledger.open_deliveries()] == [("c2", 71)]
        second = Receipt("box-1", 7, "Agent-1", "failed", reason="no", captain="c2")
        assert ledger.add_receipts([(first, True), (second, True)]) == 1  # c1's was closed already
        assert ledger.open_deliveries() == []
        assert [f["captain"] for _, f in ledger.unpublished()] == ["c1", "c2"]
    finally:
        ledger.close()


def test_a_ledger_written_before_captains_were_told_apart_is_moved_over_and_keeps_every_row(tmp_path):
    old = sqlite3.connect(tmp_path / FILE_NAME)
    old.executescript("""
        CREATE TABLE relayed_deliveries (captain_delivery INTEGER PRIMARY KEY, message_id TEXT NOT NULL,
            agent TEXT NOT NULL, local_delivery INTEGER UNIQUE, final INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX relayed_by_message ON relayed_deliveries (message_id, agent);
        CREATE INDEX relayed_open ON relayed_deliveries (final) WHERE final = 0;
        CREATE TABLE unpublished (seq INTEGER PRIMARY KEY AUTOINCREMENT, fields TEXT NOT NULL);
        INSERT INTO relayed_deliveries VALUES (1, 'm-1', 'Agent-1', 10, 1), (2, 'm-2', 'Agent-1', 20, 0);
    """)
    old.close()
    for _ in range(2):  # moved once; opened again, as it is
        ledger = Ledger(tmp_path)
        try:
            assert [(r.captain, r.captain_delivery, r.local_delivery) for r in ledger.open_deliveries()] == [
                ("", 2, 20)]
            assert ledger.record(1, "m-1", "Agent-1").local_delivery == 10  # a repeat still
            assert ledger.record(2, "m-2", "Agent-1", captain="c1").local_delivery is None  # another captain's
        finally:
            ledger.close()
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"relayed_by_message", "relayed_open"} <= names and "relayed_v1" not in names
