"""Outbox writes: enqueue, every state transition (valid and not), attempts, cancel, requeue, redaction."""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import (
    InvalidTransition,
    State,
    Store,
    StoreError,
    UnknownDelivery,
    UnknownMessage,
    message_detail,
    waiting,
)


def msg(content: str = "hello", **fields) -> Message:
    return Message(sender="captain", content=content, **fields)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "quarterdeck.sqlite3") as s:
        yield s


def in_state(store: Store, state: State, agent: str = "Agent-1") -> int:
    """A fresh delivery, driven into ``state`` through the public API (nothing else may be queued)."""
    if state in (State.WAITING, State.EXPIRED):  # sent "when idle"; expired: its time ran out
        [delivery_id] = store.enqueue(msg(), [(agent, "dryrun")], expires_at=datetime.now(UTC).timestamp() + 60)
        assert state is State.WAITING or waiting.expire(store, delivery_id, f"expired after 1 min: {agent} was busy")
        return delivery_id
    [delivery_id] = store.enqueue(msg(), [(agent, "dryrun")])
    if state is State.QUEUED:
        return delivery_id
    if state is State.UNCERTAIN:
        with Store(store.path) as other:
            assert other.claim_next().delivery_id == delivery_id
        assert [row.id for row in store.recover()] == [delivery_id]
        return delivery_id
    assert store.claim_next().delivery_id == delivery_id
    if state is State.DELIVERED:
        store.mark_delivered(delivery_id, 12.0)
    elif state is State.FAILED:
        store.mark_failed(delivery_id, "pane gone")
    elif state is State.CANCELLED:
        store.mark_cancelled(delivery_id)
    return delivery_id


MARKS = {
    State.DELIVERED: lambda s, d: s.mark_delivered(d, 5.0),
    State.FAILED: lambda s, d: s.mark_failed(d, "boom"),
    State.CANCELLED: lambda s, d: s.mark_cancelled(d),
}
QUEUED_LAST = [s for s in State if s is not State.QUEUED] + [State.QUEUED]
ALLOWED = {
    State.DELIVERED: {State.SENDING},
    State.FAILED: {State.SENDING},
    State.CANCELLED: {State.QUEUED, State.SENDING, State.WAITING},
}


@pytest.mark.parametrize("start", list(State))
@pytest.mark.parametrize("target", list(MARKS))
def test_every_mark_from_every_state(store, start, target):
    delivery_id = in_state(store, start)
    assert store.delivery(delivery_id).state is start
    if start in ALLOWED[target]:
        MARKS[target](store, delivery_id)
        row = store.delivery(delivery_id)
        assert row.state is target
        assert row.finished_at is not None
    else:
        with pytest.raises(InvalidTransition) as refused:
            MARKS[target](store, delivery_id)
        assert (refused.value.current, refused.value.wanted) == (start.value, target.value)
        assert store.delivery(delivery_id).state is start


@pytest.mark.parametrize("start", [s for s in State if s is not State.QUEUED])
def test_only_queued_deliveries_are_ever_claimed(store, start):
    delivery_id = in_state(store, start)
    store.enqueue(msg(), [("Agent-2", "dryrun")])
    task = store.claim_next()
    assert task is not None and task.delivery_id != delivery_id
    assert store.delivery(delivery_id).state is start


@pytest.mark.parametrize("start", [s for s in State if s is not State.SENDING])
def test_recover_touches_nothing_but_sending(store, start):
    delivery_id = in_state(store, start)
    assert store.recover() == []
    assert store.delivery(delivery_id).state is start


def test_delivered_records_latency_and_text_hash(store):
    delivery_id = in_state(store, State.SENDING)
    store.mark_delivered(delivery_id, 42.5, final_text_hash="ab12")
    row = store.delivery(delivery_id)
    assert (row.latency_ms, row.final_text_hash, row.reason) == (42.5, "ab12", None)
    assert row.started_at <= row.finished_at


def test_failure_needs_a_reason(store):
    delivery_id = in_state(store, State.SENDING)
    with pytest.raises(ValueError):
        store.mark_failed(delivery_id, "  ")
    assert store.delivery(delivery_id).state is State.SENDING
    store.mark_failed(delivery_id, "tmux pane %3 is gone")
    assert store.delivery(delivery_id).reason == "tmux pane %3 is gone"


