"""Write transactions of one process take turns on a lock of the process before BEGIN IMMEDIATE, and
a commit that a later durable one always follows (a claim before typing, an attempt record) is not
fsynced by itself: the started mark and the outcome still are."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

from quarterdeck.core.models import Message
from quarterdeck.core.store import Store
from quarterdeck.core.store.db import _writer_lock, immediate


def _commits(statements: list[str]) -> list[str]:
    """Each COMMIT with the synchronous mode it ran under ('FULL' or 'NORMAL')."""
    mode, out = "FULL", []
    for sql in statements:
        text = " ".join(sql.split()).upper()
        if text.startswith("PRAGMA SYNCHRONOUS ="):
            mode = text.rsplit("=", 1)[1].strip()
        elif text == "COMMIT":
            out.append(mode)
    return out


def test_only_the_claim_before_typing_and_the_attempt_commit_without_their_own_fsync(tmp_path) -> None:
    with Store(tmp_path / "q.sqlite3") as store:
        ids = [store.enqueue(Message(sender="Captain", content=f"m{n}"), [(f"A{n}", "inbox")])[0] for n in (1, 2)]
        statements: list[str] = []
        conn = store.connection()
        conn.set_trace_callback(statements.append)
        task = store.claim_next(started=False)
        assert task is not None and _commits(statements) == ["NORMAL"]
        store.mark_started(task.delivery_id)
        now = datetime.now(UTC)
        store.record_attempt(task.delivery_id, 1, True, None, now, now)
        store.mark_delivered(task.delivery_id, 1.0)
        assert _commits(statements) == ["NORMAL", "FULL", "NORMAL", "FULL"]
        statements.clear()
        started = store.claim_next(started=True)  # typing begins with the claim: it must be durable
        assert started is not None and started.delivery_id == ids[1] and _commits(statements) == ["FULL"]
        conn.set_trace_callback(None)
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again for whatever comes next


def test_threads_of_one_process_take_turns_before_begin(tmp_path) -> None:
    with Store(tmp_path / "q.sqlite3") as store:
        inside, release, waited = threading.Event(), threading.Event(), []

        def holder() -> None:
            with immediate(store.connection()):
                inside.set()
                release.wait(5)

        thread = threading.Thread(target=holder)
        thread.start()
        assert inside.wait(5)
        turn = _writer_lock(store.connection())
        waited.append(turn.acquire(blocking=False))  # another thread's write holds the turn
        release.set()
        thread.join(5)
        waited.append(turn.acquire(timeout=5))
        turn.release()
        assert waited == [False, True]
        store.enqueue(Message(sender="Captain", content="after"), [("A1", "inbox")])  # not left locked



def test_a_transaction_that_fails_to_start_hands_its_turn_back(tmp_path) -> None:
    import sqlite3

    import pytest

    class Twin(sqlite3.Connection):
        path = ""

    with Store(tmp_path / "q.sqlite3") as store:
        twin = Twin(tmp_path / "q.sqlite3")
        twin.path = store.connection().path  # type: ignore[attr-defined]  # the same file: the same turn
        twin.close()  # as a connection the store's close closed under a thread: every statement fails
        with pytest.raises(sqlite3.ProgrammingError):
            with immediate(twin, durable=False):  # its first statement is the synchronous pragma
                pass
        took: list[bool] = []

        def other_thread() -> None:
            turn = _writer_lock(store.connection())
            took.append(turn.acquire(timeout=1.0))
            if took[-1]:
                turn.release()

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert took == [True]  # free for the other threads at once, not after the busy timeout
