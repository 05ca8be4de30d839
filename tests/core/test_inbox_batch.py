"""The inbox batch (``quarterdeck.core.batch``) in-process on a real outbox and real folders: many
deliveries per transaction, each file once and in queue order per agent, the inbox transport's
evidence, one failing folder failing only its deliveries, a stop-all, and the stagger kept."""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import yaml
from workers import delivering

from quarterdeck.core import flush
from quarterdeck.core.batch import attach
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.models import Message
from quarterdeck.core.roster.roster import load_roster
from quarterdeck.core.session import Session
from quarterdeck.core.transports.inbox import parse_message


def open_session(tmp_path: Path, agents: dict[str, Path], stagger: float = 0.0) -> Session:
    roster = tmp_path / "agents.yaml"
    roster.write_text(yaml.safe_dump({"agents": [{"id": a, "transport": "inbox", "path": str(p)}
                                                 for a, p in agents.items()]}), encoding="utf-8")
    return Session.open(roster=load_roster(roster), data_dir=tmp_path / "data", stagger=stagger)


def texts(folder: Path) -> list[str]:
    return [parse_message(p.read_bytes())[1].splitlines()[-1] for p in sorted(folder.glob("*.md"))]


def wait(what, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)




def deliver_all(session: Session) -> None:
    with delivering(session):
        wait(lambda: session.store.pending_count() == 0)


def test_400_deliveries_to_8_agents_each_file_once_in_order_with_the_inbox_evidence(tmp_path) -> None:
    agents = {f"Agent-{n}": tmp_path / f"in{n}" for n in range(8)}
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    events: list[DeliveryEvent] = []
    session.dispatcher.add_listener(events.append)
    names = list(agents)
    ids = [session.submit(Message(sender="captain", recipients=[names[n % 8]], content=f"task {n}",
                                  priority="urgent" if n == 397 else "normal")).delivery_ids[0]
           for n in range(400)]
    deliver_all(session)
    assert Counter(session.store.states_of(ids).values()) == {"delivered": 400}
    assert batch.rounds < 50  # many per round, not one at a time
    for n, (agent, folder) in enumerate(agents.items()):
        expected = [f"task {k}" for k in range(n, 400, 8)]
        if agent == names[397 % 8]:  # the urgent one goes first, as the dispatcher orders it
            expected.remove("task 397")
            expected.insert(0, "task 397")
        assert texts(folder) == expected
    by_delivery: dict[int, list[str]] = {}
    for event in events:
        by_delivery.setdefault(event.delivery_id, []).append(event.state)
    assert all(by_delivery[d] == ["sending", "delivered"] for d in ids)
    delivered = [e for e in events if e.state == "delivered"]
    assert {(e.verdict, e.evidence, e.attempt) for e in delivered} == {("submitted", "written and fsynced", 1)}
    assert all(e.detail.startswith("written to ") for e in delivered)
    row = session.store.delivery(ids[0])
    assert (row.verdict, row.evidence, row.attempts) == ("submitted", "written and fsynced", 1)
    assert session.store.connection().execute("SELECT count(*) FROM attempts WHERE ok = 1").fetchone()[0] == 400
    session.close()


def test_a_folder_that_cannot_be_made_fails_only_its_deliveries(tmp_path) -> None:
    agents = {"Agent-1": tmp_path / "in1", "Agent-2": tmp_path / "missing" / "in2"}
    session = open_session(tmp_path, agents)
    attach(session.dispatcher)
    ids = [session.submit(Message(sender="captain", recipients=[a], content=f"{a} {n}")).delivery_ids[0]
           for n in range(5) for a in agents]
    deliver_all(session)
    rows = [session.store.delivery(d) for d in ids]
    assert [r.state for r in rows if r.agent_id == "Agent-1"] == ["delivered"] * 5
    failed = [r for r in rows if r.agent_id == "Agent-2"]
    assert {r.state for r in failed} <= {"failed"} and failed
    assert all("is missing and so is its parent folder" in (r.reason or "") for r in failed)
    assert texts(tmp_path / "in1") == [f"Agent-1 {n}" for n in range(5)]
    session.close()


def test_the_folders_are_ready_before_the_first_message_and_a_disabled_agents_is_not_made(tmp_path) -> None:
    roster = tmp_path / "agents.yaml"
    roster.write_text(yaml.safe_dump({"agents": [
        {"id": "Agent-1", "transport": "inbox", "path": str(tmp_path / "in1")},
        {"id": "Agent-2", "transport": "inbox", "path": str(tmp_path / "missing" / "in2")},  # said at delivery
        {"id": "Agent-3", "transport": "inbox", "path": str(tmp_path / "in3"), "enabled": False}]}), encoding="utf-8")
    session = Session.open(roster=load_roster(roster), data_dir=tmp_path / "data")
    batch = attach(session.dispatcher)
    with delivering(session):  # made before anything is queued: a new relay's first round only writes files
        wait(lambda: (tmp_path / "in1").is_dir(), 10)
        session.submit(Message(sender="captain", recipients=["Agent-1"], content="first"))
        wait(lambda: batch.claimed == 1, 10)
    assert (tmp_path / "in1").stat().st_mode & 0o777 == 0o700
    assert not (tmp_path / "missing").exists() and not (tmp_path / "in3").exists()
    session.close()


