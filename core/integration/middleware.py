"""``CoordinationMiddleware``: one set of HTTP settings, two entry points (WSGI and ASGI).

    coordination = CoordinationMiddleware(rules={"POST /users": {"required_fields": ["name"]}})
    wsgi_app = coordination.wsgi(wsgi_app)      # Flask, Django, Bottle, wsgiref, ...
    asgi_app = coordination.asgi(asgi_app)      # Starlette, FastAPI, Quart, ...

Both entry points share the rules, the metrics and the ``/metrics`` and ``/health`` routes; see
``quarterdeck.core.integration.http_common`` for what they do to a request. They are two objects rather than
one callable that guesses, because ASGI servers tell the interfaces apart by whether ``__call__``
is a coroutine function.
"""
from __future__ import annotations

from quarterdeck.core.integration.asgi import ASGIApp, CoordinationASGIMiddleware
from quarterdeck.core.integration.http_common import HttpCoordination
from quarterdeck.core.integration.wsgi import CoordinationWSGIMiddleware, WSGIApp

__all__ = ["CoordinationMiddleware"]


class CoordinationMiddleware(HttpCoordination):
    def wsgi(self, app: WSGIApp) -> CoordinationWSGIMiddleware:
        """``app`` (a WSGI callable) behind this coordination."""
        return CoordinationWSGIMiddleware(app, self)

    def asgi(self, app: ASGIApp) -> CoordinationASGIMiddleware:
        """``app`` (an ASGI 3 callable) behind this coordination."""
        return CoordinationASGIMiddleware(app, self)
