"""Contracts in real SQLite: each move, the errors of wrong moves, listing, status, and living
beside the outbox in one file without disturbing its schema."""
from __future__ import annotations

import sqlite3

import pytest

from quarterdeck.core.contracts import (
    CONTRACTS_SCHEMA_VERSION,
    AgentStatus,
    ClaimConflict,
    ContractError,
    ContractState,
    ContractStore,
    InvalidTransition,
    UnknownContract,
    sendable,
)
from quarterdeck.core.models import Message
from quarterdeck.core.store import SCHEMA_VERSION, Store, default_db_path


@pytest.fixture
def store(tmp_path):
    with ContractStore(default_db_path(tmp_path)) as s:
        yield s


def test_create_normalises_and_starts_open(store):
    c = store.create("  Fix   the login\tredirect ", description="\n keep ?next=\n", points=3)
    assert (c.id, c.title, c.description, c.points) == (1, "Fix the login redirect", "keep ?next=", 3)
    assert c.state == ContractState.OPEN and c.assignee is None and c.note == ""
    assert c.created_at == c.updated_at and c.created_at.tzinfo is not None
    assert c.claimed_at is None and c.finished_at is None and c.sent_at is None
    assert store.create("second", assignee=" Agent-2 ").assignee == "Agent-2"
    assert store.get(1) == c


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"title": "   "}, "title that is not blank"),
    ({"title": "x" * 201}, "keep it to 200"),
    ({"title": "t", "description": "d" * 6001}, "the limit is 6000"),
    ({"title": "t", "points": -1}, "from 0 to 1000"),
    ({"title": "t", "points": 1001}, "from 0 to 1000"),
    ({"title": "t", "points": True}, "whole number"),
    ({"title": "t", "points": 2.5}, "whole number"),
    ({"title": "t", "assignee": "3rd agent"}, "not an agent id"),
])
def test_bad_input_is_refused_and_nothing_is_stored(store, kwargs, says):
    title = kwargs.pop("title")
    with pytest.raises(ContractError, match=says):
        store.create(title, **kwargs)
    assert store.list() == []


def test_full_life_claim_then_complete_with_a_note(store):
    c = store.create("ship it", points=5)
    claimed = store.claim(c.id, "Agent-1")
    assert claimed.state == ContractState.CLAIMED and claimed.assignee == "Agent-1"
    assert claimed.claimed_at is not None and claimed.updated_at >= c.updated_at
    done = store.complete(c.id, note="  merged in #12 ")
    assert done.state == ContractState.DONE and done.note == "merged in #12" and done.finished_at is not None
    assert done.claimed_at == claimed.claimed_at


def test_assigned_contract_can_only_be_claimed_by_its_agent(store):
    c = store.create("task", assignee="Agent-2")
    with pytest.raises(ClaimConflict, match="assigned to Agent-2: only Agent-2 can claim it, not Agent-1"):
        store.claim(c.id, "Agent-1")
    assert store.get(c.id).state == ContractState.OPEN
    assert store.claim(c.id, "Agent-2").assignee == "Agent-2"


def test_reassigning_and_unassigning_an_open_contract(store):
    c = store.create("task", assignee="Agent-2")
    assert store.assign(c.id, "Agent-3").assignee == "Agent-3"
    assert store.assign(c.id, None).assignee is None
    assert store.claim(c.id, "Agent-1").assignee == "Agent-1"


def test_claiming_a_claimed_contract_names_the_holder(store):
    c = store.create("task")
    store.claim(c.id, "Agent-1")
    with pytest.raises(ClaimConflict, match=r"^contract #1 is already claimed by Agent-1$"):
        store.claim(c.id, "Agent-2")
    with pytest.raises(ClaimConflict, match=r"already claimed by Agent-1 \(you\)"):
        store.claim(c.id, "Agent-1")


@pytest.mark.parametrize(("setup", "action", "says"), [
    ([], lambda s, i: s.complete(i), "is open: an agent claims it before it is completed"),
    (["claim"], lambda s, i: s.assign(i, "Agent-3"), "is claimed by Agent-1: cannot assign it "
                                                       r"\(only an open contract can be\)"),
    (["claim", "complete"], lambda s, i: s.complete(i), r"is done \(completed by Agent-1\): cannot complete"),
    (["claim", "complete"], lambda s, i: s.cancel(i), r"cannot cancel it \(only an open or claimed"),
    (["claim", "complete"], lambda s, i: s.set_points(i, 2), r"cannot change its points \(only an open or claimed"),
    (["cancel"], lambda s, i: s.claim(i, "Agent-1"), r"is cancelled: cannot claim it \(only an open"),
    (["cancel"], lambda s, i: s.cancel(i), "is cancelled: cannot cancel it"),
    (["cancel"], lambda s, i: s.mark_sent(i, "m1"), "is cancelled"),
])
def test_invalid_transitions_are_refused_and_change_nothing(store, setup, action, says):
    c = store.create("task")
    steps = {"claim": lambda: store.claim(c.id, "Agent-1"), "complete": lambda: store.complete(c.id),
             "cancel": lambda: store.cancel(c.id)}
    for step in setup:
        steps[step]()
    before = store.get(c.id)
    with pytest.raises(InvalidTransition, match=says) as caught:
        action(store, c.id)
    assert caught.value.contract == before
    assert store.get(c.id) == before


