"""`quarterdeck serve` against hostile or careless clients, over raw sockets to a real subprocess:
a Host header naming another site (DNS rebinding), slow and partial requests, clients that hang
up; and, in process, exception texts with a credential in /health and /metrics answers."""
from __future__ import annotations

import json
import random
import signal
import socket
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.service.http import REQUEST_DEADLINE, serve_http, stop_http

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0
TOKEN = "ghp_" + "".join(random.Random(7).choice(string.ascii_letters + string.digits) for _ in range(36))


@pytest.fixture
def serve(tmp_path):
    """A real ``quarterdeck serve`` on a free port: yields (port, process); its stderr is checked after."""
    roster = tmp_path / "agents.yaml"
    roster.write_text(f"agents:\n  - {{id: Good, transport: inbox, path: {tmp_path / 'good'}}}\n", encoding="utf-8")
    stderr = (tmp_path / "stderr.txt").open("w+", encoding="utf-8")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("quarterdeck")), "serve", "--port", "0",
         "--data-dir", str(tmp_path / "data"), "--roster", str(roster)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("serving http://127.0.0.1:"), first
        yield int(first.split()[1].removesuffix("/metrics").rsplit(":", 1)[1]), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
        stderr.seek(0)
        printed = stderr.read()
        stderr.close()
    assert "Traceback" not in printed and "Exception" not in printed, printed


def exchange(port: int, raw: bytes) -> bytes:
    """Send ``raw`` as it is and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def get(port: int, host: str | None, path: str = "/health", version: str = "HTTP/1.1") -> tuple[int, dict, bytes]:
    lines = [f"GET {path} {version}"] + ([f"Host: {host}"] if host is not None else []) + ["", ""]
    head, _, body = exchange(port, "\r\n".join(lines).encode()).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


def test_only_requests_addressed_to_the_loopback_server_are_answered(serve):
    port, _ = serve
    for host in ("localhost", f"localhost:{port}", f"127.0.0.1:{port}", "127.0.0.1", "LOCALHOST:1234"):
        code, headers, body = get(port, host)
        assert code == 200 and json.loads(body)["status"], host
        assert headers["Server"] == "Quarterdeck"  # no Python version
    for host in (f"evil.example:{port}", "evil.example", "127.0.0.2", "localhost.evil.example",
                 "[::1]", f"localhost:{port}x", ""):
        for path in ("/health", "/metrics"):
            code, headers, body = get(port, host, path)
            assert code == 421, (host, path)
            assert b"status" not in body and b"quarterdeck_" not in body
            assert headers["Server"] == "Quarterdeck"
    assert get(port, None)[0] == 421  # HTTP/1.1 without Host: no browser sends that, refuse anyway
    assert get(port, None, version="HTTP/1.0")[0] == 200  # old command-line clients
    twice = exchange(port, f"GET /metrics HTTP/1.1\r\nHost: localhost\r\nHost: evil.example:{port}\r\n\r\n".encode())
    assert twice.startswith(b"HTTP/1.0 421 ")


def test_a_partial_request_is_cut_off_at_the_deadline(serve):
    port, _ = serve
    started = time.monotonic()
    answer = exchange(port, b"GET /health HTTP/1.1\r\nHost: local")  # never finished
    elapsed = time.monotonic() - started
    assert answer == b"" and REQUEST_DEADLINE - 0.5 <= elapsed <= REQUEST_DEADLINE + 3


def test_a_slow_drip_request_is_cut_off_at_the_deadline(serve):
    port, _ = serve
    request = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 100
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        closed_after = None
        for byte in request:  # one byte every 0.2 s: each read is quick, the request never ends
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed_after = time.monotonic() - started
                break
            time.sleep(0.2)
            sock.setblocking(False)
            try:
                if sock.recv(1) == b"":
                    closed_after = time.monotonic() - started
                    break
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
    assert closed_after is not None, "the server kept a drip-fed request open for 20 s"
    assert closed_after <= REQUEST_DEADLINE + 3


def test_clients_that_hang_up_leave_no_traceback_and_the_server_keeps_serving(serve):
    port, _ = serve
    for _ in range(10):
        with socket.create_connection(("127.0.0.1", port)) as sock:  # asks, then leaves before the answer
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        with socket.create_connection(("127.0.0.1", port)) as sock:  # leaves mid-request
            sock.sendall(b"GET /heal")
        socket.create_connection(("127.0.0.1", port)).close()  # connects and says nothing
    assert get(port, "localhost", "/livez")[0] == 200
    # the fixture stops the process and finds no traceback on its stderr


def test_exception_texts_in_health_and_metrics_answers_are_redacted():
    def failing_health():
        raise RuntimeError(f"vault refused {TOKEN}")

    class Breakers:
        def __iter__(self):
            raise RuntimeError(f"registry lost {TOKEN}")

    server, thread = serve_http(Monitor(), Breakers(), failing_health, "127.0.0.1", 0, poll_interval=0.05)
    try:
        port = server.server_address[1]
        code, _, body = get(port, "localhost", "/health")
        assert code == 503 and TOKEN.encode() not in body
        assert json.loads(body)["error"] == "RuntimeError: vault refused [REDACTED:github_token]"
        code, _, body = get(port, "localhost", "/metrics")
        assert code == 500 and TOKEN.encode() not in body and b"[REDACTED:github_token]" in body
    finally:
        stop_http(server, thread)


def test_secrets_inside_a_health_tree_are_redacted():
    tree = {"status": "DOWN", "components": {"Agent-1": {"status": "DOWN", "reason": f"401 for {TOKEN}"}},
            "details": [f"token={TOKEN}"]}
    server, thread = serve_http(Monitor(), None, lambda: tree, "127.0.0.1", 0, poll_interval=0.05)
    try:
        code, _, body = get(server.server_address[1], "localhost", "/health")
    finally:
        stop_http(server, thread)
    assert code == 503 and TOKEN.encode() not in body
    assert json.loads(body)["components"]["Agent-1"]["reason"] == "401 for [REDACTED:github_token]"


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
def test_ipv6_server_accepts_its_own_address_in_brackets():
    try:
        server, thread = serve_http(Monitor(), None, lambda: {"status": "UP"}, "::1", 0, poll_interval=0.05)
    except OSError:
        pytest.skip("::1 cannot be bound here")
    try:
        port = server.server_address[1]
        with socket.create_connection(("::1", port), timeout=WAIT) as sock:
            sock.sendall(f"GET /health HTTP/1.1\r\nHost: [::1]:{port}\r\n\r\n".encode())
            assert sock.recv(100).startswith(b"HTTP/1.0 200 ")
    finally:
        stop_http(server, thread)
