"""A request body of 200,000 nested ``[`` is refused with 400 and a correlation id, over real HTTP:
WSGI behind the standard library's wsgiref, ASGI behind the suite's asyncio HTTP/1.1 server. Before,
the parser's RecursionError escaped the middleware and the server answered its own bare 500."""
from __future__ import annotations

import json
import logging

import pytest
from integration_support import request

from quarterdeck.core.integration import CoordinationMiddleware

RULES = {"POST /users": {"required_fields": ["name"]}}
DEEP = b"[" * 200_000
DEEP_OBJECT = b'{"name": "Ann", "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"


def wsgi_app(environ, start_response):
    start_response("201 Created", [("Content-Type", "application/json")])
    return [b'{"ok": true}']


async def asgi_app(scope, receive, send):
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok": true}'})


def _assert_refused(url: str, body: bytes, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="quarterdeck.core.integration.http"):
        status, headers, payload = request(url + "/users", raw=body)
    assert status == 400
    data = json.loads(payload)
    assert data["error"] == "the request body is nested too deeply to check"
    headers = {name.lower(): value for name, value in headers.items()}
    assert len(data["correlation_id"]) == 32 and headers["x-correlation-id"] == data["correlation_id"]
    assert data["correlation_id"] in caplog.text


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["open-brackets", "deep-inside-an-object"])
def test_wsgi_answers_400_with_a_correlation_id(wsgi_server, monitor, breakers, body, caplog):
    coordination = CoordinationMiddleware(RULES, monitor=monitor, breakers=breakers)
    url = wsgi_server(coordination.wsgi(wsgi_app))
    _assert_refused(url, body, caplog)
    status, _, _ = request(url + "/users", {"name": "Ann"})  # the server is still serving
    assert status == 201
    assert coordination.requests.labels("/users", "POST", "400").value >= 1


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["open-brackets", "deep-inside-an-object"])
def test_asgi_answers_400_with_a_correlation_id(asgi_server, monitor, breakers, body, caplog):
    coordination = CoordinationMiddleware(RULES, monitor=monitor, breakers=breakers)
    url = asgi_server(coordination.asgi(asgi_app))
    _assert_refused(url, body, caplog)
    status, _, _ = request(url + "/users", {"name": "Ann"})
    assert status == 201
