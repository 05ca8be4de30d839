"""A relay process under faults, on a real redis-server with AOF: killed before acknowledging, a dead
consumer's entries, Redis restarted mid-run, Redis paused for 5 s, its outbox locked by another
process. Every delivery ends accounted for, none arrives twice. The test plays the captain."""
from __future__ import annotations

import sqlite3
import time
from collections import Counter

import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import Captain, RelayProcess, inbox_texts, write_roster

from quarterdeck.core.relay.protocol import KEYS, RELAY_GROUP

AGENTS = ("Agent-1", "Agent-2")


@pytest.fixture
def roster(tmp_path):
    return write_roster(tmp_path / "agents.yaml", [
        {"id": agent, "transport": "inbox", "path": str(tmp_path / agent)} for agent in AGENTS])


def arrivals(tmp_path) -> Counter[str]:
    """How often each message text arrived, over both inboxes (the text is the last line of a file)."""
    return Counter(text.strip().splitlines()[-1] for agent in AGENTS for text in inbox_texts(tmp_path / agent))


def send_many(captain: Captain, count: int, start: int = 0) -> dict[int, str]:
    sent = {}
    for n in range(start, start + count):
        text = f"task number {n}"
        delivery, _ = captain.send("box-1", AGENTS[n % 2], text)
        sent[delivery] = text
    return sent


def accounted_once(tmp_path, captain: Captain, sent: dict[int, str]) -> dict[str, int]:
    """Every delivery has a final receipt; a delivered one arrived exactly once, none arrived twice."""
    final = captain.wait_final(set(sent), timeout=60)
    seen = arrivals(tmp_path)
    assert max(seen.values(), default=1) == 1, [t for t, n in seen.items() if n > 1]
    for delivery, text in sent.items():
        state = final[delivery].state
        assert state in ("delivered", "uncertain"), (delivery, final[delivery])
        assert seen[text] == (1 if state == "delivered" else seen[text]), (delivery, state)
    return dict(Counter(final[d].state for d in sent))


def test_an_entry_read_but_never_acknowledged_is_delivered_once_by_the_next_start(
        tmp_path, roster, redis_server: RedisServer) -> None:
    captain = Captain(redis_server.url)
    stream = KEYS.relay_in("box-1")
    delivery, _ = captain.send("box-1", "Agent-1", "task number 0")
    # a relay named box-1 read it (it is pending for box-1) and died before XACK
    captain.client.xgroup_create(stream, RELAY_GROUP, id="0", mkstream=True)
    assert captain.client.xreadgroup(RELAY_GROUP, "box-1", {stream: ">"}, count=10)
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    try:
        assert accounted_once(tmp_path, captain, {delivery: "task number 0"}) == {"delivered": 1}
        captain.wait_for(lambda: captain.client.xlen(stream) == 0, 5, "XLEN 0")
        assert captain.client.xpending(stream, RELAY_GROUP)["pending"] == 0
    finally:
        relay.close()


def test_a_dead_consumers_idle_entry_is_claimed(tmp_path, roster, redis_server: RedisServer) -> None:
    captain = Captain(redis_server.url)
    stream = KEYS.relay_in("box-1")
    delivery, _ = captain.send("box-1", "Agent-2", "task number 1")
    captain.client.xgroup_create(stream, RELAY_GROUP, id="0", mkstream=True)
    (_, [(entry_id, _)]), = captain.client.xreadgroup(RELAY_GROUP, "box-1-old", {stream: ">"}, count=10)
    # its consumer died 60 s ago (XCLAIM's IDLE sets how long the entry has been idle)
    captain.client.xclaim(stream, RELAY_GROUP, "box-1-old", 0, [entry_id], idle=60_000)
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    try:
        assert accounted_once(tmp_path, captain, {delivery: "task number 1"}) == {"delivered": 1}
    finally:
        relay.close()


def test_kill_9_mid_run_then_restart_delivers_each_exactly_once(tmp_path, roster, redis_server: RedisServer) -> None:
    captain = Captain(redis_server.url)
    sent = send_many(captain, 120)  # waiting when the relay starts: it reads 100 at once
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    try:
        # killed as its first receipt comes: the rest of what it took waits in its outbox (it takes a
        # whole read in one transaction, so entries read but not acknowledged are rare here; the test
        # above covers them)
        captain.wait_for(lambda: bool(captain.read_receipts()), 30, "a first delivery")
        relay.kill()
        pending = captain.client.xpending(KEYS.relay_in("box-1"), RELAY_GROUP)["pending"]
        left = captain.client.xlen(KEYS.relay_in("box-1"))
        finals = len(captain.final())
        relay.start()
        counts = accounted_once(tmp_path, captain, sent)
        print(f"kill -9 with {finals} final receipts out, {left} entries in the stream, {pending} read but not "
              f"acknowledged; after the restart: {counts}")
        assert finals < len(sent) - 10, "the kill came after (nearly) every delivery ended: it tested nothing"
        assert captain.client.xlen(KEYS.relay_in("box-1")) == 0
        relay.stop()
    finally:
        relay.close()


