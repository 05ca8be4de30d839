"""Relayed deliveries claimed and settled in batches on a real outbox: one batch of receipts recorded
with one UPDATE statement keeps each outcome's rules (a final word over ``sending``, the relay's late
word over an ``uncertain`` guess, never over a delivered one; a step on the way changes nothing;
another outbox's receipt matches nothing), in the order the receipts came."""
from __future__ import annotations

from pathlib import Path

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import Store
from quarterdeck.core.store.forwarding import Outcome, any_queued, claim, settle, settle_and_claim

RELAYS = {"A1": "M1", "A2": "M1", "B1": "M2"}


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "quarterdeck.sqlite3") as s:
        yield s


def queue(store: Store, agent: str, n: int) -> list[int]:
    return [store.enqueue(Message(sender="captain", content=f"{agent} {i}"), [(agent, "relay")])[0]
            for i in range(n)]


def test_claim_takes_the_relays_agents_in_order_with_their_relay(store):
    ids = queue(store, "A1", 2) + queue(store, "B1", 1) + queue(store, "local", 1)
    assert any_queued(store, RELAYS)
    claimed = claim(store, RELAYS, own_only=False, limit=10)
    assert [(c.task.delivery_id, c.relay) for c in claimed] == [(ids[0], "M1"), (ids[1], "M1"), (ids[2], "M2")]
    assert store.states_of(ids) == {ids[0]: "sending", ids[1]: "sending", ids[2]: "sending", ids[3]: "queued"}
    assert not any_queued(store, RELAYS)
    assert claim(store, RELAYS, own_only=False, limit=10) == []


def test_one_batch_keeps_each_receipts_rules_in_order(store):
    a, b, c, d, e = queue(store, "A1", 3) + queue(store, "B1", 2)
    claim(store, RELAYS, own_only=False, limit=10)
    batch = [
        Outcome(a, "A1", "M1", "sending"),  # a step on the way: this outbox's, nothing recorded
        Outcome(a, "A1", "M1", "delivered", verdict="submitted", evidence="written", attempts=1),
        Outcome(a, "A1", "M1", "failed", "relay M1: late", attempts=2),  # a delivered one stays delivered
        Outcome(b, "A1", "M1", "uncertain", "relay M1 did not report"),
        Outcome(b, "A1", "M1", "delivered", verdict="submitted", evidence="late", attempts=1),  # replaces it
        Outcome(c, "A1", "M2", "delivered"),  # another relay's: not this outbox's delivery
        Outcome(d, "B1", "M2", "failed", "relay M2: window gone", verdict="not_typed", attempts=3),
        Outcome(99_999, "B1", "M2", "delivered"),  # no such delivery here
    ]
    applied, matched = settle(store, batch)
    assert [(x.outcome.delivery, x.outcome.state, x.was) for x in applied] == [
        (a, "delivered", "sending"), (b, "uncertain", "sending"), (b, "delivered", "uncertain"),
        (d, "failed", "sending")]
    assert matched == {(a, "A1", "M1"), (b, "A1", "M1"), (d, "B1", "M2")}
    assert store.states_of([a, b, c, d, e]) == {a: "delivered", b: "delivered", c: "sending", d: "failed",
                                                 e: "sending"}
    row_a, row_b, row_d = store.delivery(a), store.delivery(b), store.delivery(d)
    assert (row_a.verdict, row_a.evidence, row_a.attempts, row_a.reason) == ("submitted", "written", 1, None)
    assert row_a.latency_ms is not None and row_a.latency_ms >= 0
    assert (row_b.evidence, row_b.reason) == ("late", None)
    assert (row_d.reason, row_d.verdict, row_d.attempts, row_d.latency_ms) == (
        "relay M2: window gone", "not_typed", 3, None)


def test_a_batch_of_repeats_and_steps_writes_nothing(store):
    a, = queue(store, "A2", 1)
    claim(store, RELAYS, own_only=False, limit=10)
    assert settle(store, [Outcome(a, "A2", "M1", "delivered", verdict="submitted")])[0]
    applied, matched = settle(store, [Outcome(a, "A2", "M1", "sending"), Outcome(a, "A2", "M1", "delivered"),
                                      Outcome(a, "A2", "M1", "uncertain", "late guess")])
    assert applied == [] and matched == {(a, "A2", "M1")}
    assert store.states_of([a]) == {a: "delivered"}


def test_many_receipts_in_one_batch(store):
    ids = queue(store, "A1", 300)
    claimed = claim(store, RELAYS, own_only=False, limit=500)
    assert len(claimed) == 300
    applied, _ = settle(store, [Outcome(i, "A1", "M1", "delivered", verdict="submitted") for i in ids])
    assert len(applied) == 300
    assert set(store.states_of(ids).values()) == {"delivered"}


def test_settle_and_claim_in_one_transaction(store):
    sent = queue(store, "A1", 2)
    claim(store, RELAYS, own_only=False, limit=10)
    waiting = queue(store, "B1", 3)
    batch = [Outcome(sent[0], "A1", "M1", "delivered", verdict="submitted"), Outcome(sent[1], "A1", "M1", "sending")]
    applied, matched, claimed = settle_and_claim(store, batch, RELAYS, own_only=False, limit=2)
    assert [a.outcome.delivery for a in applied] == [sent[0]]
    assert matched == {(sent[0], "A1", "M1"), (sent[1], "A1", "M1")}
    assert [(c.task.delivery_id, c.relay) for c in claimed] == [(waiting[0], "M2"), (waiting[1], "M2")]
    assert store.states_of(sent + waiting) == {sent[0]: "delivered", sent[1]: "sending", waiting[0]: "sending",
                                              waiting[1]: "sending", waiting[2]: "queued"}


def test_settle_and_claim_with_nothing_to_claim_records_the_receipts(store):
    a, = queue(store, "A2", 1)
    claim(store, RELAYS, own_only=False, limit=10)
    applied, _, claimed = settle_and_claim(store, [Outcome(a, "A2", "M1", "failed", "relay M1: gone")], RELAYS,
                                           own_only=False, limit=5)
    assert [x.outcome.state for x in applied] == ["failed"] and claimed == []
    assert store.states_of([a]) == {a: "failed"}
