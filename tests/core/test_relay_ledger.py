"""The relay's ledger (quarterdeck.core.relay.ledger): a repeat is the same captain delivery of the
same message; an id reused for another message after the first one ended is a new delivery."""
from __future__ import annotations

from quarterdeck.core.relay.ledger import Ledger
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
        ledger.record_many([(1, "m-1", "Agent-1"), (2, "m-2", "Agent-1"), (3, "m-3", "Agent-2")])
        ledger.set_locals([(1, 10), (2, 20), (3, 30)])
        assert ledger.add_receipt(Receipt("box-1", 2, "Agent-1", "delivered", verdict="submitted"), final=True)
        rows = ledger.record_many([(1, "m-1", "Agent-1"),  # a repeat: keeps its local delivery
                                   (2, "m-9", "Agent-1"),  # id 2 ended: reused for another message
                                   (3, "m-8", "Agent-2"),  # id 3 in flight: kept as it is
                                   (4, "m-4", "Agent-1")])  # new
        assert [(r.captain_delivery, r.message_id, r.local_delivery) for r in rows] == [
            (1, "m-1", 10), (2, "m-9", None), (3, "m-3", 30), (4, "m-4", None)]
        twice = ledger.record_many([(5, "m-5", "Agent-1"), (5, "m-6", "Agent-1")])  # one id twice: the first holds
        assert [(r.captain_delivery, r.message_id) for r in twice] == [(5, "m-5"), (5, "m-5")]
    finally:
        ledger.close()
