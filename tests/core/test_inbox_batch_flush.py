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
from quarterdeck.core.delivery.errors import RetryableError
from quarterdeck.core.models import Message
from quarterdeck.core.resilience.retry import RetryPolicy
from quarterdeck.core.roster.roster import load_roster
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.session import Session
from quarterdeck.core.transports.inbox import InboxDelivery, parse_message


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


def one_round(batch) -> None:
    """One round, as the batch's thread runs it (with its descriptors per file system, closed after)."""
    anchors: dict[int, int] = {}
    try:
        batch._round(threading.Event(), anchors)
    finally:
        for fd in anchors.values():
            if fd >= 0:
                os.close(fd)


def submit(session: Session, agents: list[str], count: int) -> list[int]:
    return [session.submit(Message(sender="captain", recipients=[agents[n % len(agents)]], content=f"task {n}"))
            .delivery_ids[0] for n in range(count)]


def trusted(folder: Path) -> bool:
    return flush.syncfs_available() and flush.type_of(os.stat(folder).st_dev) in flush.SYNCFS_TYPES


@pytest.mark.skipif(not trusted(Path("/tmp")), reason="a file system whose syncfs flushes (Linux 5.8+)")
def test_a_round_of_60_files_in_6_folders_takes_two_flushes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {f"Agent-{n}": tmp_path / f"in{n}" for n in range(6)}
    for folder in agents.values():  # a folder made for a delivery is flushed into its parent on its own
        folder.mkdir()
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    ids = submit(session, list(agents), 60)  # all queued before the first round: one round takes them
    syncfs: list[str] = []  # what the descriptor each syncfs went through is
    fsyncs: list[int] = []
    real_syncfs, real_fsync = flush._syncfs, os.fsync
    monkeypatch.setattr(flush, "_syncfs", lambda fd: (syncfs.append(os.readlink(f"/proc/self/fd/{fd}")),
                                                      real_syncfs(fd))[1])
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    deliver_all(session, ids)
    assert Counter(session.store.states_of(ids).values()) == {"delivered": 60}
    assert batch.rounds == 1
    assert len(syncfs) == 2 and fsyncs == []  # contents (with the claim), then names: not 66 fsyncs
    assert all(Path(target).is_dir() for target in syncfs)  # through a folder held from before the writes
    for n, folder in enumerate(agents.values()):
        assert texts(folder) == [f"task {k}" for k in range(n, 60, 6)]
    assert temps(list(agents.values())) == []
    session.close()


def fail_once(monkeypatch: pytest.MonkeyPatch, which) -> list[list[str]]:
    """``flush.durable`` as it is, except that its first call fails the paths ``which(path)`` picks; returns
    the paths of each call."""
    real, calls = flush.durable, []

    def durable(paths, *args, **options):
        calls.append([str(p) for p in paths])
        errors = real(paths, *args, **options)
        if len(calls) > 1:
            return errors
        return [OSError(errno.EIO, "Input/output error") if which(str(p)) else e
                for p, e in zip(paths, errors, strict=True)]

    monkeypatch.setattr(flush, "durable", durable)
    return calls


def nth_file(n: int):
    """A pick for ``fail_once``: the ``n``-th temp file it is asked about."""
    seen: list[str] = []

    def pick(path: str) -> bool:
        if path.endswith(".tmp"):
            seen.append(path)
        return path.endswith(".tmp") and len(seen) == n
    return pick


