"""kill -9 in the middle of work: nothing is lost, and only dead processes' deliveries turn uncertain."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import State, Store, message_detail
from quarterdeck.core.store.owner import lease_dir

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

BROADCAST_THEN_WAIT = """
import json, sys
from pathlib import Path
from quarterdeck.core.models import Message
from quarterdeck.core.store import Store
store = Store(Path(sys.argv[1]))
message = Message(sender="captain", content="all hands: rebase on main", type="broadcast")
ids = store.enqueue(message, [(f"Agent-{n}", "dryrun") for n in range(1, 6)])
first = store.claim_next()
store.mark_delivered(first.delivery_id, 5.0)
second = store.claim_next()
store.mark_failed(second.delivery_id, "pane gone")
third = store.claim_next()
print(json.dumps({"message": message.id, "ids": ids, "delivered": first.delivery_id,
                  "failed": second.delivery_id, "sending": third.delivery_id}), flush=True)
sys.stdin.readline()
"""

BUSY_LOOP = """
import sys
from pathlib import Path
from quarterdeck.core.models import Message
from quarterdeck.core.store import Store
store = Store(Path(sys.argv[1]))
n = 0
while True:
    n += 1
    message = Message(sender="captain", content=f"message {n}")
    store.enqueue(message, [("Agent-1", "dryrun"), ("Agent-2", "dryrun"), ("Agent-3", "dryrun")])
    print(message.id, flush=True)
    task = store.claim_next()
    if task is not None:
        store.record_attempt(task.delivery_id, 1, n % 3 != 0, None, task.message_created_at,
                             task.message_created_at)
        if n % 3:
            store.mark_delivered(task.delivery_id, 1.0)
        else:
            store.mark_failed(task.delivery_id, "flaky")
"""


def spawn(script: str, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    proc.stdin.close()
    proc.stdout.close()


def test_kill_9_mid_broadcast_loses_nothing_and_the_typing_one_becomes_uncertain(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    child = spawn(BROADCAST_THEN_WAIT, path)
    try:
        seen = json.loads(child.stdout.readline())
        with Store(path) as watcher:
            assert watcher.recover() == [], "the child is alive: its delivery is really being sent"
            assert watcher.delivery(seen["sending"]).state is State.SENDING
    finally:
        kill(child)

    with Store(path) as store:
        states = {d.delivery.id: d.delivery.state for d in message_detail(store, seen["message"]).deliveries}
        assert set(states) == set(seen["ids"])
        assert states[seen["delivered"]] is State.DELIVERED
        assert states[seen["failed"]] is State.FAILED
        assert states[seen["sending"]] is State.SENDING
        assert sorted(s for s in states.values() if s is State.QUEUED) == [State.QUEUED] * 2

        [recovered] = store.recover()
        assert (recovered.id, recovered.state) == (seen["sending"], State.UNCERTAIN)
        assert "interrupted" in recovered.reason
        assert store.recover() == []
        claimed = []
        while (task := store.claim_next()) is not None:
            claimed.append(task.delivery_id)
            store.mark_delivered(task.delivery_id, 1.0)
        assert seen["sending"] not in claimed, "an uncertain delivery must never be resent silently"
        assert len(claimed) == 2
        assert store.counts_by_state() == {"queued": 0, "sending": 0, "delivered": 3, "failed": 1,
                                           "cancelled": 0, "uncertain": 1, "waiting": 0, "expired": 0}
    assert list(lease_dir(path).iterdir()) == [], "dead and closed leases are cleaned up"


def test_kill_9_at_an_arbitrary_moment_keeps_the_file_consistent(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    child = spawn(BUSY_LOOP, path)
    try:
        reported = [child.stdout.readline().strip() for _ in range(60)]
    finally:
        kill(child)

    with Store(path) as store:
        conn = store.connection()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] >= len(reported)
        per_message = conn.execute(
            "SELECT count(d.id) FROM messages m LEFT JOIN deliveries d ON d.message_id = m.id GROUP BY m.id"
        ).fetchall()
        assert {row[0] for row in per_message} == {3}, "an enqueue was half-committed"
        for message_id in reported:
            assert len(message_detail(store, message_id).deliveries) == 3
        store.recover()
        counts = store.counts_by_state()
        assert counts["sending"] == 0 and counts["cancelled"] == 0
        assert sum(counts.values()) == 3 * conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        fts = conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"message\"'")
        assert fts.fetchone()[0] == len(per_message), "the text index lost or gained rows"


def test_a_closed_store_hands_its_in_flight_deliveries_to_recover(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    with Store(path) as keeper:
        keeper.enqueue(Message(sender="captain", content="x"), [("Agent-1", "dryrun")])
        other = Store(path)
        task = other.claim_next()
        assert keeper.recover() == [], "a live Store in this process still owns it"
        other.close()
        assert [row.id for row in keeper.recover()] == [task.delivery_id]


def test_recover_never_touches_this_store_s_own_deliveries(tmp_path):
    with Store(tmp_path / "quarterdeck.sqlite3") as store:
        store.enqueue(Message(sender="captain", content="x"), [("Agent-1", "dryrun")])
        task = store.claim_next()
        assert store.recover() == []
        store.mark_delivered(task.delivery_id, 3.0)
