"""The ledger's receipt queue: steps queue until the final receipt, the final one once (again only
when asked), and a receipt of a delivery the ledger does not know (a refused entry) still queues;
an inbox round's receipts are recorded together, without the sending steps that end in it."""
from __future__ import annotations

from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.relay.ledger import Ledger
from quarterdeck.core.relay.protocol import Receipt
from quarterdeck.core.relay.receipts import Receipts
from quarterdeck.core.store.outbox import Store


def test_steps_then_one_final_then_nothing_unless_told_again(tmp_path) -> None:
    ledger = Ledger(tmp_path)
    try:
        ledger.record(7, "m-7", "Agent-1")
        ledger.set_local(7, 70)
        sending = Receipt("box-1", 7, "Agent-1", "sending", attempts=1)
        done = Receipt("box-1", 7, "Agent-1", "delivered", verdict="submitted", attempts=1)
        assert ledger.add_receipt(sending, final=False)
        assert ledger.add_receipt(sending, final=False)  # a retry's step is queued too
        assert ledger.add_receipt(done, final=True)
        assert ledger.open_deliveries() == []  # closed
        assert not ledger.add_receipt(done, final=True)  # its end was recorded already
        assert not ledger.add_receipt(sending, final=False)  # a late step after the end is not told
        assert ledger.add_receipt(done, final=True, again=True)  # a repeat of the entry: told once more
        assert ledger.add_receipt(Receipt("box-1", 9, "Agent-2", "failed", reason="x"), final=True)  # unknown: queued
        states = [fields["state"] for _, fields in ledger.unpublished()]
        assert states == ["sending", "sending", "delivered", "delivered", "failed"]
        ledger.published(ledger.unpublished()[-1][0])
        assert ledger.unpublished_count() == 0
    finally:
        ledger.close()


def test_a_rounds_receipts_are_recorded_together_and_a_sending_that_ends_in_it_is_not_told(tmp_path) -> None:
    ledger = Ledger(tmp_path)
    store = Store(tmp_path / "outbox.sqlite3")
    receipts = Receipts("box-1", ledger, store)
    try:
        for captain, local in ((1, 10), (2, 20), (3, 30)):
            ledger.record(captain, f"m-{captain}", "Agent-1")
            ledger.set_local(captain, local)
        ledger.record(4, "m-4", "Agent-2")  # being queued: its local id not written yet
        with receipts.batched():
            receipts.on_event(DeliveryEvent(10, "m-1", "Agent-1", "sending"))
            receipts.on_event(DeliveryEvent(20, "m-2", "Agent-1", "sending"))
            receipts.on_event(DeliveryEvent(40, "m-4", "Agent-2", "sending"))
            receipts.on_event(DeliveryEvent(99, "m-9", "Agent-1", "sending"))  # not relayed: no receipt
            receipts.on_event(DeliveryEvent(10, "m-1", "Agent-1", "delivered", 1, verdict="submitted",
                                            evidence="written to x"))
            receipts.on_event(DeliveryEvent(30, "m-3", "Agent-1", "retrying", 1, "disk full"))
            assert ledger.unpublished_count() == 0  # held until the round ends
        told = [(f["delivery"], f["state"], f.get("reason", "")) for _, f in ledger.unpublished()]
        assert told == [("2", "sending", ""), ("4", "sending", ""), ("1", "delivered", ""),
                        ("3", "sending", "disk full")]
        assert receipts.wake.is_set()
        assert [r.captain_delivery for r in ledger.open_deliveries()] == [2, 3]  # 1 closed; 4 has no local yet
        receipts.on_event(DeliveryEvent(20, "m-2", "Agent-1", "delivered", 1, verdict="submitted"))  # outside: at once
        assert ledger.unpublished()[-1][1]["state"] == "delivered" and ledger.unpublished_count() == 5
    finally:
        ledger.close()
        store.close()


def test_a_round_whose_receipts_cannot_be_recorded_says_one_line_and_leaves_them_to_the_sweep(
        tmp_path, caplog) -> None:
    ledger = Ledger(tmp_path)
    store = Store(tmp_path / "outbox.sqlite3")
    receipts = Receipts("box-1", ledger, store)
    try:
        ledger.record(1, "m-1", "Agent-1")
        ledger.set_local(1, 10)
        with receipts.batched():
            receipts.on_event(DeliveryEvent(10, "m-1", "Agent-1", "delivered", 1, verdict="submitted"))
            ledger.close()  # the ledger fails under the round (a closed connection is an sqlite3 error)
        lines = [r.getMessage() for r in caplog.records if r.name == "quarterdeck.relay"]
        assert lines == ["relay box-1: 1 receipt(s) of a round not recorded now (Cannot operate on a closed "
                         "database.); their final states are reported by the next sweep"]
        assert all(r.exc_info is None for r in caplog.records)
    finally:
        store.close()


def test_receipts_added_together_are_queued_as_one_by_one_would_be(tmp_path) -> None:
    """The batch (three statements) and the one-by-one path (an id twice in the batch) agree: a closed
    delivery's receipt is not queued, a final one closes its delivery, the order is kept."""
    def queued(receipts: list[tuple[Receipt, bool]], folder: str) -> tuple[int, list[tuple[str, str]], list[int]]:
        ledger = Ledger(tmp_path / folder)
        try:
            for captain in (1, 2, 3):
                ledger.record(captain, f"m-{captain}", "Agent-1")
                ledger.set_local(captain, captain * 10)
            ledger.add_receipt(Receipt("box-1", 3, "Agent-1", "failed", reason="gone"), final=True)  # closed
            added = ledger.add_receipts(receipts)
            told = [(f["delivery"], f["state"]) for _, f in ledger.unpublished()][1:]
            return added, told, [r.captain_delivery for r in ledger.open_deliveries()]
        finally:
            ledger.close()

    done = Receipt("box-1", 1, "Agent-1", "delivered", verdict="submitted", attempts=1)
    step = Receipt("box-1", 2, "Agent-1", "sending", attempts=2, reason="disk full")
    late = Receipt("box-1", 3, "Agent-1", "delivered", verdict="submitted", attempts=1)
    assert queued([(done, True), (step, False), (late, True)], "together") == (2, [("1", "delivered"),
                                                                                 ("2", "sending")], [2])
    again = Receipt("box-1", 1, "Agent-1", "failed", reason="twice")  # the same delivery again: after its end
    assert queued([(done, True), (step, False), (again, True), (late, True)], "each") == (
        2, [("1", "delivered"), ("2", "sending")], [2])
