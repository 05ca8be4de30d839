"""The composer's rows follow the outbox when in doubt: a stopped delivery is cancelled, not paused."""
from __future__ import annotations

from quarterdeck.core.compose.progress import SendProgress
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.models import Message
from quarterdeck.core.store import Store


def test_after_a_stop_the_rows_show_what_the_outbox_holds(tmp_path):
    with Store(tmp_path / "q.sqlite3") as store:
        message = Message(sender="Captain", recipients=["Agent-1", "Agent-2", "Agent-3"], content="x")
        ids = store.enqueue(message, [("Agent-1", "gui"), ("Agent-2", "gui"), ("Agent-3", "dryrun")])
        progress = SendProgress()
        progress.start([message.id])
        progress.submitted(message.id, ["Agent-1", "Agent-2", "Agent-3"], ids)
        claimed = store.claim_next()
        assert claimed is not None
        store.mark_delivered(ids[0], 12.0)
        progress.event(DeliveryEvent(ids[0], message.id, "Agent-1", "delivered", latency=0.012))
        progress.event(DeliveryEvent(ids[1], message.id, "Agent-2", "paused", detail="pointer moved"))
        assert [r.state for r in progress.rows] == ["delivered", "paused", "queued"]
        assert progress.outcome() is None  # Agent-3 is still waiting
        store.request_stop()
        assert progress.unfinished_ids() == ids[1:]
        changed = progress.recorded([store.delivery(i) for i in progress.unfinished_ids()])
        assert changed == [1, 2]
        assert [r.state for r in progress.rows] == ["delivered", "cancelled", "cancelled"]
        text, bad = progress.outcome()
        assert text == "0/3 submitted · 1 unverified · 2 cancelled" and bad


def test_a_queued_record_leaves_a_paused_row_alone(tmp_path):
    with Store(tmp_path / "q.sqlite3") as store:
        message = Message(sender="Captain", recipients=["Agent-1"], content="x")
        ids = store.enqueue(message, [("Agent-1", "gui")])
        progress = SendProgress()
        progress.start([message.id])
        progress.submitted(message.id, ["Agent-1"], ids)
        progress.event(DeliveryEvent(ids[0], message.id, "Agent-1", "paused"))
        assert progress.recorded([store.delivery(ids[0])]) == []
        assert progress.rows[0].state == "paused"


def test_stop_all_cancels_paused_rows_too():
    progress = SendProgress()
    progress.start(["m"])
    progress.submitted("m", ["Agent-1", "Agent-2"], [1, 2])
    progress.event(DeliveryEvent(1, "m", "Agent-1", "paused"))
    assert progress.queue_cancelled() == [0, 1]
    assert {r.state for r in progress.rows} == {"cancelled"}