@pytest.mark.parametrize("call", [
    lambda s: s.mark_delivered(999, 1.0),
    lambda s: s.mark_failed(999, "x"),
    lambda s: s.mark_cancelled(999),
    lambda s: s.record_attempt(999, 1, True, None, datetime.now(UTC), datetime.now(UTC)),
    lambda s: s.requeue([999]),
    lambda s: s.delivery(999),
])
def test_unknown_delivery_ids_are_reported(store, call):
    with pytest.raises(UnknownDelivery):
        call(store)


def test_enqueue_writes_the_message_and_one_queued_delivery_per_recipient(store):
    message = msg("status?", tags=["captain"], priority="urgent", type="broadcast")
    ids = store.enqueue(message, [("Agent-1", "tmux"), ("Agent-2", "inbox")])
    detail = message_detail(store, message.id)
    assert detail.message.recipients == ("Agent-1", "Agent-2")
    assert (detail.message.tags, detail.message.priority, detail.message.type) == (("captain",), "urgent", "broadcast")
    assert detail.message.created_at == message.created_at
    assert [d.delivery.id for d in detail.deliveries] == ids
    assert [(d.delivery.agent_id, d.delivery.transport, d.delivery.state) for d in detail.deliveries] == [
        ("Agent-1", "tmux", State.QUEUED), ("Agent-2", "inbox", State.QUEUED)]


@pytest.mark.parametrize("recipients, kwargs", [
    ([], {}),
    ([("Agent-1", "dryrun"), ("Agent-1", "tmux")], {}),
    ([("Agent-1", "dryrun")], {"redacted": True}),
])
def test_enqueue_refuses_bad_requests_and_stores_nothing(store, recipients, kwargs):
    with pytest.raises(ValueError):
        store.enqueue(msg(), recipients, **kwargs)
    assert sum(store.counts_by_state().values()) == 0


def test_enqueue_is_one_transaction(store):
    message = msg()
    with pytest.raises(sqlite3.IntegrityError):
        store.enqueue(message, [("Agent-1", "dryrun"), ("Agent-2", None)])
    with pytest.raises(UnknownMessage):
        message_detail(store, message.id)
    assert sum(store.counts_by_state().values()) == 0


def test_the_same_message_cannot_be_enqueued_twice(store):
    message = msg()
    store.enqueue(message, [("Agent-1", "dryrun")])
    with pytest.raises(StoreError):
        store.enqueue(message, [("Agent-2", "dryrun")])
    assert store.counts_by_state()["queued"] == 1


def test_attempts_are_logged_while_sending_only(store):
    delivery_id = in_state(store, State.SENDING)
    t0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    store.record_attempt(delivery_id, 1, False, "not seen in pane", t0, t0 + timedelta(seconds=1))
    store.record_attempt(delivery_id, 2, True, None, t0 + timedelta(seconds=2), t0 + timedelta(seconds=3))
    with pytest.raises(StoreError):
        store.record_attempt(delivery_id, 2, True, None, t0, t0)
    with pytest.raises(StoreError):
        store.record_attempt(delivery_id, 0, True, None, t0, t0)
    store.mark_delivered(delivery_id, 3000.0)
    with pytest.raises(StoreError):
        store.record_attempt(delivery_id, 3, True, None, t0, t0)
    assert store.delivery(delivery_id).attempts == 2
    [detail] = message_detail(store, store.delivery(delivery_id).message_id).deliveries
    assert [(a.n, a.ok, a.error, a.started_at) for a in detail.attempts] == [
        (1, False, "not seen in pane", t0), (2, True, None, t0 + timedelta(seconds=2))]


def test_cancel_queued_for_one_agent_or_all_leaves_sending_alone(store):
    store.enqueue(msg(), [("Agent-1", "dryrun"), ("Agent-2", "dryrun"), ("Agent-3", "dryrun")])
    store.enqueue(msg(), [("Agent-1", "dryrun"), ("Agent-2", "dryrun")])
    sending = store.claim_next()
    assert sending.agent_id == "Agent-1"
    assert store.cancel_queued("Agent-2") == 2
    assert store.counts_by_state() == {"queued": 2, "sending": 1, "delivered": 0, "failed": 0,
                                       "cancelled": 2, "uncertain": 0, "waiting": 0, "expired": 0}
    assert store.cancel_queued() == 2
    assert store.cancel_queued() == 0
    assert store.delivery(sending.delivery_id).state is State.SENDING
    assert store.pending_count() == 1


