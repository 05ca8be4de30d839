"""The inbox batch's flushes (``quarterdeck.core.batch.round``) on a real outbox and real folders: a
round of many files is made durable with two flushes, not one per file and folder; a flush that
fails names nothing and the files go again, in order; a folder whose flush fails leaves its files
``uncertain``, never written twice."""
from __future__ import annotations

import errno
import os
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from quarterdeck.core import flush
from quarterdeck.core.batch import attach
from quarterdeck.core.models import Message
from quarterdeck.core.resilience.retry import RetryPolicy
from quarterdeck.core.roster.roster import load_roster
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.session import Session
from quarterdeck.core.transports.inbox import parse_message


def open_session(tmp_path: Path, agents: dict[str, Path]) -> Session:
    roster = tmp_path / "agents.yaml"
    roster.write_text(yaml.safe_dump({"agents": [{"id": a, "transport": "inbox", "path": str(p)}
                                                 for a, p in agents.items()]}), encoding="utf-8")
    return Session.open(roster=load_roster(roster), data_dir=tmp_path / "data", stagger=0.0)


def texts(folder: Path) -> list[str]:
    return [parse_message(p.read_bytes())[1].splitlines()[-1] for p in sorted(folder.glob("*.md"))]


def temps(folders: list[Path]) -> list[Path]:
    return [p for folder in folders if folder.is_dir() for p in folder.iterdir() if p.name.startswith(".incoming-")]


def deliver_all(session: Session, ids: list[int], timeout: float = 60.0) -> None:
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while set(session.store.states_of(ids).values()) & {"queued", "sending"}:
            assert time.monotonic() < deadline, Counter(session.store.states_of(ids).values())
            time.sleep(0.02)
    finally:
        worker.request_stop()
        worker.join()


def submit(session: Session, agents: list[str], count: int) -> list[int]:
    return [session.submit(Message(sender="captain", recipients=[agents[n % len(agents)]], content=f"task {n}"))
            .delivery_ids[0] for n in range(count)]


@pytest.mark.skipif(not flush.syncfs_available(), reason="syncfs is Linux's")
def test_a_round_of_60_files_in_6_folders_takes_two_flushes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {f"Agent-{n}": tmp_path / f"in{n}" for n in range(6)}
    for folder in agents.values():  # a folder made for a delivery is flushed into its parent on its own
        folder.mkdir()
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    ids = submit(session, list(agents), 60)  # all queued before the first round: one round takes them
    syncfs: list[int] = []
    fsyncs: list[int] = []
    real_syncfs, real_fsync = flush._syncfs, os.fsync
    monkeypatch.setattr(flush, "_syncfs", lambda fd: (syncfs.append(fd), real_syncfs(fd))[1])
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    deliver_all(session, ids)
    assert Counter(session.store.states_of(ids).values()) == {"delivered": 60}
    assert batch.rounds == 1
    assert len(syncfs) == 2 and fsyncs == []  # contents (with the claim), then names: not 66 fsyncs
    for n, folder in enumerate(agents.values()):
        assert texts(folder) == [f"task {k}" for k in range(n, 60, 6)]
    assert temps(list(agents.values())) == []
    session.close()


def test_a_failed_flush_of_the_contents_names_nothing_and_the_files_go_again_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {"Agent-1": tmp_path / "in1", "Agent-2": tmp_path / "in2"}
    session = open_session(tmp_path, agents)
    attach(session.dispatcher)
    ids = submit(session, list(agents), 10)
    real = flush.durable
    failed: list[int] = []

    def first_fails(fds, paths=()):
        if not failed:
            failed.append(len(fds))
            assert temps(list(agents.values())), "the files are written before their flush"
            assert not [p for folder in agents.values() for p in folder.glob("*.md")]  # and not named yet
            return [OSError(errno.EIO, "Input/output error")] * (len(fds) + len(paths))
        return real(fds, paths)

    monkeypatch.setattr(flush, "durable", first_fails)
    session.dispatcher.policy = RetryPolicy(base_delay=0.05, jitter=0.0)
    deliver_all(session, ids)
    assert Counter(session.store.states_of(ids).values()) == {"delivered": 10}
    assert texts(tmp_path / "in1") == [f"task {n}" for n in range(0, 10, 2)]  # each once, in order
    assert texts(tmp_path / "in2") == [f"task {n}" for n in range(1, 10, 2)]
    assert temps(list(agents.values())) == []
    first = session.store.delivery(ids[0])
    assert first.attempts == 2  # the failed flush was a logged attempt
    errors = [r[0] for r in session.store.connection().execute(
        "SELECT error FROM attempts WHERE delivery_id = ? ORDER BY n", (ids[0],))]
    assert errors[0] is not None and "Input/output error" in errors[0] and errors[1] is None
    session.close()


def test_a_folder_whose_flush_fails_leaves_its_files_uncertain_and_the_others_delivered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {"Agent-1": tmp_path / "in1", "Agent-2": tmp_path / "in2"}
    for folder in agents.values():
        folder.mkdir()
    session = open_session(tmp_path, agents)
    attach(session.dispatcher)
    ids = submit(session, list(agents), 8)
    real = flush.durable

    def in1_fails(fds, paths=()):
        errors = real(fds, paths)
        told = [*(None for _ in fds), *(Path(path) for path in paths)]
        return [OSError(errno.EIO, "Input/output error") if path == tmp_path / "in1" else e
                for path, e in zip(told, errors, strict=True)]

    monkeypatch.setattr(flush, "durable", in1_fails)
    deliver_all(session, ids)
    rows = [session.store.delivery(d) for d in ids]
    assert {r.state for r in rows if r.agent_id == "Agent-1"} == {"uncertain"}
    assert all("folder's fsync failed" in (r.reason or "") for r in rows if r.agent_id == "Agent-1")
    assert {r.state for r in rows if r.agent_id == "Agent-2"} == {"delivered"}
    assert len(texts(tmp_path / "in1")) == 4  # written once each, never again
    session.close()


def test_a_bug_part_way_leaves_no_temp_file_and_no_open_descriptor(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {"Agent-1": tmp_path / "in1", "Agent-2": tmp_path / "in2"}
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    submit(session, list(agents), 6)

    def bug(fds, paths=()):
        assert len(temps(list(agents.values()))) == 6  # written, about to be flushed
        raise RuntimeError("a bug")

    monkeypatch.setattr(flush, "durable", bug)
    open_before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(RuntimeError, match="a bug"):
        batch._round(threading.Event())
    assert temps(list(agents.values())) == []
    assert len(os.listdir("/proc/self/fd")) == open_before
    session.close()
