"""Several connections opening one new database file at the same moment (two `quarterdeck send`
on a fresh data folder, a panel and a hook): each gets its connection in WAL mode, none gets
"locked"."""
from __future__ import annotations

import threading
from pathlib import Path

from quarterdeck.core.store.db import connect

ROUNDS = 60  # on the code before the retry, one round in ten or more had a loser
OPENERS = 8


def _open_together(path: Path) -> tuple[list[BaseException], list[str]]:
    """Open ``OPENERS`` connections on ``path`` at once; the failures and each one's journal mode."""
    start = threading.Barrier(OPENERS)
    failures: list[BaseException] = []
    modes: list[str] = []

    def open_store() -> None:
        try:
            start.wait(5)
            conn = connect(path)
            try:
                modes.append(conn.execute("PRAGMA journal_mode").fetchone()[0])
            finally:
                conn.close()
        except BaseException as exc:
            failures.append(exc)

    openers = [threading.Thread(target=open_store) for _ in range(OPENERS)]
    for thread in openers:
        thread.start()
    for thread in openers:
        thread.join(30)
        assert not thread.is_alive(), "an opener never returned"
    return failures, modes


def test_connections_opened_together_on_a_new_file_all_open_in_wal(tmp_path) -> None:
    for round_no in range(ROUNDS):
        path = tmp_path / f"r{round_no}" / "quarterdeck.sqlite3"
        path.parent.mkdir()
        failures, modes = _open_together(path)
        assert not failures, f"round {round_no}: {failures[0]}"
        assert modes == ["wal"] * OPENERS

