"""CoordinationMiddleware.wsgi behind a real wsgiref server on 127.0.0.1."""
from __future__ import annotations

import io
import json
import logging

import pytest
from integration_support import SECRET, request
from prometheus_client.parser import text_string_to_metric_families

from quarterdeck.core.integration import CoordinationMiddleware, DeadLetterStore, coordinate_operation
from quarterdeck.core.monitor.prometheus import CONTENT_TYPE

RULES = {"POST /users": {"required_fields": ["name", "email"], "max_length": {"name": 20},
                         "patterns": {"email": "@"}},
         "/notes": {"no_secrets": ["text"]}}


class App:
    """A small WSGI app that records what reached it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        self.seen.append((environ["REQUEST_METHOD"], path, body))
        if path == "/boom":
            raise RuntimeError(f"database password leaked: {SECRET}")
        if path == "/gen-boom":
            return self._fails_before_first_chunk(start_response)
        if path == "/late-boom":
            return self._fails_after_first_chunk(start_response)
        status = "201 Created" if environ["REQUEST_METHOD"] == "POST" else "200 OK"
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps({"path": path, "body": body.decode()}).encode()]

    @staticmethod
    def _fails_before_first_chunk(start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        raise KeyError(SECRET)
        yield b"never"  # pragma: no cover - makes this a generator

    @staticmethod
    def _fails_after_first_chunk(start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"partial "
        raise ValueError(SECRET)


@pytest.fixture
def served(wsgi_server, monitor, breakers):
    app = App()
    coordination = CoordinationMiddleware(RULES, routes=["/boom"], monitor=monitor,
                                          breakers=breakers, max_body_bytes=200)
    return app, wsgi_server(coordination.wsgi(app)), coordination


def test_a_valid_body_reaches_the_app_unchanged(served):
    app, url, _ = served
    body = {"name": "Ann", "email": "ann@example.com"}
    status, _, payload = request(url + "/users", body)
    assert status == 201
    assert json.loads(json.loads(payload)["body"]) == body
    assert app.seen == [("POST", "/users", json.dumps(body).encode())]


def test_a_body_breaking_the_rules_gets_422_with_the_violations(served):
    app, url, _ = served
    status, headers, payload = request(url + "/users", {"name": "x" * 25, "email": "nope"})
    assert status == 422 and headers["Content-Type"] == "application/json"
    answer = json.loads(payload)
    assert answer["error"] == "validation failed"
    assert [(v["field"], v["rule"], v["message"]) for v in answer["violations"]] == [
        ("name", "max_length", "name has 25 characters; at most 20 allowed"),
        ("email", "patterns", "email does not match /@/"),
    ]
    status, _, payload = request(url + "/users", {})
    assert [v["message"] for v in json.loads(payload)["violations"]] == [
        "name is missing", "email is missing"]
    assert app.seen == []


def test_path_only_rules_cover_post_put_and_patch_but_not_get(served):
    app, url, _ = served
    for method in ("POST", "PUT", "PATCH"):
        status, _, payload = request(url + "/notes", {"text": f"key {SECRET}"}, method=method)
        assert status == 422 and SECRET not in payload.decode()
    assert request(url + "/notes", method="GET")[0] == 200
    assert [seen[0] for seen in app.seen] == ["GET"]


@pytest.mark.parametrize("raw, status, fragment", [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 422, "must be a JSON object"),
    (b"{\"name\": \"" + b"x" * 300 + b"\"}", 413, "larger than 200 bytes"),
])
def test_unusable_bodies_are_refused(served, raw, status, fragment):
    app, url, _ = served
    code, _, payload = request(url + "/users", raw=raw, method="POST")
    assert code == status and fragment in payload.decode()
    assert app.seen == []


@pytest.mark.parametrize("path", ["/boom", "/gen-boom"])
def test_an_app_error_becomes_500_with_a_correlation_id_and_no_internals(served, caplog, path):
    _, url, _ = served
    with caplog.at_level(logging.ERROR, logger="quarterdeck.core.integration.http"):
        status, headers, payload = request(url + path)
    assert status == 500
    answer = json.loads(payload)
    assert set(answer) == {"error", "correlation_id"} and answer["error"] == "internal server error"
    assert headers["X-Correlation-ID"] == answer["correlation_id"]
    assert SECRET not in payload.decode() and "Traceback" not in payload.decode()
    assert answer["correlation_id"] in caplog.text and "Traceback" in caplog.text
    assert SECRET not in caplog.text and "[REDACTED:github_token]" in caplog.text


def test_a_failure_after_the_first_chunk_ends_the_response_and_is_logged(served, caplog):
    _, url, _ = served
    with caplog.at_level(logging.ERROR, logger="quarterdeck.core.integration.http"):
        status, _, payload = request(url + "/late-boom")
    assert status == 200 and payload == b"partial "
    assert "GET /late-boom failed [correlation_id=" in caplog.text and SECRET not in caplog.text


def test_metrics_count_requests_per_route_and_status(served, monitor, breakers):
    _, url, _ = served
    request(url + "/users", {"name": "Ann", "email": "a@b"})
    request(url + "/users", {})
    request(url + "/boom")
    request(url + "/somewhere/42")

    @coordinate_operation(operation_name="sync_users", monitor=monitor, breakers=breakers)
    def sync_users():
        return 1

    sync_users()
    status, headers, payload = request(url + "/metrics")
    assert status == 200 and headers["Content-Type"] == CONTENT_TYPE
    families = {f.name: f for f in text_string_to_metric_families(payload.decode())}
    counts = {(s.labels["route"], s.labels["method"], s.labels["status"]): s.value
              for s in families["quarterdeck_http_requests"].samples if s.name.endswith("_total")}
    assert counts == {("/users", "POST", "201"): 1, ("/users", "POST", "422"): 1,
                      ("/boom", "GET", "500"): 1, ("other", "GET", "200"): 1}
    assert "quarterdeck_operation_breaker_state" in families
    timer = {s.labels["route"]: s.value for s in families["quarterdeck_http_request_seconds"].samples
             if s.name.endswith("_count")}
    assert timer["/users"] == 2


def test_health_reports_the_operations_and_answers_503_when_one_is_down(served, monitor, breakers):
    _, url, _ = served
    status, _, payload = request(url + "/health")
    assert status == 200 and json.loads(payload)["status"] == "UNKNOWN"

    @coordinate_operation(operation_name="charge", monitor=monitor, breakers=breakers,
                          error_config={"max_retries": 0})
    def charge():
        raise ConnectionError("payment provider down")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            charge()
    status, _, payload = request(url + "/health")
    health = json.loads(payload)
    assert status == 503 and health["status"] == "DOWN" and "timestamp" in health
    charge_health = health["components"]["operations"]["components"]["charge"]
    assert charge_health["details"]["breaker"] == "OPEN"
    assert charge_health["details"]["last_error"]["error"] == "ConnectionError: payment provider down"


def test_a_failing_health_check_is_503_without_details(wsgi_server, monitor, breakers, caplog):
    class Broken:
        def check_health(self):
            raise RuntimeError(SECRET)

    coordination = CoordinationMiddleware(monitor=monitor, breakers=breakers, health=Broken())
    url = wsgi_server(coordination.wsgi(App()))
    with caplog.at_level(logging.ERROR, logger="quarterdeck.core.integration.http"):
        status, _, payload = request(url + "/health")
    assert status == 503 and SECRET not in payload.decode()
    assert json.loads(payload)["correlation_id"] in caplog.text


def test_a_failing_metrics_export_is_a_500_with_a_correlation_id(wsgi_server, monitor, breakers,
                                                                   tmp_path, caplog):
    store = DeadLetterStore(tmp_path / "d.sqlite3")
    store.close()  # a scrape now fails inside the exporter
    coordination = CoordinationMiddleware(monitor=monitor, breakers=breakers, dead_letters=store)
    url = wsgi_server(coordination.wsgi(App()))
    with caplog.at_level(logging.ERROR, logger="quarterdeck.core.integration.http"):
        status, _, payload = request(url + "/metrics")
    assert status == 500 and json.loads(payload)["correlation_id"] in caplog.text


def test_bad_route_keys_are_refused(monitor):
    with pytest.raises(ValueError, match="METHOD /path"):
        CoordinationMiddleware({"POST users": {}}, monitor=monitor)


def direct(app, method="POST", path="/users", body=b"", length=None):
    """Call a WSGI app the way a server does; returns (status line, headers, body)."""
    started = []
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(body),
               "CONTENT_LENGTH": str(len(body)) if length is None else length}
    chunks = app(environ, lambda status, headers, exc_info=None: started.append((status, headers)))
    payload = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return started[-1][0], dict(started[-1][1]), payload


@pytest.mark.parametrize("length, fragment", [("ten", "not a number"), ("-5", "negative")])
def test_a_broken_content_length_is_400(monitor, breakers, length, fragment):
    app = App()
    wrapped = CoordinationMiddleware(RULES, monitor=monitor, breakers=breakers).wsgi(app)
    status, _, payload = direct(wrapped, length=length)
    assert status == "400 Bad Request" and fragment in payload.decode() and app.seen == []


def test_an_empty_body_counts_as_an_empty_object_and_empty_responses_pass(served, monitor, breakers):
    _app, url, _ = served
    status, _, payload = request(url + "/users", raw=b"", method="POST")
    assert status == 422 and "name is missing" in payload.decode()

    def no_content(environ, start_response):
        start_response("204 No Content", [])
        return []

    wrapped = CoordinationMiddleware(monitor=monitor, breakers=breakers).wsgi(no_content)
    assert direct(wrapped, method="DELETE", path="/users/1") == ("204 No Content", {}, b"")
    requests = monitor.counter("http_requests", labelnames=("route", "method", "status"))
    assert requests.labels("other", "DELETE", "204").value == 1
