"""A relay process taking reads of entries in one go, on a real redis-server: 500 entries with repeats
and a malformed one are each typed once, the malformed one refused with a failed receipt, all
acknowledged and deleted; and ``kill -9`` while it holds a read it has not acknowledged (frozen
first, so the kill lands there for sure) loses nothing and types nothing twice after a restart."""
from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import Captain, RelayProcess, inbox_texts, write_roster

from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import KEYS, RELAY_GROUP, VERSION

AGENTS = tuple(f"Agent-{n}" for n in range(1, 6))
STREAM = KEYS.relay_in("box-1")


@pytest.fixture
def roster(tmp_path):
    return write_roster(tmp_path / "agents.yaml", [
        {"id": agent, "transport": "inbox", "path": str(tmp_path / agent)} for agent in AGENTS])


def arrivals(tmp_path) -> Counter[str]:
    return Counter(text.strip().splitlines()[-1] for agent in AGENTS for text in inbox_texts(tmp_path / agent))


def send(captain: Captain, count: int) -> dict[int, tuple[str, Message]]:
    return captain.send_round("box-1", AGENTS, count, lambda n, agent: f"task number {n}")


def test_500_entries_with_repeats_and_a_malformed_one(tmp_path, roster, redis_server: RedisServer) -> None:
    captain = Captain(redis_server.url)
    sent = send(captain, 490)
    for delivery in list(sent)[::49]:  # ten repeats of deliveries sent before (a captain writing again)
        agent, message = sent[delivery]
        captain.send("box-1", agent, "", message=message, delivery=delivery)
    captain.client.xadd(STREAM, {"v": VERSION, "delivery": "9999", "agent": "Agent-1", "message": "{not json"})
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data", extra=("--stagger", "0")).start()
    try:
        final = captain.wait_final(set(sent) | {9999}, timeout=120)
        captain.wait_for(lambda: captain.client.xlen(STREAM) == 0, 10, "every entry deleted")
        assert captain.client.xpending(STREAM, RELAY_GROUP)["pending"] == 0
        out = relay.stop()
    finally:
        relay.close()
    assert final[9999].state == "failed" and "could not read the entry" in final[9999].reason
    assert Counter(final[d].state for d in sent) == {"delivered": 490}
    seen = arrivals(tmp_path)
    assert len(seen) == 490 and set(seen.values()) == {1}
    assert "490 taken, 10 repeated entries ignored" in out


def written(tmp_path) -> bool:
    """Some message file is in an inbox already (the relay's deliveries run)."""
    return any(path.name.endswith(".md") for agent in AGENTS if (tmp_path / agent).is_dir()
               for path in (tmp_path / agent).iterdir())


def kill_while_holding_entries(relay: RelayProcess, captain: Captain, tmp_path, timeout: float = 60.0) -> int:
    """``kill -9`` the relay while its deliveries run (files are written) and it holds entries it read
    but did not acknowledge; frozen first (SIGSTOP), so the count read is still true at the kill.
    Returns it."""
    assert relay.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            holding = captain.client.xpending(STREAM, RELAY_GROUP)["pending"] and written(tmp_path)
        except redis.ResponseError:  # its consumer group is not there yet
            holding = False
        if holding:
            os.kill(relay.process.pid, signal.SIGSTOP)
            pending = int(captain.client.xpending(STREAM, RELAY_GROUP)["pending"])
            if pending:
                relay.kill()  # SIGKILL ends a stopped process too
                return pending
            os.kill(relay.process.pid, signal.SIGCONT)
        time.sleep(0.001)
    raise AssertionError("the relay never held an unacknowledged read while delivering: nothing was tested")


def test_kill_9_while_holding_a_read_then_restart_types_each_once(tmp_path, roster, redis_server) -> None:
    captain = Captain(redis_server.url)
    sent = send(captain, 800)  # waiting when the relay starts: it reads 100 at a time
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data", extra=("--stagger", "0")).start()
    try:
        pending = kill_while_holding_entries(relay, captain, tmp_path)
        relay.start()
        final = captain.wait_final(set(sent), timeout=180)
        captain.wait_for(lambda: captain.client.xlen(STREAM) == 0, 10, "every entry deleted")
        relay.stop()
    finally:
        relay.close()
    seen = arrivals(tmp_path)
    print(f"kill -9 holding {pending} unacknowledged entries; after the restart: "
          f"{dict(Counter(final[d].state for d in sent))}")
    assert pending > 0
    assert max(seen.values()) == 1, [t for t, n in seen.items() if n > 1]
    for delivery, (_, message) in sent.items():
        state = final[delivery].state
        assert state in ("delivered", "uncertain"), (delivery, final[delivery])
        if state == "delivered":
            assert seen[message.content] == 1, (delivery, message.content)