def failing_write(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """The file of the message ending in ``text`` cannot be written, the first time."""
    real, failed = InboxDelivery.stage, []

    def stage(self, request, now):
        if request.text.endswith(text) and not failed:
            failed.append(text)
            raise RetryableError("writing to inbox failed: disk busy")
        return real(self, request, now)

    monkeypatch.setattr(InboxDelivery, "stage", stage)


def attempts_of(session: Session, delivery: int) -> list[str | None]:
    return [r[0] for r in session.store.connection().execute(
        "SELECT error FROM attempts WHERE delivery_id = ? ORDER BY n", (delivery,))]


def test_the_claim_is_flushed_with_the_contents_before_any_file_is_named(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {"Agent-1": tmp_path / "in1"}
    session = open_session(tmp_path, agents)
    attach(session.dispatcher)
    ids = submit(session, list(agents), 3)
    named_at_first_flush: list[int] = []

    def count_named(path: str) -> bool:
        named_at_first_flush.append(len(list((tmp_path / "in1").glob("*.md"))))
        return False  # fails nothing

    calls = fail_once(monkeypatch, count_named)
    deliver_all(session, ids)
    first = calls[0]
    assert f"{session.store.path}-wal" in first  # the claim's commit, flushed with the files
    assert sum(p.endswith(".tmp") for p in first) == 3 and set(named_at_first_flush) == {0}
    session.close()


def test_a_file_whose_flush_fails_goes_again_and_its_agents_earlier_file_is_delivered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {"Agent-1": tmp_path / "in1"}
    session = open_session(tmp_path, agents)
    attach(session.dispatcher)
    session.dispatcher.policy = RetryPolicy(base_delay=0.05, jitter=0.0)
    ids = submit(session, list(agents), 3)
    fail_once(monkeypatch, nth_file(2))
    deliver_all(session, ids)
    assert Counter(session.store.states_of(ids).values()) == {"delivered": 3}
    assert texts(tmp_path / "in1") == ["task 0", "task 1", "task 2"]  # each once, in order
    assert attempts_of(session, ids[0]) == [None]  # the earlier file went at once
    assert len(attempts_of(session, ids[1])) == 2 and "Input/output error" in (attempts_of(session, ids[1])[0] or "")
    assert attempts_of(session, ids[2]) == [None]  # behind it: back in the queue without an attempt
    session.close()


def test_a_failed_write_holds_back_only_the_later_files_of_its_agent(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {"Agent-1": tmp_path / "in1"}
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    ids = submit(session, list(agents), 3)
    failing_write(monkeypatch, "task 1")
    one_round(batch)
    states = session.store.states_of(ids)
    assert [states[d] for d in ids] == ["delivered", "queued", "queued"]
    assert texts(tmp_path / "in1") == ["task 0"]
    session.close()


def test_an_earlier_file_failing_after_a_later_one_holds_back_everything_after_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {"Agent-1": tmp_path / "in1"}
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    ids = submit(session, list(agents), 3)
    failing_write(monkeypatch, "task 2")
    fail_once(monkeypatch, nth_file(1))
    one_round(batch)
    states = session.store.states_of(ids)
    assert [states[d] for d in ids] == ["queued", "queued", "queued"]  # task 1 waits behind task 0
    assert texts(tmp_path / "in1") == []
    assert attempts_of(session, ids[1]) == []  # behind: no attempt of its own
    session.close()


def test_an_outbox_that_cannot_be_flushed_costs_no_attempt_and_no_breaker_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {"Agent-1": tmp_path / "in1", "Agent-2": tmp_path / "in2"}
    session = open_session(tmp_path, agents)
    attach(session.dispatcher)
    ids = submit(session, list(agents), 4)
    fail_once(monkeypatch, lambda path: path.endswith("-wal"))
    deliver_all(session, ids)
    assert Counter(session.store.states_of(ids).values()) == {"delivered": 4}
    assert all(attempts_of(session, d) == [None] for d in ids)  # the failed round counted no attempt
    assert all(session.dispatcher.breakers.get(a).snapshot().failures == 0 for a in agents)
    assert texts(tmp_path / "in1") == ["task 0", "task 2"] and texts(tmp_path / "in2") == ["task 1", "task 3"]
    assert temps(list(agents.values())) == []
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

    def in1_fails(paths, *args, **options):
        errors = real(paths, *args, **options)
        return [OSError(errno.EIO, "Input/output error") if Path(p) == tmp_path / "in1" else e
                for p, e in zip(paths, errors, strict=True)]

    monkeypatch.setattr(flush, "durable", in1_fails)
    deliver_all(session, ids)
    rows = [session.store.delivery(d) for d in ids]
    assert {r.state for r in rows if r.agent_id == "Agent-1"} == {"uncertain"}
    assert all("its folder could not be flushed" in (r.reason or "") for r in rows if r.agent_id == "Agent-1")
    assert {r.state for r in rows if r.agent_id == "Agent-2"} == {"delivered"}
    assert len(texts(tmp_path / "in1")) == 4  # written once each, never again
    session.close()


def test_a_bug_part_way_leaves_no_temp_file_and_hands_every_permit_back(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    agents = {"Agent-1": tmp_path / "in1", "Agent-2": tmp_path / "in2"}
    session = open_session(tmp_path, agents)
    batch = attach(session.dispatcher)
    ids = submit(session, list(agents), 6)

    def bug(paths, *args, **options):
        assert len(temps(list(agents.values()))) == 6  # written, about to be flushed
        raise RuntimeError("a bug")

    monkeypatch.setattr(flush, "durable", bug)
    with pytest.raises(RuntimeError, match="a bug"):
        one_round(batch)
    assert temps(list(agents.values())) == []
    open_files = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                  if os.path.exists(f"/proc/self/fd/{fd}")]
    assert not [f for f in open_files if f.endswith(".tmp")]
    assert sum(session.dispatcher.breakers.get(a).snapshot().ignored for a in agents) == 6
    assert set(session.store.states_of(ids).values()) == {"queued"}  # nothing of them written: not stuck sending
    session.close()
