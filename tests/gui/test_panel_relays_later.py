"""The panel paints before it asks the broker anything (issue 14): a broker that accepts the connection
and never answers held the window back for the socket timeout (3 s) while the session read the relays.
The session starts from the relays as last seen; the panel's relay reader asks the broker off the UI
thread, and a send reads them first."""
from __future__ import annotations

import argparse
import json
import socket
import threading
import time

from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.relay.protocol import KEYS, AnnouncedAgent, Announcement
from quarterdeck.core.session import RELAYS_SEEN
from quarterdeck.gui.app import open_session


class SilentBroker:
    """A TCP listener that accepts connections, counts them and never answers."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.server.getsockname()[1]}/0"
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.server.close()
        self._thread.join(5)
        for conn in self.accepted:
            conn.close()


def announcement(name: str, agent: str, seen: float) -> Announcement:
    return Announcement(name, f"{name.lower()}.lan", 1, seen - 60, seen,
                        [AnnouncedAgent(agent, agent, "", "inbox", f"/srv/{agent}")])


def panel_args(tmp_path, url: str) -> argparse.Namespace:
    roster = tmp_path / "agents.yaml"
    roster.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {tmp_path / 'in1'}}}\n")
    return argparse.Namespace(roster=roster, demo=None, data_dir=tmp_path / "data", config=None, broker=url)


def test_a_broker_that_does_not_answer_is_not_asked_before_the_panel_paints(tmp_path):
    broker = SilentBroker()
    data = tmp_path / "data"
    data.mkdir()
    seen = time.time() - 300
    (data / RELAYS_SEEN).write_text(json.dumps([announcement("M2", "Agent-9", seen).to_json()]))
    try:
        session, _, problem = open_session(panel_args(tmp_path, broker.url))
        try:
            assert problem is None and broker.accepted == []  # nothing was asked of it
            assert session.delivering.ids() == ["Agent-1", "Agent-9"]  # the relays as last seen
            m2 = session.machines.relays[0]
            assert (m2.name, round(m2.age / 60)) == ("M2", 5)  # with their real age: offline until read
            assert session.dispatcher.companions.unreachable.keys() == {"Agent-9"}
        finally:
            session.close()
    finally:
        broker.close()


def test_the_relays_are_read_when_the_panel_reads_them_and_before_a_send(tmp_path,
                                                                         redis_server: RedisServer) -> None:
    import redis

    from quarterdeck.core.models import Message

    client = redis.Redis.from_url(redis_server.url)
    client.hset(KEYS.relays, "M3", announcement("M3", "Agent-7", time.time()).to_json())
    client.close()
    session, _, _ = open_session(panel_args(tmp_path, redis_server.url))
    try:
        assert session.delivering.ids() == ["Agent-1"]  # no relay seen before, none asked yet
        session.submit(Message(sender="captain", recipients=["Agent-7"], content="reaches M3"))
        assert session.delivering.ids() == ["Agent-1", "Agent-7"]  # the send read them first
        kept = json.loads((tmp_path / "data" / RELAYS_SEEN).read_text())  # for a panel started without a broker
        assert [Announcement.from_json(raw).name for raw in kept] == ["M3"]
    finally:
        session.close()


def test_the_started_panel_reads_the_relays_at_once(make_ctx, qtbot, redis_server: RedisServer) -> None:
    import redis
    from gui_fixtures import dry_roster

    client = redis.Redis.from_url(redis_server.url)
    client.hset(KEYS.relays, "M2", announcement("M2", "Agent-9", time.time()).to_json())
    client.close()
    ctx = make_ctx(roster=dry_roster("Agent-1"), broker_url=redis_server.url, relays=True, relays_later=True,
                   start=False)
    assert ctx.session.delivering.ids() == ["Agent-1"]
    with qtbot.waitSignal(ctx.sig_fleet_changed, timeout=1900):  # at once: not at the timer's first tick (2 s)
        ctx.start()
    assert ctx.session.delivering.ids() == ["Agent-1", "Agent-9"] and ctx.relays.reads == 1
