"""Health with relays (issue 14): a relay that stopped answering makes its agents unreachable, with
why, and they become reachable again when it is seen; this machine's agents are not affected."""
from __future__ import annotations

import time
from pathlib import Path

import redis
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.monitor.reach import reach_of, unreachable_agents
from quarterdeck.core.relay.protocol import KEYS, AnnouncedAgent, Announcement
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.roster.status import describe_target
from quarterdeck.core.session import Session


def _announce(client: redis.Redis, name: str, agent: str, *, age: float) -> None:
    seen = time.time() - age
    client.hset(KEYS.relays, name, Announcement(name, "box.lan", 1, seen - 60, seen, [
        AnnouncedAgent(agent, agent, "", "tmux", "swarm:0.1")]).to_json())


def test_a_silent_relays_agents_are_unreachable_until_it_is_seen_again(tmp_path: Path,
                                                                        redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    _announce(client, "M2", "Agent-9", age=40)
    _announce(client, "M3", "Agent-7", age=0)
    local = Roster((Agent(id="Agent-1", transport=DryRunTransport()),))
    session = Session.open(roster=local, data_dir=tmp_path, broker_url=redis_server.url, relays=True)
    try:
        agents = {a.id: a for a in session.delivering.agents}
        away = unreachable_agents(session.dispatcher, agents.values())
        assert set(away) == {"Agent-9"}
        assert away["Agent-9"].startswith("relay M2 last seen 4") and "wait for it" in away["Agent-9"]
        reach = reach_of(session.dispatcher, agents["Agent-9"])
        assert (reach.reachable, reach.kind) == (False, "relay")
        assert describe_target(agents["Agent-9"]) == "tmux swarm:0.1 on M2"
        _announce(client, "M2", "Agent-9", age=0)  # its heartbeat again
        session.refresh_relays()
        assert unreachable_agents(session.dispatcher, agents.values()) == {}
    finally:
        session.close()


def test_a_broker_url_answered_by_something_else_is_a_problem_line_not_a_crash(tmp_path: Path) -> None:
    """A web proxy at the broker's address answers a Redis command with an HTTP status line."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    try:
        local = Roster((Agent(id="Agent-1", transport=DryRunTransport()),))
        session = Session.open(roster=local, data_dir=tmp_path, relays=True, broker_url=f"redis://127.0.0.1:{port}/0")
        try:
            assert session.delivering.ids() == ["Agent-1"]
            assert session.machines is not None
            [problem] = [p for p in session.machines.problems if "answered but not as Redis should" in p]
            assert problem.startswith(f"broker redis://127.0.0.1:{port}")
        finally:
            session.close()
    finally:
        listener.close()
