"""The captain's relay transport against a real redis-server and a test double of a relay that
speaks the protocol in this process (it answers each delivery entry with the receipts a test
scripts): how each relay outcome becomes the captain's row, and stop-all reaching qd:control."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from polling import wait_until
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.models import Agent, InboxTransport, Message
from quarterdeck.core.relay.protocol import KEYS, AnnouncedAgent, Announcement, ControlEntry, DeliveryEntry, Receipt
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session

Script = Callable[[DeliveryEntry], list[Receipt]]


def inbox_agent(agent_id, path):
    return Agent(id=agent_id, transport=InboxTransport(path=path))


class RelayDouble:
    """Announces relay M2 with Agent-9 and answers every entry on its stream as ``script`` says."""

    def __init__(self, url: str, script: Script) -> None:
        self.client = redis.Redis.from_url(url)
        self.script = script
        self.entries: list[DeliveryEntry] = []
        self._stop = threading.Event()
        now = time.time()
        self.client.hset(KEYS.relays, "M2", Announcement("M2", "m2.lan", 1, now, now, [
            AnnouncedAgent("Agent-9", "Agent-9", "", "inbox", "/srv/in9")]).to_json())
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = "0"
        while not self._stop.is_set():
            for _stream, items in self.client.xread({KEYS.relay_in("M2"): last}, block=50) or []:
                for entry_id, fields in items:
                    last = entry_id
                    entry = DeliveryEntry.from_fields(fields)
                    self.entries.append(entry)
                    for receipt in self.script(entry):
                        self.client.xadd(KEYS.receipts_of(entry.captain), receipt.to_fields())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.client.close()


def receipt(entry: DeliveryEntry, state: str, **kw: object) -> Receipt:
    return Receipt("M2", entry.delivery, entry.agent, state, at=time.time(), attempts=1,  # type: ignore[arg-type]
                   captain=entry.captain, **kw)


def session_id(session: Session) -> str:
    assert session.forwarder is not None
    return session.forwarder.captain


def receipts_stream(session: Session) -> str:
    """The stream the relays write this captain's receipts to (its outbox's id names it)."""
    return KEYS.receipts_of(session_id(session))


@pytest.fixture
def captain(tmp_path: Path, redis_server: RedisServer, monkeypatch) -> Iterator[Callable[[Script], Session]]:
    monkeypatch.setenv("COORDINATION_RELAY_WAIT", "0.5")
    monkeypatch.setenv("COORDINATION_BASE_DELAY", "0")
    opened: list[tuple[Session, RelayDouble]] = []

    def open_with(script: Script) -> Session:
        double = RelayDouble(redis_server.url, script)
        local = Roster((inbox_agent("Agent-1", tmp_path / "in1"),))
        session = Session.open(roster=local, data_dir=tmp_path / "data", broker_url=redis_server.url,
                               relays=True)
        opened.append((session, double))
        return session

    yield open_with
    for session, double in opened:
        session.close()
        double.close()


def send(session: Session, text: str = "Ship it.") -> int:
    [delivery] = session.submit(Message(sender="Captain", recipients=["Agent-9"], content=text)).delivery_ids
    session.dispatcher.run(until=lambda: session.store.states_of([delivery])[delivery] not in ("queued", "sending"),
                           idle_wait=0.02)
    return delivery


def test_delivered_carries_the_relays_verdict_evidence_and_machine(captain) -> None:
    session = captain(lambda e: [receipt(e, "sending"), receipt(e, "delivered", verdict="submitted",
                                                                 evidence="input read back")])
    row = session.store.delivery(send(session, "Header and all."))
    assert (str(row.state), row.verdict, row.evidence) == ("delivered", "submitted", "input read back (relay M2)")
    assert row.machine == "M2"  # the machine that typed it
    assert session.dispatcher._transports == {}  # the forwarder sent it, not the one-at-a-time dispatcher


def test_the_entry_carries_the_delivery_id_and_the_message_without_the_header(captain) -> None:
    seen: list[DeliveryEntry] = []
    session = captain(lambda e: (seen.append(e), [receipt(e, "delivered", verdict="unverified")])[1])
    delivery = send(session, "Line one\nline two")
    [entry] = seen
    assert entry.delivery == delivery and entry.agent == "Agent-9"
    assert entry.message.content == "Line one\nline two" and entry.message.sender == "Captain"
    row = session.store.delivery(delivery)
    assert (str(row.state), row.verdict) == ("delivered", "unverified")


def test_failed_is_failed_with_the_relays_reason_and_verdict_and_not_sent_again(captain) -> None:
    session = captain(lambda e: [receipt(e, "failed", verdict="typed_not_submitted", evidence="text left in input",
                                         reason="submit keys did not send it")])
    row = session.store.delivery(send(session))
    assert (str(row.state), row.verdict) == ("failed", "typed_not_submitted")
    assert row.reason == "relay M2: submit keys did not send it" and row.evidence == "text left in input (relay M2)"
    assert row.attempts == 1


def test_uncertain_is_uncertain_and_never_resent(captain) -> None:
    entries: list[DeliveryEntry] = []
    session = captain(lambda e: (entries.append(e), [receipt(e, "uncertain", reason="pane vanished while typing")])[1])
    row = session.store.delivery(send(session))
    assert str(row.state) == "uncertain" and row.reason == "relay M2: pane vanished while typing"
    time.sleep(0.3)
    assert len(entries) == 1


def test_a_relay_that_never_reports_leaves_the_delivery_uncertain_not_failed(captain) -> None:
    session = captain(lambda e: [receipt(e, "sending")])
    started = time.monotonic()
    row = session.store.delivery(send(session))
    assert str(row.state) == "uncertain"
    assert row.reason == "relay M2 did not report within 0.5 s: it may have typed it; not sent again"
    assert 0.5 <= time.monotonic() - started < 5


def test_stop_all_and_resume_all_go_to_every_relay(captain, redis_server: RedisServer) -> None:
    session = captain(lambda e: [])
    client = redis.Redis.from_url(redis_server.url)

    def words() -> list[tuple[str, int]]:  # sent by the captain's own thread, within milliseconds
        return [(e.kind, e.generation) for e in (ControlEntry.from_fields(f) for _, f in client.xrange(KEYS.control))]

    try:
        session.dispatcher.stop_all()
        wait_until(lambda: words() == [("stop", 1)], "the stop on qd:control", timeout=10)
        session.dispatcher.resume_everywhere()
        wait_until(lambda: words() == [("stop", 1), ("resume", 1)], "the resume on qd:control", timeout=10)
    finally:
        client.close()


def test_a_relays_own_session_never_sees_its_own_announcement(tmp_path: Path, redis_server: RedisServer) -> None:
    """``quarterdeck relay`` opens its session without ``relays=True``: its own agents, announced by its
    previous run, are not taken for the same ids on another machine."""
    client = redis.Redis.from_url(redis_server.url)
    now = time.time()
    client.hset(KEYS.relays, "M2", Announcement("M2", "m2.lan", 1, now, now, [
        AnnouncedAgent("Agent-1", "Agent-1", "", "inbox", str(tmp_path / "in1"))]).to_json())
    client.close()
    local = Roster((inbox_agent("Agent-1", tmp_path / "in1"),))
    session = Session.open(roster=local, data_dir=tmp_path / "data", broker_url=redis_server.url)
    try:
        assert session.machines is None and session.delivering is local
        assert session.dispatcher.roster.get("Agent-1").transport.kind == "inbox"
    finally:
        session.close()


def test_a_relay_that_starts_after_the_session_is_reached_by_the_next_send(captain, redis_server: RedisServer) -> None:
    session = captain(lambda e: [receipt(e, "delivered", verdict="submitted")])
    client = redis.Redis.from_url(redis_server.url)
    now = time.time()
    client.hset(KEYS.relays, "M3", Announcement("M3", "m3.lan", 1, now, now, [
        AnnouncedAgent("Agent-7", "Agent-7", "", "tmux", "w:0.0")]).to_json())
    client.close()
    assert "Agent-7" not in session.delivering
    time.sleep(2.1)  # the relays are read again when a send comes more than 2 s after the last reading
    [delivery] = session.submit(Message(sender="Captain", recipients=["Agent-7"], content="Hi.")).delivery_ids
    assert session.machines is not None and session.machines.machine_of("Agent-7") == "M3"
    assert session.store.delivery(delivery).agent_id == "Agent-7"


def test_a_receipt_naming_another_agent_is_not_this_deliverys(captain, redis_server: RedisServer) -> None:
    """A receipt on this captain's stream with this delivery id but another agent (a relay's mistake,
    or one from before this outbox was rebuilt) is not taken for this delivery's."""
    session = captain(lambda e: [Receipt("M2", e.delivery, "Agent-4", "delivered", verdict="submitted",
                                         at=time.time(), captain=e.captain)])
    row = session.store.delivery(send(session))
    assert str(row.state) == "uncertain" and "did not report within 0.5 s" in str(row.reason)
    client, stream = redis.Redis.from_url(redis_server.url), receipts_stream(session)
    assert client.xlen(stream) == 1  # left pending: no delivery here matches it yet
    old = Receipt("M2", 999, "Agent-4", "delivered", at=time.time() - 700,  # nobody's for 10 minutes: dropped
                  captain=session_id(session))
    client.xadd(stream, old.to_fields())  # type: ignore[arg-type]
    deadline = time.monotonic() + 5
    while client.xlen(stream) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.xlen(stream) == 1
    client.close()


