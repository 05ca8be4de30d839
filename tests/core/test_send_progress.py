"""The composer's per-recipient progress, driven by delivery events only."""
from __future__ import annotations

from quarterdeck.core.compose.progress import ProgressRow, SendProgress
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent


def ev(delivery_id: int, state: str, message_id: str = "m1", agent: str = "Agent-1", **kw) -> DeliveryEvent:
    return DeliveryEvent(delivery_id, message_id, agent, state, **kw)


def test_rows_follow_their_events():
    progress = SendProgress()
    progress.start(["m1"])
    assert progress.summary() == "Waiting for the outbox…"
    assert progress.submitted("m1", ["Agent-1", "Agent-2"], [7, 8]) == [0, 1]
    assert progress.event(ev(7, "sending")) == 0
    assert progress.event(ev(8, "retrying", agent="Agent-2", attempt=1, detail="boom")) == 1
    assert progress.rows[1].text() == "retrying (attempt 1 failed)"
    progress.event(ev(7, "delivered", attempt=1, latency=0.4213, verdict="submitted"))
    progress.event(ev(8, "failed", agent="Agent-2", attempt=4, detail="injected failure 4"))
    assert [r.text() for r in progress.rows] == ["submitted ✓ 421 ms", "failed ✗ injected failure 4"]
    assert progress.retryable_ids() == [8]
    assert progress.summary() == "2 recipients: 1 submitted, 1 failed"


def test_events_of_other_messages_are_ignored():
    progress = SendProgress()
    progress.start(["m1"])
    progress.submitted("m1", ["Agent-1"], [1])
    assert progress.event(ev(2, "sending", message_id="other")) is None
    assert progress.submitted("other", ["Agent-1"], [2]) == []
    assert progress.rows[0].state == "queued"


def test_early_events_are_replayed_when_the_submission_arrives():
    progress = SendProgress()
    progress.start(["m1"])
    assert progress.event(ev(5, "sending")) is None
    assert progress.event(ev(5, "delivered", latency=0.1)) is None
    progress.submitted("m1", ["Agent-1"], [5])
    assert progress.rows[0].state == "delivered"


def test_retry_moves_a_row_to_its_new_delivery():
    progress = SendProgress()
    progress.start(["m1"])
    progress.submitted("m1", ["Agent-1"], [3])
    progress.event(ev(3, "failed", detail="x"))
    progress.event(ev(9, "sending"))  # the new delivery started before the retry job answered
    assert progress.requeued({3: 9, 77: 78}) == [0]
    assert progress.rows[0] == ProgressRow("Agent-1", "m1", 9, "sending", retries=1)
    progress.event(ev(3, "failed", detail="late event of the old delivery"))
    assert progress.rows[0].state == "sending"


def test_stop_all_cancels_queued_rows_and_refused_messages_stop_waiting():
    progress = SendProgress()
    progress.start(["m1", "m2"])
    progress.submitted("m1", ["Agent-1", "Agent-2"], [1, 2])
    progress.event(ev(1, "sending"))
    progress.refused("m2")
    assert progress.queue_cancelled() == [1]
    assert progress.rows[1].text() == "cancelled (stop all)"
    assert progress.event(ev(5, "sending", message_id="m2")) is None
    assert ProgressRow("A", "m", 1, "paused").text().startswith("paused")
    assert ProgressRow("A", "m", 1, "delivered").text() == "unverified"
    assert ProgressRow("A", "m", 1, "delivered", latency=2.345, evidence="keys sent").text() == \
        "unverified 2.3 s · keys sent"
    assert ProgressRow("A", "m", 1, "delivered", latency=0.2, verdict="submitted",
                       evidence="input read back by accessibility").text() == \
        "submitted ✓ 200 ms · input read back by accessibility"
    assert ProgressRow("A", "m", 1, "failed", verdict="typed_not_submitted", detail="Enter ignored").text() == \
        "typed, not submitted ✗ Enter ignored"


def test_the_outcome_is_said_once_nothing_is_queued_or_in_flight():
    progress = SendProgress()
    progress.start(["m1"])
    progress.submitted("m1", ["A", "B", "C"], [1, 2, 3])
    assert progress.outcome() is None  # all queued
    progress.event(ev(1, "delivered", verdict="submitted", message_id="m1", agent="A"))
    progress.event(ev(2, "delivered", verdict="submitted", message_id="m1", agent="B"))
    assert progress.outcome() is None  # C still queued
    progress.event(ev(3, "failed", verdict="typed_not_submitted", message_id="m1", agent="C"))
    assert progress.outcome() == ("2/3 submitted · 1 typed, not submitted", True)


def test_an_uncertain_delivery_is_never_retried_as_failed():
    """The text may have arrived (a pane lost after the paste): Retry failed must not send it twice."""
    progress = SendProgress()
    progress.start(["m1"])
    progress.submitted("m1", ["Agent-1", "Agent-2"], [7, 8])
    progress.event(ev(7, "uncertain", detail="tmux pane gone after the paste"))
    progress.event(ev(8, "failed", agent="Agent-2", detail="no such pane"))
    assert progress.retryable_ids() == [8]
