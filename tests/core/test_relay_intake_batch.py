"""A relay's intake takes a whole read of entries at once (quarterdeck.core.relay.intake.take_all):
one ledger transaction, one outbox transaction, one mapping; each captain delivery queued once,
repeats (in the same read or a later one) never queued again, malformed entries refused, and a
crash between the outbox commit and the mapping found again on the next read."""
from __future__ import annotations

import pytest

from quarterdeck.core.models import Agent, InboxTransport, Message
from quarterdeck.core.relay import intake
from quarterdeck.core.relay.intake import decode_all, take_all
from quarterdeck.core.relay.ledger import Ledger
from quarterdeck.core.relay.protocol import VERSION, DeliveryEntry
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session

AGENTS = tuple(f"Agent-{n}" for n in range(10))


@pytest.fixture
def session(tmp_path):
    roster = Roster(tuple(Agent(id=a, transport=InboxTransport(path=tmp_path / a)) for a in AGENTS))
    opened = Session.open(roster=roster, data_dir=tmp_path / "data", stagger=0)
    yield opened
    opened.close()


@pytest.fixture
def ledger(tmp_path):
    opened = Ledger(tmp_path / "data")
    yield opened
    opened.close()


def _raw(entry_id: int, entry: DeliveryEntry) -> tuple[bytes, dict[bytes, bytes]]:
    return f"{entry_id}-0".encode(), {k.encode(): v.encode() for k, v in entry.to_fields().items()}


def _queued(session: Session) -> list[tuple[str, str]]:
    rows = session.store.connection().execute(
        "SELECT message_id, agent_id FROM deliveries WHERE state = 'queued' ORDER BY id").fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def test_a_read_of_500_with_duplicates_and_a_malformed_entry(session, ledger) -> None:
    entries, raws = [], []
    for n in range(490):
        agent = AGENTS[n % 10]
        entry = DeliveryEntry(n + 1, agent, Message(sender="captain", recipients=[agent], content=f"m{n}"), 1.0)
        entries.append(entry)
        raws.append(_raw(n + 1, entry))
    for n in range(0, 490, 49):  # ten repeats of captain deliveries from earlier in the same read
        raws.append(_raw(1000 + n, entries[n]))
    raws.insert(250, (b"999-0", {b"v": VERSION.encode(), b"delivery": b"77", b"agent": b"Agent-3",
                                 b"message": b"{nope"}))
    read = decode_all(raws)
    assert len(read.ids) == 501 and len(read.entries) == 500 and len(read.entry_ids) == 500
    assert [(entry_id, why.split(":")[0]) for entry_id, _, why in read.refused] == [
        ("999-0", "a delivery entry")]
    taken = take_all(session, ledger, read.entries)
    assert sum(new for _, new in taken) == 490
    locals_ = [local for local, _ in taken]
    assert len(set(locals_)) == 490  # every repeat got the local delivery of its first entry
    for entry, (local, _new) in zip(read.entries, taken, strict=True):
        assert ledger.record(entry.delivery, entry.message.id, entry.agent).local_delivery == local
        assert session.store.delivery(local).message_id == entry.message.id
    assert sorted(_queued(session)) == sorted((e.message.id, e.agent) for e in entries)
    # the same read again (redelivered after a crash before XACK): nothing new
    again = take_all(session, ledger, decode_all(raws).entries)
    assert again == [(local, False) for local in locals_]
    assert len(_queued(session)) == 490


def test_one_message_to_two_agents_and_sent_again_in_one_read(session, ledger) -> None:
    message = Message(sender="captain", recipients=["Agent-1", "Agent-2"], content="both")
    entries = [DeliveryEntry(1, "Agent-1", message, 1.0), DeliveryEntry(2, "Agent-2", message, 1.0),
               DeliveryEntry(3, "Agent-1", message, 1.0)]  # the captain sent it to Agent-1 again
    taken = take_all(session, ledger, entries)
    assert [new for _, new in taken] == [True, True, True] and len({local for local, _ in taken}) == 3
    assert _queued(session) == [(message.id, "Agent-1"), (message.id, "Agent-2"), (message.id, "Agent-1")]
    stored = session.store.connection().execute("SELECT recipients FROM messages WHERE id = ?",
                                                (message.id,)).fetchone()[0]
    assert stored == '["Agent-1","Agent-2"]'


def test_a_crash_between_the_outbox_commit_and_the_mapping_queues_nothing_twice(session, tmp_path,
                                                                                 monkeypatch) -> None:
    message = Message(sender="captain", recipients=["Agent-1"], content="again")
    entries = [DeliveryEntry(n, "Agent-1" if n % 2 else "Agent-2",
                             Message(sender="captain", recipients=["Agent-1"], content=f"t{n}"), 1.0)
               for n in range(1, 41)]
    entries += [DeliveryEntry(41, "Agent-1", message, 1.0), DeliveryEntry(42, "Agent-1", message, 1.0)]
    crashed = Ledger(tmp_path / "data")

    def crash(pairs: list[tuple[int, int]]) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(crashed, "set_locals", crash)
    with pytest.raises(KeyboardInterrupt):
        take_all(session, crashed, entries)
    crashed.close()
    queued = _queued(session)
    assert len(queued) == 42  # the outbox transaction committed; nothing was mapped
    restarted = Ledger(tmp_path / "data")
    try:
        taken = take_all(session, restarted, entries)
        assert [new for _, new in taken] == [False] * 42  # found, not queued again
        assert len({local for local, _ in taken}) == 42
        assert len(_queued(session)) == 42
        assert sorted(r.local_delivery for r in restarted.open_deliveries()) == sorted(d for d, _ in taken)
    finally:
        restarted.close()


def test_a_stopped_relay_cancels_what_it_takes(session, ledger) -> None:
    session.dispatcher.halt()
    entries = [DeliveryEntry(n, "Agent-1", Message(sender="captain", recipients=["Agent-1"], content=f"s{n}"), 1.0)
               for n in (1, 2)]
    taken = take_all(session, ledger, entries)
    assert [session.store.delivery(local).state for local, _ in taken] == ["cancelled", "cancelled"]


def test_acknowledge_is_one_round_trip_for_every_id() -> None:
    calls: list[tuple[str, tuple[str, ...]]] = []

    class Pipe:
        def xack(self, stream: str, group: str, *ids: str) -> None:
            calls.append(("xack", ids))

        def xdel(self, stream: str, *ids: str) -> None:
            calls.append(("xdel", ids))

        def execute(self) -> None:
            calls.append(("execute", ()))

    class Client:
        def pipeline(self, transaction: bool) -> Pipe:
            assert transaction is False
            return Pipe()

    intake.acknowledge(Client(), "qd:relay:x:in", ["1-0", "2-0"])
    intake.acknowledge(Client(), "qd:relay:x:in", [])
    assert calls == [("xack", ("1-0", "2-0")), ("xdel", ("1-0", "2-0")), ("execute", ())]
