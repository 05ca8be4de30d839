"""A delivery sent to a relay that stopped answering says so at once, on its row as well (the panel
reads rows back), stops saying so when the relay is back, and goes then: a real redis-server, the
captain's session, and ``quarterdeck relay`` started late as a separate process."""
from __future__ import annotations

import sqlite3
import threading

import polling
import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import RelayProcess, inbox_texts, write_roster
from workers import delivering

from quarterdeck.core.compose.progress import SendProgress
from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import KEYS, AnnouncedAgent, Announcement
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session
from quarterdeck.core.store import forwarding

WHY = "waiting for relay box-1 to come back (not seen since "


def announce(admin: redis.Redis, folder, age: float) -> None:
    """box-1's announcement, last seen ``age`` seconds ago in the broker's clock."""
    seconds, micros = admin.time()
    now = int(seconds) + int(micros) / 1e6
    admin.hset(KEYS.relays, "box-1", Announcement("box-1", "elsewhere", 1, now - 100, now - age, [
        AnnouncedAgent("Box-1", "Box-1", "", "inbox", str(folder))]).to_json())


@pytest.fixture
def captain(tmp_path, redis_server: RedisServer):
    admin = redis.Redis(port=redis_server.port)
    announce(admin, tmp_path / "in1", 40.0)  # gone before anything is sent
    session = Session.open(roster=Roster(()), data_dir=tmp_path / "captain", broker_url=redis_server.url,
                           relays=True)
    events: list[tuple[int, str, str]] = []
    session.dispatcher.add_listener(lambda e: events.append((e.delivery_id, e.state, e.detail)))
    with delivering(session, close=True):
        yield session, events, admin
    admin.close()


def composer(submission) -> SendProgress:
    """The send's row as the panel's composer keeps it."""
    progress = SendProgress()
    progress.start([submission.message.id])
    progress.submitted(submission.message.id, ["Box-1"], submission.delivery_ids)
    return progress


def shown(session: Session, progress: SendProgress) -> str:
    """The row as the composer shows it once it read the outbox back (as it does every 2 s)."""
    progress.recorded([session.store.delivery(progress.rows[0].delivery_id)])
    return progress.rows[0].text()


def test_a_delivery_to_a_relay_gone_says_it_waits_until_it_is_back_then_goes(tmp_path, redis_server, captain):
    session, events, admin = captain
    folder = tmp_path / "in1"
    [submission] = session.submit_many([Message(sender="Captain", recipients=["Box-1"], content="while away")])
    [delivery] = submission.delivery_ids
    polling.wait_until(lambda: any(e[1] == "sending" and e[2].startswith(WHY) for e in events),
                       "the delivery to say it waits for the relay", timeout=10)
    row = session.store.delivery(delivery)
    assert row.state == "sending" and (row.reason or "").startswith(WHY), row
    progress = composer(submission)
    assert shown(session, progress).startswith(f"sending · {WHY}")
    beating = threading.Event()

    def heartbeat() -> None:  # the relay answers again (its heartbeat), before it takes anything
        while not beating.wait(0.5):
            announce(admin, folder, 0.0)

    thread = threading.Thread(target=heartbeat, daemon=True)
    thread.start()
    try:
        polling.wait_until(lambda: session.store.delivery(delivery).reason is None, "the reason to go", timeout=10)
        assert session.store.delivery(delivery).state == "sending"
        assert shown(session, progress) == "sending"
        assert events[-1] == (delivery, "sending", "")
    finally:
        beating.set()
        thread.join()
    roster = write_roster(tmp_path / "box-1.yaml", [{"id": "Box-1", "transport": "inbox", "path": str(folder)}])
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "box-1-data").start()
    try:
        polling.wait_until(lambda: session.store.delivery(delivery).state == "delivered",
                           "the relay back to deliver it", timeout=30)
    finally:
        relay.close()
    assert [text for text in inbox_texts(folder) if text.endswith("while away")] == inbox_texts(folder)
    assert len(inbox_texts(folder)) == 1


def test_a_reason_the_outbox_could_not_take_is_written_at_the_next_reading(captain, monkeypatch):
    session, events, _admin = captain
    note_held, failed = forwarding.note_held, []

    def locked_once(store, ids, reason):
        if not failed:
            failed.append(reason)
            raise sqlite3.OperationalError("database is locked")
        return note_held(store, ids, reason)

    monkeypatch.setattr(forwarding, "note_held", locked_once)
    [submission] = session.submit_many([Message(sender="Captain", recipients=["Box-1"], content="locked")])
    [delivery] = submission.delivery_ids
    polling.wait_until(lambda: (session.store.delivery(delivery).reason or "").startswith(WHY),
                       "the reason written after all", timeout=15)
    assert failed and any(e[0] == delivery and e[2].startswith(WHY) for e in events)
