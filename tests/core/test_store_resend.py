"""Resending a message to the recipients it missed: only failed/uncertain ones, and only once."""
from __future__ import annotations

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import Store, UnknownMessage, message_detail
from quarterdeck.core.store.resend import ResendOutcome, resend_failed, resendable


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "quarterdeck.sqlite3") as s:
        yield s


def _fail_next(store: Store, reason: str = "timeout") -> int:
    task = store.claim_next()
    store.mark_failed(task.delivery_id, reason)
    return task.delivery_id


def test_requeues_failed_recipients_once_and_says_so(store):
    message = Message(sender="captain", content="deploy")
    first, _second, third = store.enqueue(message, [("Agent-1", "dryrun"), ("Agent-2", "dryrun"),
                                                   ("Agent-3", "dryrun")])
    _fail_next(store)
    task = store.claim_next()
    store.mark_delivered(task.delivery_id, 12.0)
    _fail_next(store)
    outcome = resend_failed(store, [message.id])
    assert outcome.candidates == (first, third) and outcome.agents == ("Agent-1", "Agent-3")
    assert [store.delivery(i).retry_of for i in outcome.requeued] == [first, third]
    assert outcome.summary() == "2 requeued (Agent-1, Agent-3)."

    again = resend_failed(store, [message.id, message.id])
    assert again.requeued == () and again.skipped == 2
    assert again.summary() == "Nothing requeued; 2 were already resent once."


def test_a_failed_retry_is_resent_while_the_original_counts_as_already_resent(store):
    message = Message(sender="captain", content="deploy")
    [first] = store.enqueue(message, [("Agent-1", "dryrun")])
    _fail_next(store)
    assert resendable(message_detail(store, message.id)) == [first]
    [retry] = resend_failed(store, [message.id]).requeued
    assert resendable(message_detail(store, message.id)) == []
    assert _fail_next(store) == retry
    assert resendable(message_detail(store, message.id)) == [retry]
    outcome = resend_failed(store, [message.id])
    assert outcome.candidates == (first, retry) and len(outcome.requeued) == 1
    assert outcome.summary() == "1 requeued (Agent-1); 1 was already resent once."


def test_nothing_to_resend_and_unknown_messages(store):
    message = Message(sender="captain", content="hello")
    store.enqueue(message, [("Agent-1", "dryrun")])
    outcome = resend_failed(store, [message.id])
    assert outcome == ResendOutcome(candidates=(), requeued=(), agents=())
    assert outcome.summary() == "Nothing to resend: no failed or uncertain deliveries."
    with pytest.raises(UnknownMessage):
        resend_failed(store, ["missing"])
