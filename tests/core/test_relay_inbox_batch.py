"""A relay process delivering to its inbox agents in batches (``quarterdeck.core.batch``), on a real
redis-server: 500 deliveries to 10 agents each written once and in order with the inbox evidence in
their receipts; ``kill -9`` while a batch is between its start and its outcome (frozen first, so the
kill lands there), then a restart: nothing written twice, the batch's deliveries ``uncertain``; and a
stop-all mid-run: the queue cancelled, what is reported delivered is what arrived."""
from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import Captain, RelayProcess, inbox_texts, write_roster

from quarterdeck.core.models import Message

AGENTS = tuple(f"Agent-{n}" for n in range(1, 11))


@pytest.fixture
def roster(tmp_path):
    return write_roster(tmp_path / "agents.yaml", [
        {"id": agent, "transport": "inbox", "path": str(tmp_path / agent)} for agent in AGENTS])


def relay_process(tmp_path: Path, roster: Path, url: str) -> RelayProcess:
    return RelayProcess("box-1", roster, url, tmp_path / "data", extra=("--stagger", "0"))


def last_lines(tmp_path: Path, agent: str) -> list[str]:
    return [text.rstrip("\n").rsplit("\n", 1)[-1] for text in inbox_texts(tmp_path / agent)]


def send(captain: Captain, count: int) -> dict[int, tuple[str, Message]]:
    return captain.send_round("box-1", AGENTS, count, lambda n, agent: f"task number {n} for {agent}")


def test_500_deliveries_to_10_agents_each_written_once_in_order(tmp_path, roster, redis_server) -> None:
    captain = Captain(redis_server.url)
    relay = relay_process(tmp_path, roster, redis_server.url).start()
    try:
        sent = send(captain, 500)
        final = captain.wait_final(set(sent), timeout=120)
        out = relay.stop()
    finally:
        relay.close()
    assert Counter(r.state for r in final.values()) == {"delivered": 500}
    assert {(r.verdict, r.evidence, r.attempts) for r in final.values()} == {("submitted", "written and fsynced", 1)}
    for delivery in sent:
        assert captain.states_of(delivery) == ["delivered"]  # sending ended in the same round: one receipt
    for n, agent in enumerate(AGENTS):
        assert last_lines(tmp_path, agent) == [f"task number {k} for {agent}" for k in range(n, 500, 10)]
    assert "500 taken, 0 repeated entries ignored" in out


def sending_started(db: Path) -> set[int]:
    """The relay's local deliveries ``sending`` with their typing begun (read from another process)."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        return {int(r[0]) for r in conn.execute(
            "SELECT id FROM deliveries WHERE state = 'sending' AND started_at IS NOT NULL")}
    finally:
        conn.close()


def test_kill_9_mid_batch_then_restart_writes_nothing_twice_and_the_batch_is_uncertain(
        tmp_path, roster, redis_server: RedisServer) -> None:
    captain = Captain(redis_server.url)
    sent = send(captain, 1500)  # waiting when the relay starts: batches of up to 200
    relay = relay_process(tmp_path, roster, redis_server.url).start()
    db = tmp_path / "data" / "quarterdeck.sqlite3"
    held: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while not held:
            assert time.monotonic() < deadline, "never caught a batch between its start and its outcome"
            assert relay.process is not None
            if db.exists() and sending_started(db):
                os.kill(relay.process.pid, signal.SIGSTOP)
                held = sending_started(db)
                if held:
                    relay.kill()
                    break
                os.kill(relay.process.pid, signal.SIGCONT)
            time.sleep(0.002)
        relay.start()
        final = captain.wait_final(set(sent), timeout=180)
        relay.stop()
    finally:
        relay.close()
    seen = Counter(line for agent in AGENTS for line in last_lines(tmp_path, agent))
    states = Counter(r.state for r in final.values())
    print(f"kill -9 with {len(held)} started in a batch; after the restart: {dict(states)}")
    assert max(seen.values()) == 1, [t for t, n in seen.items() if n > 1]
    assert states["uncertain"] == len(held) and states["delivered"] == 1500 - len(held), states
    for delivery, (_, message) in sent.items():
        receipt = final[delivery]
        if receipt.state == "delivered":
            assert seen[message.content] == 1, (delivery, message.content)
        else:
            assert "interrupted" in receipt.reason
    for agent in AGENTS:  # each agent's files in its queue order, the lost ones left out
        numbers = [int(line.split()[2]) for line in last_lines(tmp_path, agent)]
        assert numbers == sorted(numbers)


def test_stop_all_mid_run_cancels_the_queue_and_what_is_delivered_arrived(tmp_path, roster, redis_server) -> None:
    captain = Captain(redis_server.url)
    sent = send(captain, 3000)
    relay = relay_process(tmp_path, roster, redis_server.url).start()
    try:
        captain.wait_for(lambda: sum(r.state == "delivered" for r in captain.read_receipts()) >= 50, 60,
                         "50 delivered")
        captain.control("stop", 1)
        final = captain.wait_final(set(sent), timeout=120)
        relay.stop()
    finally:
        relay.close()
    states = Counter(r.state for r in final.values())
    arrived = Counter(line for agent in AGENTS for line in last_lines(tmp_path, agent))
    print(f"stop all mid-run: {dict(states)}")
    assert set(states) == {"delivered", "cancelled"} and states["cancelled"] > 0, states
    assert sum(arrived.values()) == states["delivered"] and max(arrived.values()) == 1
    assert {sent[d][1].content for d, r in final.items() if r.state == "delivered"} == set(arrived)
