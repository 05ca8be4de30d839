"""The WSGI flavour of the middleware (see ``http_common`` for what it does).

The response is streamed, not buffered. To still turn an app's failure into a clean 500, the
first body chunk is fetched before anything is returned to the server: an app that raises while
called, or while producing its first chunk, has sent no byte yet, so ``start_response`` may be
called again with the 500 (PEP 3333 allows that with ``exc_info``). A failure after the first
chunk cannot change the status any more: it is logged under a correlation id and the response
ends there. Metrics are recorded when the server closes the response.
"""
from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from quarterdeck.core.integration.http_common import HttpCoordination, Response

__all__ = ["CoordinationWSGIMiddleware", "WSGIApp"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_END = object()


class CoordinationWSGIMiddleware:
    def __init__(self, app: WSGIApp, coordination: HttpCoordination) -> None:
        self.app = app
        self.coordination = coordination

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = environ.get("PATH_INFO") or "/"
        coord = self.coordination
        route = coord.route_of(path)

        def answer(response: Response, exc_info: Any = None) -> list[bytes]:
            start_response(response.status_line, list(response.headers), exc_info)
            coord.record(route, method, response.status, time.monotonic() - started)
            return [response.body]

        early = coord.builtin(method, path)
        rules = coord.rules_for(method, path) if early is None else None
        if rules is not None:
            early = self._take_body(environ)
            if early is None:
                early = coord.check_body(rules, environ["wsgi.input"].getvalue())
        if early is not None:
            return answer(early)

        status = [500]

        def capture(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = int(status_line.split(" ", 1)[0])
            return start_response(status_line, headers, exc_info)

        result: Any = None
        try:
            result = self.app(environ, capture)
            chunks = iter(result)
            first = next(chunks, _END)
        except Exception as exc:
            _close(result)
            return answer(coord.failure(exc, method, path), sys.exc_info())
        return self._stream(result, chunks, first, status, route, method, path, started)

    def _take_body(self, environ: dict[str, Any]) -> Response | None:
        """Read the body into memory (replacing ``wsgi.input``); a 4xx when it cannot be taken."""
        raw = environ.get("CONTENT_LENGTH") or "0"
        try:
            size = int(raw)
        except ValueError:
            return Response.json(400, {"error": "Content-Length is not a number"})
        if size < 0:
            return Response.json(400, {"error": "Content-Length is negative"})
        refused = self.coordination.too_large(size)
        if refused is not None:
            return refused
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return None

    def _stream(self, result: Any, chunks: Iterator[bytes], first: Any, status: list[int],
                route: str, method: str, path: str, started: float) -> Iterator[bytes]:
        try:
            if first is _END:
                return
            yield first
            yield from chunks
        except Exception as exc:
            self.coordination.failure(exc, method, path)  # logged; the status is already sent
        finally:
            _close(result)
            self.coordination.record(route, method, status[0], time.monotonic() - started)


def _close(result: Any) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()