def test_stop_all_cancels_the_queue_and_the_round_in_flight_finishes(tmp_path) -> None:
    agents = {f"Agent-{n}": tmp_path / f"in{n}" for n in range(4)}
    session = open_session(tmp_path, agents)
    attach(session.dispatcher)
    ids = [session.submit(Message(sender="captain", recipients=[f"Agent-{n % 4}"], content=f"task {n}"))
           .delivery_ids[0] for n in range(3000)]
    with delivering(session):
        wait(lambda: len(list((tmp_path / "in0").glob("*.md"))) >= 10)
        session.dispatcher.stop_all()
        wait(lambda: "sending" not in session.store.states_of(ids).values(), 30)
        time.sleep(0.3)
    states = session.store.states_of(ids)
    counts = Counter(states.values())
    assert set(counts) == {"delivered", "cancelled"} and counts["cancelled"] > 0, counts
    written = sum(len(texts(folder)) for folder in agents.values())
    assert written == counts["delivered"]  # what is recorded delivered is what arrived, nothing else
    session.close()


def test_with_a_stagger_it_delivers_one_at_a_time_spaced_as_the_dispatcher(tmp_path) -> None:
    agents = {"Agent-1": tmp_path / "in1", "Agent-2": tmp_path / "in2"}
    session = open_session(tmp_path, agents, stagger=0.05)
    batch = attach(session.dispatcher)
    for n in range(10):
        session.submit(Message(sender="captain", recipients=[f"Agent-{1 + n % 2}"], content=f"task {n}"))
    began = time.monotonic()
    deliver_all(session)
    assert time.monotonic() - began >= 9 * 0.05  # nine changes of agent, each spaced
    assert batch.rounds == 10
    assert texts(tmp_path / "in1") == [f"task {n}" for n in range(0, 10, 2)]
    session.close()


def test_a_roster_that_moves_an_agents_inbox_sends_its_next_files_to_the_new_folder(tmp_path) -> None:
    """Each agent's inbox is looked up once, not every round: a new roster is looked up afresh."""
    session = open_session(tmp_path, {"Agent-1": tmp_path / "old"})
    attach(session.dispatcher)
    with delivering(session):
        first = session.submit(Message(sender="captain", recipients=["Agent-1"], content="to the old one"))
        wait(lambda: session.store.states_of(first.delivery_ids) == {first.delivery_ids[0]: "delivered"})
        moved = tmp_path / "moved.yaml"
        moved.write_text(yaml.safe_dump({"agents": [{"id": "Agent-1", "transport": "inbox",
                                                     "path": str(tmp_path / "new")}]}), encoding="utf-8")
        session.dispatcher.set_roster(load_roster(moved))
        second = session.submit(Message(sender="captain", recipients=["Agent-1"], content="to the new one"))
        wait(lambda: session.store.states_of(second.delivery_ids) == {second.delivery_ids[0]: "delivered"})
    assert texts(tmp_path / "old") == ["to the old one"]
    assert texts(tmp_path / "new") == ["to the new one"]
    session.close()


def test_an_inbox_whose_parent_folder_comes_later_is_written_once_it_is_there(tmp_path, monkeypatch) -> None:
    """A folder that cannot be looked at is looked up again next round (not kept as it first was), so
    its file system is anchored (one syncfs for a round's files) once it is there."""
    anchored: list[tuple[str, bool]] = []
    anchor = flush.anchor

    def spied(anchors: dict[int, int], folder) -> bool:
        anchored.append((str(folder), ok := anchor(anchors, folder)))
        return ok

    monkeypatch.setattr(flush, "anchor", spied)
    session = open_session(tmp_path, {"Agent-1": tmp_path / "later" / "in1"})
    attach(session.dispatcher)
    with delivering(session):
        early = session.submit(Message(sender="captain", recipients=["Agent-1"], content="too early"))
        wait(lambda: session.store.states_of(early.delivery_ids)[early.delivery_ids[0]] == "failed")
        (tmp_path / "later").mkdir()
        ids = [session.submit(Message(sender="captain", recipients=["Agent-1"], content=f"then {n}")).delivery_ids[0]
               for n in range(3)]
        wait(lambda: set(session.store.states_of(ids).values()) == {"delivered"})
    assert texts(tmp_path / "later" / "in1") == ["then 0", "then 1", "then 2"]
    inbox = [ok for folder, ok in anchored if folder == str(tmp_path / "later" / "in1")]
    assert inbox[0] is False and inbox[-1] is True and inbox.count(True) == 1  # then kept
    session.close()
