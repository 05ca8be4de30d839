"""``quarterdeck serve`` with a broker configured (issue 14): its session has every relay's agents, so
a delivery to a relay's agent goes (through the captain's forwarder to a real ``quarterdeck relay``
process), ``/metrics`` counts it and ``/health`` covers the relays' agents and says how each relay is;
a relay started after serve joins within a few seconds (the relays are read again every 2 s)."""
from __future__ import annotations

import json
import urllib.request
from functools import partial

import polling
import redis
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import RelayProcess, inbox_texts, write_roster

import quarterdeck.cli.main
from quarterdeck.cli import serve_cmd
from quarterdeck.core.models import Message
from quarterdeck.core.relay.event_entry import EventEntry
from quarterdeck.core.relay.protocol import KEYS

WAIT = 30.0
wait_until = partial(polling.wait_until, timeout=WAIT, every=0.05)


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def test_serve_with_a_broker_delivers_to_relays_agents_and_counts_them(tmp_path, monkeypatch,
                                                                       redis_server: RedisServer) -> None:
    m2 = RelayProcess("M2", write_roster(tmp_path / "m2.yaml", [
        {"id": "Agent-9", "transport": "inbox", "path": str(tmp_path / "in9")}]), redis_server.url,
        tmp_path / "m2-data", extra=("--stagger", "0")).start()
    m3 = RelayProcess("M3", write_roster(tmp_path / "m3.yaml", [
        {"id": "Agent-7", "transport": "inbox", "path": str(tmp_path / "in7")}]), redis_server.url,
        tmp_path / "m3-data", extra=("--stagger", "0"))
    client = redis.Redis.from_url(redis_server.url)
    wait_until(lambda: client.hexists(KEYS.relays, "M2"), "M2 announced")
    roster = write_roster(tmp_path / "captain.yaml", [{"id": "Agent-1", "transport": "inbox",
                                                       "path": str(tmp_path / "in1")}])
    monkeypatch.setenv("COORDINATION_BROKER_URL", redis_server.url)
    args = quarterdeck.cli.main.build_parser().parse_args(
        ["serve", "--port", "0", "--poll", "0.02", "--data-dir", str(tmp_path / "data"), "--roster", str(roster)])
    service = serve_cmd.start_service(args)
    try:
        assert service.session.delivering.ids() == ["Agent-1", "Agent-9"]
        service.session.submit(Message(sender="Captain", recipients=["Agent-9"], content="from serve"))
        wait_until(lambda: any(t.endswith("from serve") for t in inbox_texts(tmp_path / "in9")), "typed on M2")
        counted = b'quarterdeck_deliveries_total{agent="Agent-9",outcome="ok"} 1.0'
        wait_until(lambda: counted in get(service.url + "/metrics"), "the relayed delivery on /metrics")
        report = json.loads(get(service.url + "/health"))
        assert sorted(report["components"]["agents"]["components"]) == ["Agent-1", "Agent-9"]
        assert report["relays"]["M2"]["health"] == "ok" and report["relays"]["M2"]["agents"] == ["Agent-9"]
        seconds, micros = client.time()  # Agent-9's hook on M2, as its relay publishes it
        client.xadd(KEYS.events, EventEntry("M2", "m2-1", "Agent-9", "claude-code", "turn_ended", "Stop",
                                            seconds + micros / 1e6 - 5).to_fields())
        idle = b'quarterdeck_agent_state{agent="Agent-9",state="idle"} 1.0'
        wait_until(lambda: idle in get(service.url + "/metrics"), "M2's agent's activity on /metrics")
        m3.start()  # a relay started after serve: read again within a few seconds
        wait_until(lambda: "Agent-7" in json.loads(get(service.url + "/health"))["components"]["agents"]["components"],
                   "M3's agent on /health", timeout=10)
        assert service.session.dispatcher.roster.get("Agent-7").transport.kind == "relay"
    finally:
        service.close()
        client.close()
        m2.close()
        m3.close()
