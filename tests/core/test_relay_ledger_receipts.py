"""The ledger's receipt queue: steps queue until the final receipt, the final one once (again only
when asked), and a receipt of a delivery the ledger does not know (a refused entry) still queues."""
from __future__ import annotations

from quarterdeck.core.relay.ledger import Ledger
from quarterdeck.core.relay.protocol import Receipt


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
