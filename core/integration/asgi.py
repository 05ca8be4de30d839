"""The ASGI flavour of the middleware (see ``http_common`` for what it does).

Only ``http`` scopes are coordinated; ``lifespan`` and ``websocket`` pass straight through. A
body that must be checked is read in full first (at most ``max_body_bytes``) and then handed to
the app as one ``http.request`` message, as if the client had sent it that way.

An app that raises before starting its response gets a clean 500 in its place. Once the
response has started the status cannot change: the failure is logged under a correlation id
and the response is ended with an empty final chunk, so the client is not left waiting.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from quarterdeck.core.integration.http_common import HttpCoordination, Response

__all__ = ["CoordinationASGIMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def send_response(send: Send, response: Response) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


class _Disconnected(Exception):
    """The client went away while its body was read."""


class CoordinationASGIMiddleware:
    def __init__(self, app: ASGIApp, coordination: HttpCoordination) -> None:
        self.app = app
        self.coordination = coordination

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        method = str(scope.get("method", "GET")).upper()
        path = scope.get("path") or "/"
        coord = self.coordination
        route = coord.route_of(path)
        status = [500]

        async def answer(response: Response) -> None:
            status[0] = response.status
            await send_response(send, response)

        try:
            early = coord.builtin(method, path)
            rules = coord.rules_for(method, path) if early is None else None
            if rules is not None:
                try:
                    body, early = await self._read_body(receive)
                except _Disconnected:
                    status[0] = 499  # the nginx convention for "client closed the request"
                    return
                if early is None:
                    early = coord.check_body(rules, body)
                receive = _replay(body, receive)
            if early is not None:
                await answer(early)
                return
            await self._run_app(scope, receive, send, status, method, path)
        finally:
            coord.record(route, method, status[0], time.monotonic() - started)

    async def _run_app(self, scope: Scope, receive: Receive, send: Send, status: list[int],
                       method: str, path: str) -> None:
        progress = {"started": False, "finished": False}

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                progress["started"] = True
                status[0] = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                progress["finished"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            response = self.coordination.failure(exc, method, path)
            if not progress["started"]:
                status[0] = response.status
                await send_response(send, response)
            elif not progress["finished"]:
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _read_body(self, receive: Receive) -> tuple[bytes, Response | None]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            refused = self.coordination.too_large(size)
            if refused is not None:
                return b"", refused
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that first yields the body already read, then defers to the real one."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed
