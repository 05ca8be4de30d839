"""The inbox batch's outcomes on a real outbox and real folders: outcomes whose commit fails (the disk
full, the outbox locked) are kept and recorded and told before the next round, never left
``sending``; a stop-all during a round cancels what the round would hand back to the queue, so a
resume does not send what the stop cancelled."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from test_inbox_batch_flush import deliver_all, one_round, open_session, submit, texts

from quarterdeck.core.batch import attach
from quarterdeck.core.delivery.errors import RetryableError
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.store import batching
from quarterdeck.core.store.control import STOPPED
from quarterdeck.core.store.faults import StorageFault
from quarterdeck.core.transports.inbox import InboxDelivery


def test_outcomes_whose_commit_fails_are_recorded_and_told_before_the_next_round(tmp_path: Path,
                                                                                  monkeypatch) -> None:
    agents = {"Agent-1": tmp_path / "in1", "Agent-2": tmp_path / "in2"}
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    told: list[DeliveryEvent] = []
    session.dispatcher.add_listener(told.append)
    first = submit(session, list(agents), 4)
    real_finish, calls = batching.finish, []

    def full_once(store, done):
        calls.append(len(done))
        if len(calls) == 1:
            raise StorageFault("full", store.path, "SQLite: database or disk is full")
        return real_finish(store, done)

    monkeypatch.setattr(batching, "finish", full_once)
    with pytest.raises(StorageFault):
        one_round(batch)
    assert set(session.store.states_of(first).values()) == {"sending"}  # written, not recorded yet
    assert [e.state for e in told] == ["sending"] * 4
    later = submit(session, list(agents), 2)
    one_round(batch)  # the outbox works again: the kept outcomes first, then the new round
    assert calls == [4, 4, 2]
    assert Counter(session.store.states_of(first + later).values()) == {"delivered": 6}
    delivered = [e.delivery_id for e in told if e.state == "delivered"]
    assert sorted(delivered) == first + later and len(delivered) == 6  # each told once
    assert texts(agents["Agent-1"]) == ["task 0", "task 2", "task 0"] and texts(agents["Agent-2"]) == [
        "task 1", "task 3", "task 1"]  # each file written once (the second send reuses the texts)
    session.close()


def test_a_stop_all_during_a_round_cancels_what_it_would_hand_back(tmp_path: Path, monkeypatch) -> None:
    agents = {"Agent-1": tmp_path / "in1"}
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    told: list[DeliveryEvent] = []
    session.dispatcher.add_listener(told.append)
    ids = submit(session, list(agents), 2)

    def stop_and_fail(self, request, stamp):
        session.dispatcher.stop_all()  # the captain's stop, while the round writes
        raise RetryableError("the disk is busy")

    monkeypatch.setattr(InboxDelivery, "stage", stop_and_fail)
    one_round(batch)
    rows = [session.store.delivery(d) for d in ids]
    assert [(r.state, r.reason) for r in rows] == [("cancelled", STOPPED)] * 2  # not back in the queue
    assert [e.state for e in told if e.state not in ("sending",)] == ["cancelled", "cancelled"]
    monkeypatch.undo()
    session.dispatcher.resume()
    one_round(batch)
    assert [session.store.delivery(d).state for d in ids] == ["cancelled", "cancelled"]
    assert texts(agents["Agent-1"]) == []  # nothing the stop cancelled arrives after the resume
    session.close()


def test_a_process_ending_during_a_round_hands_back_for_the_next_one(tmp_path: Path, monkeypatch) -> None:
    agents = {"Agent-1": tmp_path / "in1"}
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    ids = submit(session, list(agents), 2)

    def interrupt_and_fail(self, request, stamp):
        session.dispatcher.interrupt()  # SIGTERM or Ctrl+C: not a stop; the next process sends what is left
        raise RetryableError("the disk is busy")

    monkeypatch.setattr(InboxDelivery, "stage", interrupt_and_fail)
    one_round(batch)
    assert [session.store.delivery(d).state for d in ids] == ["queued", "queued"]
    session.close()


def test_the_temp_files_a_killed_process_left_are_removed_before_the_first_round(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    folder = tmp_path / "in1"
    folder.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead = int(gone.stdout)  # a pid that ran and ended
    left = folder / f".incoming-{dead}-3.tmp"
    mine = folder / f".incoming-{os.getpid()}-999999.tmp"  # this process's, in progress: kept
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    busy = folder / f".incoming-{writer.pid}-1.tmp"  # another running process's, in progress: kept
    other = folder / ".incoming-0123456789abcdef.tmp"  # its writer cannot be told: kept
    message = folder / "20261207T120000.000000Z-normal-m1.md"
    for path in (left, mine, busy, other, message):
        path.write_text("x", encoding="utf-8")
    session = open_session(tmp_path, {"Agent-1": folder})
    attach(session.dispatcher)
    ids = submit(session, ["Agent-1"], 1)
    try:
        deliver_all(session, ids)  # the batch's thread readies the folders before its first round
    finally:
        writer.kill()
        writer.wait()
    kept = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    assert kept == sorted([mine.name, busy.name, other.name])
    assert message.exists() and session.store.delivery(ids[0]).state == "delivered"
    session.close()


def test_kept_outcomes_are_recorded_while_stopped_and_their_hand_backs_cancelled(tmp_path: Path,
                                                                                 monkeypatch) -> None:
    agents = {"Agent-1": tmp_path / "in1"}
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    ids = submit(session, list(agents), 2)
    real_finish, calls = batching.finish, []

    def full_once(store, done):
        calls.append(1)
        if len(calls) == 1:
            raise StorageFault("full", store.path, "SQLite: database or disk is full")
        return real_finish(store, done)

    def first_fails(self, request, stamp, _real=InboxDelivery.stage, _seen=[]):  # noqa: B006
        _seen.append(1)
        if len(_seen) == 1:
            raise RetryableError("the disk is busy")
        return _real(self, request, stamp)

    monkeypatch.setattr(batching, "finish", full_once)
    monkeypatch.setattr(InboxDelivery, "stage", first_fails)
    with pytest.raises(StorageFault):
        one_round(batch)  # its first file handed back (a retry), its second behind it: not recorded yet
    session.dispatcher.stop_all()  # cannot cancel them: they are still sending
    one_round(batch)  # stopped: the kept outcomes are recorded all the same, the hand-backs cancelled
    assert [(session.store.delivery(d).state, session.store.delivery(d).reason) for d in ids] == [
        ("cancelled", STOPPED)] * 2
    session.dispatcher.resume()
    one_round(batch)
    assert texts(agents["Agent-1"]) == []  # nothing the stop covered goes out after the resume
    session.close()
