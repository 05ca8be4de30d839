"""CoordinationMiddleware.asgi over real HTTP/1.1 (integration_support.AsgiTestServer), plus the
ASGI-only cases (lifespan, a client leaving mid-body) driven through scope/receive/send."""
from __future__ import annotations

import asyncio
import json
import logging

import pytest
from integration_support import SECRET, request
from prometheus_client.parser import text_string_to_metric_families

from quarterdeck.core.integration import CoordinationMiddleware
from quarterdeck.core.monitor.prometheus import CONTENT_TYPE

RULES = {"POST /users": {"required_fields": ["name", "email"], "field_types": {"age": "integer"}}}


class App:
    """A small ASGI app that records the bodies that reached it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes]] = []
        self.lifespan: list[str] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            message = await receive()
            self.lifespan.append(message["type"])
            await send({"type": "lifespan.startup.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.seen.append((scope["path"], body))
        if scope["path"] == "/boom":
            raise RuntimeError(f"cannot reach the vault with {SECRET}")
        await send({"type": "http.response.start", "status": 201 if body else 200,
                    "headers": [(b"content-type", b"application/json")]})
        if scope["path"] == "/late-boom":
            await send({"type": "http.response.body", "body": b"partial ", "more_body": True})
            raise ValueError(SECRET)
        await send({"type": "http.response.body", "body": json.dumps({"got": body.decode()}).encode()})


@pytest.fixture
def served(asgi_server, monitor, breakers):
    app = App()
    coordination = CoordinationMiddleware(RULES, monitor=monitor, breakers=breakers, max_body_bytes=100)
    return app, asgi_server(coordination.asgi(app))


def test_a_valid_body_arrives_whole_although_sent_in_pieces(served):
    app, url = served
    body = {"name": "Ann Example", "email": "ann@example.com", "age": 40}
    status, _, payload = request(url + "/users", body)
    assert status == 201
    assert json.loads(json.loads(payload)["got"]) == body
    assert app.seen == [("/users", json.dumps(body).encode())]


def test_a_body_breaking_the_rules_gets_422_and_never_reaches_the_app(served):
    app, url = served
    status, headers, payload = request(url + "/users", {"name": "Ann", "age": "forty"})
    assert status == 422 and headers["content-type"] == "application/json"
    assert [(v["field"], v["message"]) for v in json.loads(payload)["violations"]] == [
        ("email", "email is missing"), ("age", "age must be int, not str")]
    assert request(url + "/users", raw=b"{oops", method="POST")[0] == 400
    assert request(url + "/users", raw=b"{\"name\": \"" + b"x" * 120 + b"\"}", method="POST")[0] == 413
    assert app.seen == []


def test_an_app_error_becomes_500_with_a_correlation_id(served, caplog):
    _, url = served
    with caplog.at_level(logging.ERROR, logger="quarterdeck.core.integration.http"):
        status, headers, payload = request(url + "/boom")
    answer = json.loads(payload)
    assert status == 500 and set(answer) == {"error", "correlation_id"}
    assert headers["x-correlation-id"] == answer["correlation_id"]
    assert SECRET not in payload.decode()
    assert answer["correlation_id"] in caplog.text and SECRET not in caplog.text


def test_a_failure_after_the_response_started_ends_it_cleanly(served, caplog):
    _, url = served
    with caplog.at_level(logging.ERROR, logger="quarterdeck.core.integration.http"):
        status, _, payload = request(url + "/late-boom")
    assert status == 200 and payload == b"partial "
    assert "GET /late-boom failed" in caplog.text and SECRET not in caplog.text


def test_metrics_and_health_routes(served, monitor):
    _, url = served
    request(url + "/users", {"name": "a", "email": "b"})
    request(url + "/boom")
    status, headers, payload = request(url + "/metrics")
    assert status == 200 and headers["content-type"] == CONTENT_TYPE
    families = {f.name: f for f in text_string_to_metric_families(payload.decode())}
    counts = {(s.labels["route"], s.labels["status"]): s.value
              for s in families["quarterdeck_http_requests"].samples if s.name.endswith("_total")}
    assert counts == {("/users", "201"): 1, ("other", "500"): 1}
    status, _, payload = request(url + "/health")
    assert status == 200 and set(json.loads(payload)) == {"status", "overall_status", "timestamp", "components"}


# -- driven directly: what a socket cannot easily show ------------------------------------------

def call(app, scope, messages):
    sent = []
    queue = list(messages)

    async def receive():
        return queue.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_lifespan_passes_through(monitor, breakers):
    app = App()
    wrapped = CoordinationMiddleware(monitor=monitor, breakers=breakers).asgi(app)
    sent = call(wrapped, {"type": "lifespan"}, [{"type": "lifespan.startup"}])
    assert sent == [{"type": "lifespan.startup.complete"}] and app.lifespan == ["lifespan.startup"]


def test_a_client_leaving_mid_body_reaches_nothing(monitor, breakers):
    app = App()
    wrapped = CoordinationMiddleware(RULES, monitor=monitor, breakers=breakers).asgi(app)
    scope = {"type": "http", "method": "POST", "path": "/users", "headers": []}
    sent = call(wrapped, scope, [{"type": "http.request", "body": b"{\"na", "more_body": True},
                                 {"type": "http.disconnect"}])
    assert sent == [] and app.seen == []
    requests = monitor.counter("http_requests", labelnames=("route", "method", "status"))
    assert requests.labels("/users", "POST", "499").value == 1


def test_an_app_may_keep_receiving_after_the_checked_body(monitor, breakers):
    messages = []

    async def reads_twice(scope, receive, send):
        messages.extend([await receive(), await receive()])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    wrapped = CoordinationMiddleware(RULES, monitor=monitor, breakers=breakers).asgi(reads_twice)
    scope = {"type": "http", "method": "POST", "path": "/users", "headers": []}
    body = b'{"name": "a", "email": "b"}'
    sent = call(wrapped, scope, [{"type": "http.request", "body": body[:5], "more_body": True},
                                 {"type": "http.request", "body": body[5:]},
                                 {"type": "http.disconnect"}])
    assert messages == [{"type": "http.request", "body": body, "more_body": False},
                        {"type": "http.disconnect"}]
    assert sent[0]["status"] == 200


def test_a_failure_after_a_finished_response_sends_nothing_more(monitor, breakers, caplog):
    async def fails_late(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"all of it"})
        raise RuntimeError("cleanup failed")

    wrapped = CoordinationMiddleware(monitor=monitor, breakers=breakers).asgi(fails_late)
    with caplog.at_level(logging.ERROR, logger="quarterdeck.core.integration.http"):
        sent = call(wrapped, {"type": "http", "method": "GET", "path": "/x", "headers": []}, [])
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert "cleanup failed" in caplog.text
