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
    ids = [send(session, f"task {n}") for n in range(3)]
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.05)
    worker.start()
    try:
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
