"""When the inbox batch makes its next round (real outbox, real folders): at once when a notify came
during a round (something was queued meanwhile), and otherwise not until the next notify or poll, so
a round that took what there was is not followed by a claim that finds nothing (under load that was
every other claim: a write transaction each)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from quarterdeck.core.batch import attach
from quarterdeck.core.models import Message
from quarterdeck.core.roster.roster import load_roster
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.session import Session
from quarterdeck.core.store import batching

QUIET = 30.0  # the batch's poll here: a round that waits for it does not come within a test's wait


@pytest.fixture
def session(tmp_path: Path):
    roster = tmp_path / "agents.yaml"
    roster.write_text(yaml.safe_dump({"agents": [{"id": f"Agent-{n}", "transport": "inbox",
                                                  "path": str(tmp_path / f"in{n}")} for n in range(2)]}),
                      encoding="utf-8")
    session = Session.open(roster=load_roster(roster), data_dir=tmp_path / "data", stagger=0)
    yield session
    session.close()


def claims(monkeypatch) -> list[int]:
    """How many deliveries each claim of the batch took, in order."""
    taken: list[int] = []
    claim = batching.claim

    def counted(*args, **kwargs):
        got = claim(*args, **kwargs)
        taken.append(len(got))
        return got

    monkeypatch.setattr(batching, "claim", counted)
    return taken


def settled(taken: list[int]) -> None:
    """Until no claim has come for half a second."""
    seen, quiet_since = len(taken), time.monotonic()
    while time.monotonic() - quiet_since < 0.5:
        time.sleep(0.05)
        if len(taken) != seen:
            seen, quiet_since = len(taken), time.monotonic()


def send(session: Session, text: str) -> int:
    return session.submit(Message(sender="captain", recipients=["Agent-1"], content=text)).delivery_ids[0]


def delivered(session: Session, ids: list[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if set(session.store.states_of(ids).values()) == {"delivered"}:
            return True
        time.sleep(0.01)
    return False


def test_a_round_that_took_all_there_was_is_not_followed_by_an_empty_claim(session, monkeypatch) -> None:
    batch = attach(session.dispatcher)
    batch.poll = QUIET
    taken = claims(monkeypatch)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.05)
    worker.start()
    try:
        settled(taken)  # the batch's first rounds (at start, nothing queued) are over
        taken.clear()
        ids = [i for s in session.submit_many([Message(sender="captain", recipients=["Agent-1"], content=f"task {n}")
                                               for n in range(3)]) for i in s.delivery_ids]  # one notify
        assert delivered(session, ids, 30)
        time.sleep(0.5)
        assert taken == [3]  # one round took the three; nothing was queued since, so no claim was made
        late = send(session, "a later one")  # its notify starts the next round
        assert delivered(session, [late], 10)
        assert taken == [3, 1]
    finally:
        worker.request_stop()
        worker.join()


def test_what_is_queued_during_a_round_goes_in_the_next_at_once(session, monkeypatch) -> None:
    batch = attach(session.dispatcher)
    batch.poll = QUIET
    taken = claims(monkeypatch)
    claim = batching.claim
    during: list[int] = []

    def and_one_more(*args, **kwargs):
        got = claim(*args, **kwargs)
        if not during:  # queued (and notified) while the first round is under way
            during.append(send(session, "queued during the round"))
        return got

    monkeypatch.setattr(batching, "claim", and_one_more)
    ids = [send(session, f"task {n}") for n in range(3)]
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.05)
    worker.start()
    try:
        assert delivered(session, ids, 30) and during
        assert delivered(session, during, 10)  # not at the poll, 30 s on
    finally:
        worker.request_stop()
        worker.join()
    assert taken[:2] == [3, 1]


def test_a_claim_says_whether_more_may_be_claimable_at_once(session) -> None:
    store, agents = session.store, ["Agent-0", "Agent-1"]

    def queue() -> int:
        return store.enqueue(Message(sender="captain", recipients=["Agent-1"], content="x"), [("Agent-1", "inbox")])[0]

    ids = [queue() for _ in range(4)]
    first = batching.claim(store, agents, own_only=False, limit=3)
    assert len(first) == 3 and first.more  # its read filled the limit
    batching.finish(store, [batching.Done(c.task.delivery_id, "delivered") for c in first])
    last = batching.claim(store, agents, own_only=False, limit=3)
    assert len(last) == 1 and not last.more
    batching.finish(store, [batching.Done(ids[3], "delivered")])
    normal, idle = queue(), queue()
    store.connection().execute("UPDATE deliveries SET when_idle = 1 WHERE id = ?", (idle,))
    passed = batching.claim(store, agents, own_only=False, limit=200)
    assert [c.task.delivery_id for c in passed] == [normal] and passed.more  # the when-idle one waits its turn
