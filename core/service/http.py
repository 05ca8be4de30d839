"""The monitoring endpoints over HTTP, on the loopback interface only.

- ``GET /metrics``: the Prometheus text exposition of the monitor and breakers, served as
  ``CONTENT_TYPE`` (text format 0.0.4);
- ``GET /health``: the health tree as JSON; HTTP 503 when its status is DOWN or OUT_OF_SERVICE,
  200 otherwise. A health function that raises gives 503 with the error;
- ``GET /livez``: 200 while the process serves requests; it checks nothing else, so a failing
  agent never gets the process restarted.

Anything else is 404. Hosts other than ``localhost``, 127.0.0.0/8 and ``::1`` are refused: the
endpoints have no authentication and the health details name agents and errors.

Listening on loopback is not enough against a web page: through DNS rebinding a page on
``evil.example`` can make the browser send ``Host: evil.example`` to 127.0.0.1 and read the
answer. So a request must name the server as ``localhost`` or the address it listens on (any
port, for tunnels); anything else is answered 421 with no data. A client has
``REQUEST_DEADLINE`` seconds to send its request and read the answer, whole: a slow or partial
request is cut off then, so idle connections cannot pile up. A client that hangs up is a debug
log line, never a traceback. The ``Server`` header names Quarterdeck only (no Python version), and
exception texts in answers pass through secret redaction.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.health import Status, http_status
from quarterdeck.core.monitor.prometheus import CONTENT_TYPE, make_registry
from quarterdeck.core.resilience.breaker import CircuitBreaker
from quarterdeck.core.validation.secrets import redact

__all__ = ["NotLoopback", "loopback_host", "serve_http", "server_url", "stop_http"]

log = logging.getLogger(__name__)

HealthFn = Callable[[], dict[str, Any]]
REQUEST_DEADLINE = 5.0  # seconds a client has for its whole request and the answer (loopback: plenty)


class NotLoopback(ValueError):
    """The requested host is not a loopback address."""


def loopback_host(host: str) -> str:
    """The address to bind for ``host``, or ``NotLoopback`` when it is not a loopback one."""
    if host.strip().lower() == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        raise NotLoopback(f"{host!r} is not a loopback address; serve on localhost, 127.0.0.1 or "
                          "::1 (the endpoints have no authentication)") from None
    if not address.is_loopback:
        raise NotLoopback(f"{host} is not a loopback address; serve on localhost, 127.0.0.1 or "
                          "::1 (the endpoints have no authentication)")
    return str(address)


def _split_host(header: str) -> tuple[str, str]:
    """``("localhost", "9464")`` from ``localhost:9464``, ``("::1", "")`` from ``[::1]``."""
    value = header.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name, rest.removeprefix(":") if rest.startswith(":") else rest
    name, _, port = value.partition(":")
    return name, port


def _redacted(value: Any) -> Any:
    """``value`` (a health tree) with every string passed through secret redaction."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(item) for item in value]
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily, registry: CollectorRegistry,
                 health_fn: HealthFn, request_deadline: float = REQUEST_DEADLINE) -> None:
        self.address_family = family
        self.registry = registry
        self.health_fn = health_fn
        self.request_deadline = request_deadline
        super().__init__(address, _Handler)
        self.host_names = frozenset({"localhost", "localhost.", str(self.server_address[0])})

    def server_bind(self) -> None:
        # Skip HTTPServer's reverse DNS lookup of the bound address.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or times out is routine: a debug line, not a traceback on stderr."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log.debug("client %s went away: %s", client_address[0], exc)
        else:
            log.error("serving %s failed: %s", client_address[0],
                      redact(f"{type(exc).__name__}: {exc}"), exc_info=exc)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "Quarterdeck"

    def setup(self) -> None:
        # each read and write; the timer bounds the total. typeshed calls ``timeout`` a ClassVar,
        # but StreamRequestHandler.setup reads it from the instance, which is what is set here
        self.timeout = self.server.request_deadline  # type: ignore[misc]
        super().setup()
        self.expired = False
        self.deadline = threading.Timer(self.server.request_deadline, self._expire)
        self.deadline.daemon = True
        self.deadline.start()

    def _expire(self) -> None:
        self.expired = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed

    def finish(self) -> None:
        self.deadline.cancel()
        super().finish()

    def version_string(self) -> str:
        return self.server_version  # never the Python version

    def _host_allowed(self) -> bool:
        hosts = self.headers.get_all("Host") or []
        if not hosts:
            return self.request_version == "HTTP/1.0"  # a browser always sends one
        name, port = _split_host(hosts[0])
        return len(hosts) == 1 and name in self.server.host_names and (not port or port.isdigit())

    def do_GET(self) -> None:
        if self.expired:
            self.close_connection = True
            return
        if not self._host_allowed():
            names = " or ".join(sorted(n for n in self.server.host_names if not n.endswith(".")))
            self._send(421, "text/plain; charset=utf-8",
                       f"misdirected request: address this server as {names}\n".encode())
            return
        path = urlsplit(self.path).path
        if path == "/metrics":
            self._metrics()
        elif path == "/health":
            self._health()
        elif path == "/livez":
            self._send(200, "text/plain; charset=utf-8", b"ok\n")
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics, /health or /livez\n")

    def _metrics(self) -> None:
        try:
            body = generate_latest(self.server.registry)
        except Exception as exc:
            log.exception("/metrics failed")
            text = redact(f"metrics failed: {type(exc).__name__}: {exc}")
            self._send(500, "text/plain; charset=utf-8", f"{text}\n".encode())
            return
        self._send(200, CONTENT_TYPE, body)

    def _health(self) -> None:
        try:
            result = self.server.health_fn()
            code = http_status(Status(result["status"]))
        except Exception as exc:
            log.exception("/health failed")
            result = {"status": str(Status.DOWN), "error": f"{type(exc).__name__}: {exc}"}
            code = 503
        body = json.dumps(_redacted(result), default=str, ensure_ascii=False).encode("utf-8") + b"\n"
        self._send(code, "application/json; charset=utf-8", body)

    def _send(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


def serve_http(monitor: Monitor, breakers: Iterable[CircuitBreaker] | None, health_fn: HealthFn,
               host: str = "127.0.0.1", port: int = 9464, *, poll_interval: float = 0.5,
               request_deadline: float = REQUEST_DEADLINE, extra: Iterable[Collector] = ()
               ) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Start serving the endpoints on a daemon thread; returns the server and that thread.

    ``breakers`` is iterated at every scrape, so a ``BreakerRegistry`` shows agents added later.
    ``port`` 0 picks a free port (read it from ``server.server_address[1]``). Raises
    ``NotLoopback`` for other hosts and ``OSError`` when the address cannot be bound.
    ``poll_interval`` bounds how long ``stop_http`` waits for the serving loop to notice;
    ``request_deadline`` how long one client may take over its request and the answer;
    ``extra`` collectors join the monitor's on ``/metrics`` (the agents' activity).
    """
    address = loopback_host(host)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    server = _Server((address, port), family, make_registry(monitor, breakers, extra), health_fn, request_deadline)
    thread = threading.Thread(target=server.serve_forever, args=(poll_interval,),
                              name="quarterdeck-http", daemon=True)
    thread.start()
    return server, thread


def server_url(server: ThreadingHTTPServer) -> str:
    """``http://host:port`` of a running server (IPv6 hosts in brackets)."""
    host, port = server.server_address[:2]
    host = str(host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def stop_http(server: ThreadingHTTPServer, thread: threading.Thread, timeout: float = 5.0) -> None:
    """Stop serving, close the listening socket and wait for the serving thread."""
    server.shutdown()
    server.server_close()
    thread.join(timeout)
