"""The panel with a broker (issue 14): its session has the relays' agents to deliver to, its Stop all
and Resume reach every relay through qd:control, and the roster it edits stays this machine's."""
from __future__ import annotations

import argparse
import time

import redis
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.relay.protocol import KEYS, AnnouncedAgent, Announcement, ControlEntry
from quarterdeck.gui.app import open_session


def test_the_panels_session_reaches_the_relays(tmp_path, redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    now = time.time()
    client.hset(KEYS.relays, "M2", Announcement("M2", "m2.lan", 1, now, now, [
        AnnouncedAgent("Agent-9", "Agent-9", "", "inbox", "/srv/in9")]).to_json())
    roster = tmp_path / "agents.yaml"
    roster.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {tmp_path / 'in1'}}}\n")
    args = argparse.Namespace(roster=roster, demo=None, data_dir=tmp_path / "data", config=None,
                              broker=redis_server.url)
    session, path, problem = open_session(args)
    try:
        assert problem is None and path == roster
        assert session.roster.ids() == ["Agent-1"]  # what the roster panel edits and saves
        assert session.delivering.ids() == ["Agent-1", "Agent-9"]  # what the composer's messages can reach
        assert session.dispatcher.roster.get("Agent-9").transport.kind == "relay"
        session.dispatcher.stop_all()  # the panel's Stop all (Escape) and Resume
        session.dispatcher.resume_everywhere()
    finally:
        session.close()
    entries = [ControlEntry.from_fields(f) for _, f in client.xrange(KEYS.control)]
    client.close()
    assert [(e.kind, e.generation) for e in entries] == [("stop", 1), ("resume", 1)]


def test_the_demo_panel_stays_on_this_machine(tmp_path, redis_server: RedisServer) -> None:
    args = argparse.Namespace(roster=None, demo=2, data_dir=tmp_path / "data", config=None,
                              broker=redis_server.url)
    session, _, _ = open_session(args)
    try:
        assert session.machines is None and session.broker is None
    finally:
        session.close()