def test_redis_restarted_mid_run_loses_nothing(tmp_path, roster, redis_server: RedisServer) -> None:
    captain = Captain(redis_server.url)
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    try:
        sent = send_many(captain, 30)
        redis_server.restart(down_for=1.5)  # SIGTERM (AOF flushed), down 1.5 s, same folder and port
        sent |= send_many(captain, 30, start=30)
        counts = accounted_once(tmp_path, captain, sent)
        assert counts == {"delivered": 60}, counts
        assert captain.client.xlen(KEYS.relay_in("box-1")) == 0
        relay.stop()
        err = relay.err.read_text()
        assert err.count("is not reachable") <= 1 and err.count("answers again") == err.count("is not reachable"), err
    finally:
        relay.close()


def test_redis_paused_5_s_the_relay_keeps_delivering_and_reports_after(
        tmp_path, roster, redis_server: RedisServer) -> None:
    captain = Captain(redis_server.url)
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    try:
        # two agents taking turns: the dispatcher's stagger spaces them 50 ms apart, so 160 take ~8 s
        sent = send_many(captain, 160)
        captain.wait_for(lambda: captain.client.xlen(KEYS.relay_in("box-1")) == 0, 20, "all taken")
        before = sum(arrivals(tmp_path).values())
        redis_server.pause()
        time.sleep(5)
        during = sum(arrivals(tmp_path).values()) - before
        redis_server.unpause()
        counts = accounted_once(tmp_path, captain, sent)
        print(f"Redis paused 5 s: {before} delivered before, {during} delivered while paused; all {counts}")
        assert during >= 20, "local delivery went on while the broker was paused"
        assert counts == {"delivered": 160}
        relay.stop()
    finally:
        relay.close()


def test_receipts_wait_out_an_outage_in_the_relays_file(tmp_path, roster, redis_server: RedisServer) -> None:
    """Redis is down when deliveries finish: the receipts stay recorded and go when it is back."""
    captain = Captain(redis_server.url)
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    try:
        sent = send_many(captain, 60)
        captain.wait_for(lambda: captain.client.xlen(KEYS.relay_in("box-1")) == 0, 20, "all taken")
        redis_server.stop()
        time.sleep(4)  # deliveries finish meanwhile; their receipts cannot go
        with pytest.raises(redis.ConnectionError):
            captain.client.ping()
        redis_server.start()
        counts = accounted_once(tmp_path, Captain(redis_server.url), sent)
        assert counts == {"delivered": 60}
        relay.stop()
        err = relay.err.read_text()
        assert err.count("is not reachable") == 1 and err.count("answers again") == 1, err
    finally:
        relay.close()


def test_receipts_a_relay_could_not_send_before_it_stopped_go_on_its_next_start(
        tmp_path, roster, redis_server: RedisServer) -> None:
    captain = Captain(redis_server.url)
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    try:
        sent = send_many(captain, 40)
        captain.wait_for(lambda: captain.client.xlen(KEYS.relay_in("box-1")) == 0, 20, "all taken")
        redis_server.stop()
        captain.wait_for(lambda: sum(arrivals(tmp_path).values()) == 40, 30, "all 40 delivered locally")
        out = relay.stop()  # Redis is still down: the receipts stay in the relay's file
        waiting = int(out.splitlines()[-1].split(" receipts published, ")[1].split()[0])
        assert waiting > 0, out
        redis_server.start()
        relay.start()
        counts = accounted_once(tmp_path, Captain(redis_server.url), sent)
        print(f"{waiting} receipts waited in the relay's file across its restart; then {counts}")
        assert counts == {"delivered": 40}
        relay.stop()
    finally:
        relay.close()


def test_a_locked_outbox_is_one_line_and_the_entry_is_taken_once_it_frees(
        tmp_path, roster, redis_server: RedisServer) -> None:
    """Another process holds the relay's outbox write-locked for longer than SQLite waits: taking the
    entry fails (one line, no traceback), the entry stays unacknowledged, and once the lock goes it is
    taken and delivered exactly once."""
    captain = Captain(redis_server.url)
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    locker = sqlite3.connect(tmp_path / "data" / "quarterdeck.sqlite3", isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")  # what a stuck writer (another quarterdeck process) does
        sent = send_many(captain, 2)
        stream = KEYS.relay_in("box-1")
        captain.wait_for(lambda: "local storage failed" in relay.err.read_text(), 20, "the fault's line")
        assert captain.client.xpending(stream, RELAY_GROUP)["pending"] >= 1  # read, not acknowledged
        assert captain.client.xlen(stream) == 2  # both still in the stream
        time.sleep(3)  # it keeps retrying meanwhile, silently
        locker.execute("ROLLBACK")
        counts = accounted_once(tmp_path, captain, sent)
        assert counts == {"delivered": 2}, counts
        assert captain.client.xpending(stream, RELAY_GROUP)["pending"] == 0
        relay.stop()
        err = relay.err.read_text()
        print(f"relay's stderr through the fault: {err!r}")
        # one line per thread per episode: the intake's, and the events publisher's when it read the
        # same locked file meanwhile (each says what it leaves for later), never one per retry
        assert err.count("intake: local storage failed") == 1 and err.count("intake works again after") == 1, err
        for where in ("receipts", "heartbeat", "events"):
            assert err.count(f"{where}: local storage failed") <= 1, err
        assert "database is locked" in err and "Traceback" not in err
    finally:
        locker.close()
        relay.close()