def test_a_late_receipt_replaces_the_uncertain_guess_and_one_after_the_end_changes_nothing(
        captain, redis_server: RedisServer) -> None:
    late = redis.Redis.from_url(redis_server.url)

    def script(e: DeliveryEntry) -> list[Receipt]:
        done = receipt(e, "delivered", verdict="submitted", evidence="input read back")
        threading.Timer(1.5, lambda: late.xadd(KEYS.receipts_of(e.captain), done.to_fields())).start()  # type: ignore[arg-type]
        return [receipt(e, "sending")]

    session = captain(script)
    events: list[DeliveryEvent] = []
    session.dispatcher.add_listener(events.append)
    delivery = send(session)
    guessed = session.store.delivery(delivery)
    assert str(guessed.state) == "uncertain" and "did not report within 0.5 s" in str(guessed.reason)
    deadline = time.monotonic() + 10
    while str(session.store.delivery(delivery).state) == "uncertain" and time.monotonic() < deadline:
        time.sleep(0.05)
    row = session.store.delivery(delivery)
    assert (str(row.state), row.verdict, row.evidence, row.reason) == (
        "delivered", "submitted", "input read back (relay M2)", None)
    assert [e.state for e in events if e.delivery_id == delivery] == ["sending", "uncertain", "delivered"]
    assert "reported late" in events[-1].detail
    stream = receipts_stream(session)
    late.xadd(stream, receipt(  # type: ignore[arg-type]
        DeliveryEntry(delivery, "Agent-9", Message(sender="x", recipients=["Agent-9"], content="-"), 0,
                      session_id(session)),
        "failed", reason="made up").to_fields())
    while late.xlen(stream) and time.monotonic() < deadline:  # read, acknowledged and deleted
        time.sleep(0.05)
    assert late.xlen(stream) == 0
    assert str(session.store.delivery(delivery).state) == "delivered" and len(events) == 3  # it changed nothing
    late.close()