def test_requeue_retries_failed_and_uncertain_only_and_only_once(store):
    by_state = {state: in_state(store, state, f"Agent-{n}") for n, state in enumerate(QUEUED_LAST)}
    new_ids = store.requeue(list(by_state.values()))
    assert len(new_ids) == 2
    retried = {store.delivery(i).retry_of: store.delivery(i) for i in new_ids}
    assert set(retried) == {by_state[State.FAILED], by_state[State.UNCERTAIN]}
    for old_id, row in retried.items():
        old = store.delivery(old_id)
        assert (row.state, row.agent_id, row.transport, row.message_id) == (
            State.QUEUED, old.agent_id, old.transport, old.message_id)
        assert old.state in (State.FAILED, State.UNCERTAIN)
    assert store.requeue(list(by_state.values())) == []


def test_a_failed_retry_can_be_retried_again(store):
    first = in_state(store, State.FAILED)
    [second] = store.requeue([first])
    task = store.claim_next()
    assert (task.delivery_id, task.retry_of) == (second, first)
    store.mark_failed(second, "still down")
    [third] = store.requeue([first, second])
    assert store.delivery(third).retry_of == second
    detail = message_detail(store, store.delivery(first).message_id)
    assert [d.delivery.id for d in detail.deliveries] == [first, second, third]


def test_counts(store):
    for n, state in enumerate(QUEUED_LAST):
        in_state(store, state, f"Agent-{n}")
    store.enqueue(msg(), [("Agent-8", "dryrun"), ("Agent-9", "dryrun")])
    counts = store.counts_by_state()
    assert counts == {"queued": 3, "sending": 1, "delivered": 1, "failed": 1, "cancelled": 1, "uncertain": 1,
                      "waiting": 1, "expired": 1}
    assert store.pending_count() == 4


def test_redacted_content_never_reaches_the_file(tmp_path):
    secret = "ghp_" + "Z8mQ2xW7kR4tY9uP3sV6nB1cL5dF0gH2jK4a"
    kept = "visible-marker-" + "7f3c9a"
    path = tmp_path / "quarterdeck.sqlite3"
    with Store(path) as store:
        store.enqueue(msg(f"use token {secret} please"), [("Agent-1", "dryrun")],
                      content_to_store="use token [REDACTED:github-pat] please", redacted=True)
        store.enqueue(msg(f"plain {kept}"), [("Agent-1", "dryrun")])
        task = store.claim_next()
        assert task.redacted and task.content == "use token [REDACTED:github-pat] please"
        on_disk = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert kept.encode() in on_disk
    assert secret.encode() not in on_disk
    assert secret.encode("utf-16-le") not in on_disk
    assert secret[4:].encode() not in on_disk


def test_a_verdict_and_its_evidence_are_kept_and_read_as_the_outcome(tmp_path):
    from quarterdeck.core.models import Message

    store = Store(tmp_path / "v.sqlite3")
    store.enqueue(Message(sender="Captain", recipients=["A", "B", "C"], content="hi"),
                  [("A", "gui"), ("B", "gui"), ("C", "gui")])
    a, b, c = (store.claim_next() for _ in range(3))
    store.mark_delivered(a.delivery_id, 12.0, verdict="submitted", evidence="input read back by accessibility")
    store.mark_delivered(b.delivery_id, 9.0)
    store.mark_failed(c.delivery_id, "Enter ignored", verdict="typed_not_submitted", evidence="read back")
    rows = {t.agent_id: store.delivery(t.delivery_id) for t in (a, b, c)}
    assert (rows["A"].outcome, rows["A"].evidence) == ("submitted", "input read back by accessibility")
    assert (rows["B"].outcome, rows["B"].verdict) == ("unverified", "unverified")
    assert (rows["C"].outcome, rows["C"].reason) == ("typed, not submitted", "Enter ignored")
    with pytest.raises(ValueError):
        store.mark_failed(a.delivery_id, "x", verdict="submitted")
    store.close()
