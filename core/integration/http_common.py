"""What the WSGI and ASGI middleware share: routes and their rules, canned responses, metrics.

Rules are keyed by ``"METHOD /path"`` or by ``"/path"`` (then they apply to POST, PUT and
PATCH). Paths match exactly. A request with rules gets its body read (at most
``max_body_bytes``, else 413), parsed as JSON (else 400; nested too deeply to follow: 400 with a
correlation id) and checked: a body that is not a JSON
object, or breaks the rules, is answered 422 with ``{"error": "validation failed",
"violations": [{"rule", "severity", "message", "field", "span"}, ...]}`` and never reaches the app.

An exception from the app becomes 500 with ``{"error": "internal server error",
"correlation_id": "<hex>"}`` (also in the ``X-Correlation-ID`` header). The exception's type,
message and traceback go to the log only, under the same id and passed through secret redaction.

Metrics: ``http_requests_total{route, method, status}`` and ``http_request_seconds{route}``. The
route label is a configured path (a rules path, one of ``routes``, ``/metrics`` or ``/health``)
or ``other``, and unusual methods count as ``OTHER``, so clients cannot grow the label sets.
"""
from __future__ import annotations

import json
import logging
import traceback
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from quarterdeck.core.integration.deadletter import DeadLetterStore
from quarterdeck.core.integration.defaults import default_breakers, default_monitor
from quarterdeck.core.integration.exporter import CoordinationMetricsExporter
from quarterdeck.core.integration.health import CoordinationHealthChecker
from quarterdeck.core.integration.rules import FieldRules
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.health import Status, http_status
from quarterdeck.core.resilience import BreakerRegistry
from quarterdeck.core.validation.model import Violation
from quarterdeck.core.validation.secrets import redact

__all__ = ["BODY_METHODS", "HttpCoordination", "Response"]

log = logging.getLogger("quarterdeck.core.integration.http")

BODY_METHODS = ("POST", "PUT", "PATCH")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def json(cls, status: int, data: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
        body = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
        return cls.raw(status, JSON_TYPE, body, headers)

    @classmethod
    def raw(cls, status: int, content_type: str, body: bytes,
            headers: Iterable[tuple[str, str]] = ()) -> Response:
        base = (("Content-Type", content_type), ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"))
        return cls(status, (*base, *headers), body)

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"


def _parse_key(key: str) -> tuple[tuple[str, ...], str]:
    method, _, path = key.strip().rpartition(" ")
    if not path.startswith("/"):
        raise ValueError(f"route {key!r}: give '/path' or 'METHOD /path'")
    return ((method.strip().upper(),) if method.strip() else BODY_METHODS), path


class HttpCoordination:
    """The settings and the request-independent logic of both middleware flavours."""

    def __init__(self, rules: Mapping[str, FieldRules | Mapping[str, Any]] | None = None, *,
                 routes: Iterable[str] = (), monitor: Monitor | None = None,
                 breakers: BreakerRegistry | None = None, dead_letters: DeadLetterStore | None = None,
                 health: CoordinationHealthChecker | None = None,
                 exporter: CoordinationMetricsExporter | None = None,
                 metrics_path: str | None = "/metrics", health_path: str | None = "/health",
                 max_body_bytes: int = 1 << 20) -> None:
        self.monitor = monitor if monitor is not None else default_monitor()
        breakers = breakers if breakers is not None else default_breakers()
        self.health = health or CoordinationHealthChecker(
            breakers=breakers, monitor=self.monitor, dead_letters=dead_letters)
        self.exporter = exporter or CoordinationMetricsExporter(self.monitor, breakers, dead_letters)
        self.metrics_path, self.health_path = metrics_path, health_path
        self.max_body_bytes = max_body_bytes
        self._rules: dict[tuple[str, str], FieldRules] = {}
        for key, spec in (rules or {}).items():
            methods, path = _parse_key(key)
            for method in methods:
                self._rules[(method, path)] = FieldRules.of(spec)
        self._routes = {path for _, path in self._rules} | set(routes)
        self._routes |= {p for p in (metrics_path, health_path) if p}
        self.requests = self.monitor.counter("http_requests", "HTTP requests by route, method and status.",
                                             ("route", "method", "status"))
        self.seconds = self.monitor.timer("http_request_seconds", "Time per HTTP request.", ("route",))

    # -- per request ---------------------------------------------------------------------------

    def route_of(self, path: str) -> str:
        return path if path in self._routes else "other"

    def rules_for(self, method: str, path: str) -> FieldRules | None:
        return self._rules.get((method.upper(), path))

    def builtin(self, method: str, path: str) -> Response | None:
        """The answer to ``GET /metrics`` and ``GET /health``, or None for the app."""
        if method != "GET" or path not in (self.metrics_path, self.health_path):
            return None
        if path == self.metrics_path:
            try:
                return Response.raw(200, self.exporter.content_type, self.exporter.export_bytes())
            except Exception as exc:
                return self.failure(exc, method, path)
        try:
            report = self.health.check_health()
            code = http_status(Status(report["status"]))
        except Exception as exc:
            correlation = self._log_failure(exc, method, path)
            return Response.json(503, {"status": str(Status.DOWN), "correlation_id": correlation})
        return Response.json(code, report)

    def too_large(self, size: int) -> Response | None:
        if size <= self.max_body_bytes:
            return None
        return Response.json(413, {"error": f"the request body is larger than {self.max_body_bytes} bytes"})

    def check_body(self, rules: FieldRules, body: bytes) -> Response | None:
        """None when the body may go to the app, else the 400 or 422 to answer with."""
        if not body.strip():
            data: Any = {}
        else:
            try:
                data = json.loads(body)
            except ValueError:
                return Response.json(400, {"error": "the request body is not valid JSON"})
            except RecursionError:
                return self.too_deep()
        if not isinstance(data, dict):
            violation = Violation("json_object", "error", "the request body must be a JSON object", "body")
            return Response.json(422, {"error": "validation failed", "violations": [violation.to_dict()]})
        try:
            violations = rules.check(data)
        except RecursionError:
            return self.too_deep()
        if violations:
            return Response.json(422, {"error": "validation failed",
                                       "violations": [v.to_dict() for v in violations]})
        return None

    def too_deep(self) -> Response:
        """400 for a body nested deeper than the parser (or a rule walking it) can follow, such as
        200,000 ``[``; the correlation id lets the client's report be matched with the log line."""
        correlation = uuid.uuid4().hex
        log.warning("a request body nested too deeply to check was refused [correlation_id=%s]", correlation)
        return Response.json(400, {"error": "the request body is nested too deeply to check",
                                   "correlation_id": correlation}, (("X-Correlation-ID", correlation),))

    def failure(self, exc: BaseException, method: str, path: str) -> Response:
        correlation = self._log_failure(exc, method, path)
        return Response.json(500, {"error": "internal server error", "correlation_id": correlation},
                             (("X-Correlation-ID", correlation),))

    def _log_failure(self, exc: BaseException, method: str, path: str) -> str:
        correlation = uuid.uuid4().hex
        detail = "".join(traceback.format_exception(exc))
        log.error("%s %s failed [correlation_id=%s]\n%s", method, path, correlation, redact(detail))
        return correlation

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "OTHER"
        self.requests.labels(route, method, str(status)).inc()
        self.seconds.labels(route).record(seconds)
