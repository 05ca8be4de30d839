"""submit_many: many messages queued in one transaction, all or nothing, checked as submit checks one."""
from __future__ import annotations

import sqlite3

import pytest

from quarterdeck.core.compose.submit import BatchRefused, SubmitRefused, UnknownRecipient, submit, submit_many
from quarterdeck.core.models import Agent, DryRunTransport, Message
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session
from quarterdeck.core.store import Store
from quarterdeck.core.validation import RuleStore, Validator, bundled_rules_dir

KEY = "AKIA" + "QWERTYUIOPASDFGH"
ROSTER = Roster(agents=tuple(Agent(id=f"Agent-{n}", role="dev", transport=DryRunTransport()) for n in (1, 2, 3)))


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "q.sqlite3") as s:
        yield s


@pytest.fixture(scope="module")
def validator() -> Validator:
    rules = RuleStore(sorted(bundled_rules_dir().glob("*.yaml")))
    rules.reload()
    return Validator(rules.active)


def msg(content: str = "Run the tests and report.", *recipients: str) -> Message:
    return Message(sender="Captain", content=content, recipients=list(recipients or ["Agent-1"]))


def stored_count(store: Store) -> tuple[int, int]:
    conn = store.connection()
    return (conn.execute("SELECT count(*) FROM messages").fetchone()[0],
            conn.execute("SELECT count(*) FROM deliveries").fetchone()[0])


def test_a_batch_is_queued_in_order_with_the_deliveries_submit_would_make(store, validator):
    batch = [msg(f"step {n}", f"Agent-{n % 3 + 1}") for n in range(6)] + [msg("all of you", "Agent-1", "Agent-2")]
    subs = submit_many(store, ROSTER, batch, validator=validator)
    assert [s.message.id for s in subs] == [m.id for m in batch]
    assert [s.recipients for s in subs][:3] == [("Agent-1",), ("Agent-2",), ("Agent-3",)]
    assert subs[-1].recipients == ("Agent-1", "Agent-2") and len(subs[-1].delivery_ids) == 2
    ids = [i for s in subs for i in s.delivery_ids]
    assert ids == sorted(ids) and len(set(ids)) == 8
    assert all(s.report is not None and s.report.status == "PASS" for s in subs)
    assert store.states_of(ids) == dict.fromkeys(ids, "queued")
    assert stored_count(store) == (7, 8)
    single = submit(store, ROSTER, msg("one more"), validator=validator)  # same rows as submit makes
    row = store.connection().execute("SELECT agent_id, transport, priority, state, when_idle FROM deliveries "
                                     "WHERE id IN (?, ?)", (ids[0], single.delivery_ids[0])).fetchall()
    assert tuple(row[0])[1:] == tuple(row[1])[1:]


@pytest.mark.parametrize(("bad", "cause"), [
    (msg("   "), SubmitRefused),  # fails an error rule
    (msg("hello", "Agent-9"), UnknownRecipient),  # not on the roster
    (msg(f"use {KEY}"), SubmitRefused),  # a credential fails no-credentials
])
def test_one_bad_message_among_good_ones_refuses_the_whole_batch_and_names_it(store, validator, bad, cause):
    batch = [msg("first"), msg("second"), bad, msg("fourth")]
    with pytest.raises(BatchRefused, match=r"message 3 of 4 .*nothing of the batch was queued") as exc:
        submit_many(store, ROSTER, batch, validator=validator)
    assert exc.value.index == 2 and isinstance(exc.value.cause, cause)
    assert stored_count(store) == (0, 0)


def test_a_message_id_already_stored_rolls_the_batch_back(store):
    first = msg("first")
    submit(store, ROSTER, first)
    with pytest.raises(BatchRefused, match="message 2 of 3") as exc:
        submit_many(store, ROSTER, [msg("new"), first, msg("newer")])
    assert exc.value.index == 1
    assert stored_count(store) == (1, 1)
    twice = msg("twice")
    with pytest.raises(BatchRefused, match="appears twice"):
        submit_many(store, ROSTER, [twice, twice])
    assert stored_count(store) == (1, 1)


def test_secrets_are_stored_redacted_as_submit_does(store, tmp_path):
    subs = submit_many(store, ROSTER, [msg("plain"), msg(f"use {KEY} for the bucket")])  # no validator: redaction
    assert [s.redacted for s in subs] == [False, True]
    assert KEY.encode() not in (tmp_path / "q.sqlite3").read_bytes()
    content = store.connection().execute("SELECT content FROM messages WHERE id = ?", (subs[1].message.id,)).fetchone()
    assert "[REDACTED:" in content[0]


def test_the_batch_is_one_commit(store, monkeypatch):
    commits: list[str] = []
    conn = store.connection()
    conn.set_trace_callback(lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None)
    submit_many(store, ROSTER, [msg(f"n {n}", f"Agent-{n % 3 + 1}") for n in range(50)])
    conn.set_trace_callback(None)
    assert commits == ["COMMIT"]
    assert stored_count(store) == (50, 50)


def test_session_submit_many_queues_keeps_raw_text_and_wakes_the_dispatcher(tmp_path, monkeypatch):
    monkeypatch.setenv("QUARTERDECK_CONFIG_DIR", str(tmp_path / "config"))
    session = Session.open(roster=ROSTER, data_dir=tmp_path / "data")
    woken: list[int] = []
    monkeypatch.setattr(Session, "validator", property(lambda self: None))  # a secret is redacted, not refused
    monkeypatch.setattr(session.dispatcher, "notify", lambda: woken.append(1))
    try:
        subs = session.submit_many([msg("a"), msg(f"key {KEY}", "Agent-2")])
        assert woken == [1]
        task = session.store.claim_next()
        assert task is not None and session.dispatcher.content_of(task) == "a"
        raw = session.dispatcher.content_of(session.store.claim_next())  # type: ignore[arg-type]
        assert raw == f"key {KEY}" and subs[1].redacted
        with pytest.raises(BatchRefused):
            session.submit_many([msg("fine"), msg("x", "Nobody")])
        assert woken == [1]  # nothing queued, nobody woken (the count below: still 2 messages)
    finally:
        session.close()
    with sqlite3.connect(tmp_path / "data" / "quarterdeck.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 2
