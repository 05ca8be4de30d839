"""Fixtures for the integration API: private monitors and breakers, and real HTTP servers.

WSGI apps are served by the standard library's ``wsgiref`` on 127.0.0.1, ASGI apps by
``integration_support.AsgiTestServer``; both are reached with ``urllib`` over real sockets.
"""
from __future__ import annotations

import threading
from wsgiref.simple_server import make_server

import pytest
from integration_support import WAIT, AsgiTestServer, QuietHandler

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.resilience import BreakerConfig, BreakerRegistry


@pytest.fixture
def monitor() -> Monitor:
    return Monitor()


@pytest.fixture
def breakers() -> BreakerRegistry:
    """Opens an operation's breaker after 2 failed calls in a row, for a minute."""
    return BreakerRegistry(BreakerConfig.from_threshold(2, wait_duration=60.0))


@pytest.fixture
def wsgi_server():
    """``start(app) -> base URL``; every server started is stopped afterwards."""
    running = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(WAIT)


@pytest.fixture
def asgi_server():
    """``start(app) -> base URL`` over ``AsgiTestServer``; stopped afterwards."""
    running: list[AsgiTestServer] = []

    def start(app) -> str:
        server = AsgiTestServer(app)
        running.append(server)
        return server.start()

    yield start
    for server in running:
        server.stop()
