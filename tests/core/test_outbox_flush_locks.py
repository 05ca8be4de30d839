"""Flushing an inbox round's claim never opens the outbox's database file (quarterdeck.core.store.batching).

Closing any descriptor of a file releases every POSIX lock the process holds on it, SQLite's own
among them. A process whose locks went that way looks gone to the next process that opens and closes
the file (a hook, a send, ``history``): it takes itself for the last user, checkpoints, and deletes
the WAL and its index from under the first, which then reads "database disk image is malformed"."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from quarterdeck.core import flush
from quarterdeck.core.models import Message
from quarterdeck.core.store import Store, batching

OPEN_AND_CLOSE = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                  "c.execute('SELECT count(*) FROM deliveries').fetchall(); c.close()")


def test_flushing_the_claim_keeps_this_process_the_outboxs_user_for_every_other(tmp_path: Path) -> None:
    path = tmp_path / "quarterdeck.sqlite3"
    with Store(path) as store:
        store.enqueue(Message(sender="Captain", recipients=["A"], content="first"), [("A", "inbox")])
        outbox = batching.files(store)
        assert outbox == [f"{path}-wal"]  # the log alone: a commit is there; SQLite flushes the file itself
        assert flush.durable(outbox, {}, together=len(outbox) + 1) == [None]  # fsynced on its own
        done = subprocess.run([sys.executable, "-c", OPEN_AND_CLOSE, str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()  # not taken for the last user's
        store.enqueue(Message(sender="Captain", recipients=["A"], content="second"), [("A", "inbox")])
        assert store.connection().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.connection().execute("SELECT count(*) FROM deliveries").fetchone()[0] == 2