def test_cancel_keeps_a_reason_and_works_from_claimed(store):
    a, b = store.create("a"), store.create("b")
    store.claim(b.id, "Agent-1")
    assert store.cancel(a.id, note="duplicate of #2").note == "duplicate of #2"
    cancelled = store.cancel(b.id)
    assert cancelled.state == ContractState.CANCELLED and cancelled.assignee == "Agent-1"


def test_unknown_contract(store):
    for action in (lambda: store.get(9), lambda: store.claim(9, "Agent-1"), lambda: store.cancel(9)):
        with pytest.raises(UnknownContract, match="there is no contract #9"):
            action()


def test_points_change_while_active(store):
    c = store.create("task", points=1)
    assert store.set_points(c.id, 8).points == 8
    with pytest.raises(ContractError, match="from 0 to 1000"):
        store.set_points(c.id, -2)


def test_list_filters_by_agent_and_state(store):
    a = store.create("a", assignee="Agent-1")
    b = store.create("b")
    c = store.create("c")
    store.claim(b.id, "Agent-1")
    store.claim(c.id, "Agent-2")
    store.complete(c.id)
    assert [x.id for x in store.list()] == [a.id, b.id, c.id]
    assert [x.id for x in store.list(agent="Agent-1")] == [a.id, b.id]
    assert [x.id for x in store.list(state="claimed")] == [b.id]
    assert [x.id for x in store.list(state="active")] == [a.id, b.id]
    assert [x.id for x in store.list(agent="Agent-2", state="done")] == [c.id]
    with pytest.raises(ValueError, match="'sleeping' is not a valid ContractState"):
        store.list(state="sleeping")


def test_status_counts_each_agent_and_the_unassigned(store):
    for title, points, agent, moves in [("a", 3, "Agent-2", "claim complete"), ("b", 2, "Agent-2", "claim"),
                                        ("c", 5, "agent-1", ""), ("d", 1, None, ""),
                                        ("e", 8, "Agent-2", "claim cancel"), ("f", 4, "Agent-2", "")]:
        c = store.create(title, points=points, assignee=agent)
        for move in moves.split():
            {"claim": lambda c=c: store.claim(c.id, c.assignee), "complete": lambda c=c: store.complete(c.id),
             "cancel": lambda c=c: store.cancel(c.id)}[move]()
    assert store.status() == [
        AgentStatus("agent-1", open=1, points_pending=5),
        AgentStatus("Agent-2", open=1, claimed=1, done=1, points_done=3, points_pending=6),
        AgentStatus(None, open=1, points_pending=1),
    ]
    assert store.status()[1].to_json() == {"agent": "Agent-2", "open": 1, "claimed": 1, "done": 1,
                                           "points_done": 3, "points_pending": 6}


def test_mark_sent_and_sendable(store):
    c = store.create("task")
    with pytest.raises(ContractError, match="not assigned to anyone"):
        store.check_sendable(c.id)
    store.assign(c.id, "Agent-1")
    assert store.check_sendable(c.id).assignee == "Agent-1"
    sent = store.mark_sent(c.id, "abc123")
    assert sent.sent_message_id == "abc123" and sent.sent_at is not None and sent.state == ContractState.OPEN
    store.claim(c.id, "Agent-1")
    store.complete(c.id)
    with pytest.raises(InvalidTransition, match="nothing to send"):
        sendable(store.get(c.id))


def test_to_json_is_plain(store):
    c = store.claim(store.create("task", description="d").id, "Agent-1")
    data = c.to_json()
    assert data["state"] == "claimed" and data["finished_at"] is None
    assert data["claimed_at"].endswith("+00:00")


def test_shares_the_outbox_file_without_touching_its_schema(tmp_path):
    path = default_db_path(tmp_path)
    with ContractStore(path) as contracts:  # contracts first: the outbox must still migrate normally
        contracts.create("before the outbox")
    with Store(path) as outbox:
        outbox.enqueue(Message(sender="captain", recipients=["Agent-1"], content="hi"), [("Agent-1", "dryrun")])
    with ContractStore(path) as contracts:
        assert [c.title for c in contracts.list()] == ["before the outbox"]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT version FROM contracts_schema").fetchall() == [(CONTRACTS_SCHEMA_VERSION,)]
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    finally:
        conn.close()


def test_a_newer_contract_schema_is_refused(tmp_path):
    path = tmp_path / "q.sqlite3"
    ContractStore(path).close()  # nothing is opened until first use
    assert not path.exists()
    with ContractStore(path) as contracts:
        contracts.list()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE contracts_schema SET version = 99")
    conn.commit()
    conn.close()
    with ContractStore(path) as contracts, pytest.raises(ContractError, match="schema version 99, newer"):
        contracts.list()


def test_a_closed_store_refuses_work(tmp_path):
    contracts = ContractStore(tmp_path / "q.sqlite3")
    contracts.create("x")
    contracts.close()
    contracts.close()
    with pytest.raises(ContractError, match="closed"):
        contracts.list()


def test_board_reads_the_filtered_list_and_everyones_status_together(store):
    assert store.board().summary() == "No contracts yet"
    store.create("a", points=2)
    store.complete(store.claim(store.create("b", points=3).id, "Agent-1").id)
    board = store.board(state="done")
    assert [c.title for c in board.contracts] == ["b"]
    assert board.status == [AgentStatus("Agent-1", done=1, points_done=3), AgentStatus(None, open=1, points_pending=2)]
    assert board.summary() == "1 contract shown · 1 active · 3 of 5 points done"
    assert store.board(agent="Agent-9").summary() == "0 contracts shown · 1 active · 3 of 5 points done"
