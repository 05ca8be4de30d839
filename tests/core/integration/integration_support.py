"""Helpers for the integration API's tests: a flaky callable, a urllib client, a tiny ASGI server.

``AsgiTestServer`` is a deliberately small HTTP/1.1 server over asyncio streams (one request per
connection, the body handed to the app in 16-byte ``http.request`` messages so the middleware's
reassembly is exercised), so ASGI apps are tested over real sockets like the WSGI ones.
"""
from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from http import HTTPStatus
from wsgiref.simple_server import WSGIRequestHandler

WAIT = 30.0
SECRET = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"


class Flaky:
    """Fails ``failures`` times with ``error``, then returns ``value``; counts every call."""

    def __init__(self, failures: int, error: type[Exception] = ConnectionError, value: object = "done"):
        self.failures, self.error, self.value = failures, error, value
        self.calls: list[tuple] = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        if len(self.calls) <= self.failures:
            raise self.error(f"attempt {len(self.calls)} failed")
        return self.value


def request(url: str, body: object = None, *, method: str | None = None,
            raw: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=WAIT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class AsgiTestServer:
    CHUNK = 16

    def __init__(self, app) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    def start(self) -> str:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0), self.loop).result(WAIT)
        self.port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        async def close() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(WAIT)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *lines = head.rstrip("\r\n").split("\r\n")
            method, target, _version = request_line.split(" ")
            headers = [(name.strip().lower().encode("latin-1"), value.strip().encode("latin-1"))
                       for name, value in (line.split(":", 1) for line in lines if line)]
            length = int(dict(headers).get(b"content-length", b"0"))
            body = await reader.readexactly(length) if length else b""
            path, _, query = target.partition("?")
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                     "method": method, "scheme": "http", "path": path,
                     "raw_path": path.encode("latin-1"), "query_string": query.encode("latin-1"),
                     "root_path": "", "headers": headers,
                     "client": writer.get_extra_info("peername")[:2],
                     "server": ("127.0.0.1", self.port)}
            parts = [body[i:i + self.CHUNK] for i in range(0, len(body), self.CHUNK)] or [b""]
            done = asyncio.Event()

            async def receive() -> dict:
                if parts:
                    chunk = parts.pop(0)
                    return {"type": "http.request", "body": chunk, "more_body": bool(parts)}
                await done.wait()
                return {"type": "http.disconnect"}

            status, out_headers, chunks = [500], [], []

            async def send(message: dict) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                    out_headers.extend(message.get("headers", []))
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))

            await self.app(scope, receive, send)
            done.set()
            payload = b"".join(chunks)
            lines_out = [f"HTTP/1.1 {status[0]} {HTTPStatus(status[0]).phrase}".encode("latin-1")]
            names = {name.lower() for name, _ in out_headers}
            lines_out += [name + b": " + value for name, value in out_headers]
            if b"content-length" not in names:
                lines_out.append(b"content-length: " + str(len(payload)).encode())
            lines_out.append(b"connection: close")
            writer.write(b"\r\n".join(lines_out) + b"\r\n\r\n" + payload)
            await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()
