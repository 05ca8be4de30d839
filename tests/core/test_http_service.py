"""The /metrics, /health and /livez endpoints on 127.0.0.1, and the graceful delivery worker."""
from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from quarterdeck.core.config import CoordinationConfig
from quarterdeck.core.delivery.contract import Receipt
from quarterdeck.core.delivery.errors import SUBMITTED, PermanentError
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.models import Agent, DryRunTransport, Message
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.prometheus import CONTENT_TYPE
from quarterdeck.core.resilience import BreakerRegistry
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.service import DeliveryWorker, service_health
from quarterdeck.core.service.http import NotLoopback, loopback_host, serve_http, server_url, stop_http
from quarterdeck.core.store import Store
from quarterdeck.core.transports.dryrun import DryRunDelivery

FAST = CoordinationConfig(max_retries=0, base_delay=0.001, backoff_multiplier=1.0,
                          circuit_breaker_threshold=2)
WAIT = 30.0


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


@pytest.fixture
def served():
    """Start a server with the given parts; every server started is stopped afterwards."""
    running = []

    def start(monitor, breakers=None, health_fn=lambda: {"status": "UP", "components": {}}, host="127.0.0.1"):
        server, thread = serve_http(monitor, breakers, health_fn, host, 0, poll_interval=0.05)
        running.append((server, thread))
        return server_url(server)

    yield start
    for server, thread in running:
        stop_http(server, thread)
        assert not thread.is_alive()


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "q.sqlite3") as s:
        yield s


def roster_of(*ids: str) -> Roster:
    return Roster(agents=tuple(Agent(id=i, transport=DryRunTransport()) for i in ids))


def enqueue(store, agent: str, text: str = "Run the suite.") -> int:
    (delivery_id,) = store.enqueue(Message(sender="Captain", content=text, recipients=[agent]),
                                   [(agent, "dryrun")])
    return delivery_id


@pytest.mark.parametrize(("host", "bound"), [("localhost", "127.0.0.1"), ("127.0.0.1", "127.0.0.1"),
                                             ("127.4.5.6", "127.4.5.6"), ("::1", "::1"), ("[::1]", "::1")])
def test_loopback_hosts_are_accepted(host, bound):
    assert loopback_host(host) == bound


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", ""])
def test_other_hosts_are_refused_before_binding(host):
    with pytest.raises(NotLoopback, match="not a loopback address"):
        serve_http(Monitor(), None, dict, host, 0)


def test_metrics_endpoint_serves_the_text_format_with_breakers(served):
    monitor = Monitor()
    monitor.record_delivery("Agent-1", True, 0.2)
    monitor.record_delivery("Agent-1", False, 1.5)
    breakers = BreakerRegistry()
    breakers.get("Agent-1")
    url = served(monitor, breakers)

    code, headers, body = get(url + "/metrics")
    assert code == 200
    assert headers["Content-Type"] == CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"
    assert body.endswith(b"\n")
    families = {f.name: f for f in text_string_to_metric_families(body.decode("utf-8"))}
    done = {(s.labels["agent"], s.labels["outcome"]): s.value
            for s in families["quarterdeck_deliveries"].samples if s.name.endswith("_total")}
    assert done == {("Agent-1", "ok"): 1.0, ("Agent-1", "failed"): 1.0}
    (state,) = families["quarterdeck_breaker_state"].samples
    assert state.labels == {"agent": "Agent-1"} and state.value == 0.0

    breakers.get("Agent-2")  # a breaker added later shows at the next scrape
    _, _, again = get(url + "/metrics")
    assert b'quarterdeck_breaker_state{agent="Agent-2"} 0.0' in again


def test_livez_and_unknown_paths(served):
    url = served(Monitor(), health_fn=lambda: 1 / 0)
    assert get(url + "/livez")[::2] == (200, b"ok\n")
    assert get(url + "/nope")[0] == 404
    code, headers, body = get(url + "/health")  # a failing health check is DOWN, not a crash
    assert code == 503 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"].startswith("ZeroDivisionError")


def test_ipv6_loopback(served):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")
    try:
        url = served(Monitor(), host="::1")
    except OSError as exc:
        pytest.skip(f"::1 cannot be bound here: {exc}")
    assert url.startswith("http://[::1]:")
    assert get(url + "/livez")[0] == 200


def wait_for(dispatcher, count: int, states=("delivered", "failed")):
    """An event set once ``count`` deliveries have ended in one of ``states``."""
    done, seen = threading.Event(), []

    def listen(event):
        if event.state in states:
            seen.append(event)
            if len(seen) >= count:
                done.set()

    dispatcher.add_listener(listen)
    return done


def test_health_degrades_when_an_agent_breaker_opens_and_is_503_when_no_agent_is_reachable(store, served):
    roster = roster_of("Agent-1", "Agent-2")
    transports = {"Agent-1": DryRunDelivery(fail_times=100, error=PermanentError), "Agent-2": DryRunDelivery()}
    monitor = Monitor()
    dispatcher = Dispatcher(store, roster, config=FAST, monitor=monitor, stagger=0, breaker_wait=600,
                            transport_factory=lambda agent: transports[agent.id])
    worker = DeliveryWorker(dispatcher, idle_wait=0.05)
    url = served(monitor, dispatcher.breakers, service_health(worker, roster))
    worker.start()
    code, _, body = get(url + "/health")
    assert code == 200 and json.loads(body)["components"]["dispatcher"]["status"] == "UP"

    done = wait_for(dispatcher, 3)
    for agent in ("Agent-1", "Agent-1", "Agent-2"):
        enqueue(store, agent)
    worker.notify()
    assert done.wait(WAIT)
    code, headers, body = get(url + "/health")
    report = json.loads(body)
    agents = report["components"]["agents"]["components"]
    assert code == 200 and report["status"] == "DEGRADED"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert agents["Agent-1"]["status"] == "DOWN" and agents["Agent-1"]["details"]["breaker"] == "OPEN"
    assert agents["Agent-2"]["status"] == "UNKNOWN", "a dry run is unverified: neither success nor failure"
    assert report["score"] == 50 and report["headline"].startswith("1/2 reachable · Agent-1 breaker open")
    dispatcher.breakers.get("Agent-2").force_open()
    code, _, body = get(url + "/health")
    report = json.loads(body)
    assert code == 503 and report["status"] == "DOWN" and report["score"] == 0
    assert report["headline"].startswith("0/2 reachable · Agent-1 breaker open")
    assert report["headline"].endswith("Agent-2 forced open by you")
    _, _, metrics = get(url + "/metrics")
    assert b'quarterdeck_breaker_state{agent="Agent-1"} 1.0' in metrics
    assert b'quarterdeck_deliveries_total{agent="Agent-1",outcome="failed"} 2.0' in metrics

    worker.request_stop()
    assert worker.join(WAIT)
    assert worker.health().status == "DOWN"
    assert store.counts_by_state()["cancelled"] == 0


class Gate:
    """A transport that holds each delivery until the test opens the gate."""

    kind = "dryrun"

    def __init__(self) -> None:
        self.entered, self.release, self.sent = threading.Event(), threading.Event(), []

    def check(self):
        return None

    def deliver(self, request, stop):
        self.entered.set()
        assert self.release.wait(WAIT)
        self.sent.append(request.text)
        return Receipt(self.kind, SUBMITTED, "held then sent")


def test_stopping_the_worker_finishes_the_delivery_in_flight_and_cancels_nothing(store):
    gate = Gate()
    dispatcher = Dispatcher(store, roster_of("Agent-1"), config=FAST, stagger=0,
                            transport_factory=lambda agent: gate)
    worker = DeliveryWorker(dispatcher, idle_wait=0.05)
    first, second = enqueue(store, "Agent-1", "first"), enqueue(store, "Agent-1", "second")
    worker.start()
    assert gate.entered.wait(WAIT)
    worker.request_stop()
    assert worker.stopping and worker.alive
    gate.release.set()
    assert worker.join(WAIT)

    assert store.delivery(first).state == "delivered"
    assert store.delivery(second).state == "queued"
    assert len(gate.sent) == 1 and gate.sent[0].endswith("first")
    assert (worker.delivered, worker.failed) == (1, 0)


def test_worker_reports_stop_all_as_out_of_service(store):
    dispatcher = Dispatcher(store, roster_of("Agent-1"), config=FAST, stagger=0,
                            transport_factory=lambda agent: DryRunDelivery())
    worker = DeliveryWorker(dispatcher, idle_wait=0.05)
    worker.start()
    try:
        assert worker.health().status == "UP"
        dispatcher.stop_all()
        health = worker.health()
        assert health.status == "OUT_OF_SERVICE" and "stopped by the captain" in health.details["reason"]
    finally:
        worker.request_stop()
        assert worker.join(WAIT)
    with pytest.raises(RuntimeError):
        worker.start()


def test_worker_reports_a_gui_pause_as_degraded_with_its_reason(store):
    dispatcher = Dispatcher(store, roster_of("Agent-1"), config=FAST, stagger=0,
                            transport_factory=lambda agent: DryRunDelivery())
    worker = DeliveryWorker(dispatcher, idle_wait=0.05)
    worker.start()
    try:
        dispatcher.gui_paused = "Agent-2's input holds a draft"
        health = worker.health()
        assert health.status == "DEGRADED" and "Agent-2's input holds a draft" in health.details["reason"]
        dispatcher.resume()
        assert worker.health().status == "UP"
    finally:
        worker.request_stop()
        assert worker.join(WAIT)
