"""A real ``redis-server`` for tests: on 127.0.0.1, a free port, a private folder, with AOF.

``redis_server`` (a pytest fixture) starts one with ``--appendonly yes --appendfsync everysec
--save ""`` and waits until PING answers; teardown stops it. ``restart()`` stops it (SIGTERM: it
flushes its AOF) and starts it again in the same folder on the same port, so the data survives;
``pause()`` / ``unpause()`` SIGSTOP / SIGCONT it. Without redis-server installed a test using it is
skipped with a reason (a failure in CI: tests/conftest.py MISSING_TOOL).

Use it from a test module with ``from redis_server import RedisServer, redis_server`` (tests/ is on
the path, as for ``fakes``).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int, timeout: float = 0.5) -> bool:
    """True when a server on ``port`` answers PING with +PONG (raw RESP, no client library)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """One redis-server process; ``url`` is what a client connects to."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    paused: bool = False
    options: tuple[str, ...] = ()  # more redis-server options (a cluster node's, for one)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.process is not None, "redis-server is not running"
        return self.process.pid

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("missing tools: redis-server is not installed (Debian package redis-server)")
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
             "--protected-mode", "yes", "--logfile", "", *self.options],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not _ping(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}: {self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer PING within {START_TIMEOUT} s: {self.log_tail()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM (redis flushes its AOF and exits), SIGKILL if it does not within 10 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if self.paused:
            os.kill(process.pid, signal.SIGCONT)
            self.paused = False
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self, down_for: float = 0.0) -> None:
        """Stop, stay down ``down_for`` seconds, start again: same folder, same port, AOF data kept."""
        self.stop()
        time.sleep(down_for)
        self.start()

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def unpause(self) -> None:
        os.kill(self.pid, signal.SIGCONT)
        self.paused = False

    def log_tail(self, lines: int = 5) -> str:
        path = self.folder / "redis.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


CLUSTER_NODES = 3


def cluster_port() -> int:
    """A free port for a cluster node: at most 55535, its bus port (10,000 higher) free too."""
    for _ in range(200):
        port = free_port()
        if port <= 55535 and _free(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class RedisClusterServers:
    """A Redis Cluster of ``CLUSTER_NODES`` primaries (no replicas), each a :class:`RedisServer` with
    ``--cluster-enabled yes``, its slots given out by ``redis-cli --cluster create``; ``url`` is the
    first node's (any node's URL reaches the cluster)."""

    folder: Path
    nodes: list[RedisServer] = field(default_factory=list)
    tls: Path | None = None  # certificates (make_certificates): each node also takes TLS on a port of its own
    tls_ports: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}"

    @property
    def tls_url(self) -> str:
        """``rediss://`` to the first node's TLS port, trusting the test CA."""
        assert self.tls is not None and self.tls_ports, "started without TLS"
        return f"rediss://127.0.0.1:{self.tls_ports[0]}?ssl_ca_certs={self.tls / 'ca.crt'}"

    def start(self) -> None:
        cli = shutil.which("redis-cli")
        if cli is None or shutil.which("redis-server") is None:
            pytest.skip("missing tools: redis-server / redis-cli are not installed (Debian package redis-server)")
        try:
            for index in range(CLUSTER_NODES):
                folder = self.folder / f"node{index}"
                node = RedisServer(folder, port=cluster_port(), options=(
                    "--cluster-enabled", "yes", "--cluster-config-file", str(folder / "nodes.conf"),
                    "--cluster-node-timeout", "2000", *self._tls_options()))
                self.nodes.append(node)
                node.start()
            create = subprocess.run(
                [cli, "--cluster", "create", *(f"127.0.0.1:{node.port}" for node in self.nodes),
                 "--cluster-replicas", "0", "--cluster-yes"],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
            if create.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed: {create.stdout[-400:]} {create.stderr[-400:]}")
        except BaseException:
            self.stop()
            raise
        deadline = time.monotonic() + START_TIMEOUT * 3
        while not all(self.state(node) == "ok" for node in self.nodes):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the cluster did not reach cluster_state:ok")
            time.sleep(0.05)

    def _tls_options(self) -> tuple[str, ...]:
        if self.tls is None:
            return ()
        self.tls_ports.append(cluster_port())  # with --tls-cluster the bus is 10,000 above the TLS port
        return ("--tls-port", str(self.tls_ports[-1]), "--tls-cluster", "yes", "--tls-auth-clients", "no",
                "--tls-cert-file", str(self.tls / "server.crt"), "--tls-key-file", str(self.tls / "server.key"),
                "--tls-ca-cert-file", str(self.tls / "ca.crt"))

    def state(self, node: RedisServer) -> str:
        """``cluster_state`` as ``node`` sees it (``ok`` / ``fail``), or ``down`` when it does not answer."""
        reply = _ask(node.port, b"CLUSTER INFO\r\n")
        found = [line.split(":", 1)[1] for line in reply.splitlines() if line.startswith("cluster_state:")]
        return found[0].strip() if found else "down"

    def slot(self, key: str) -> int:
        return int(_ask(self.nodes[0].port, f"CLUSTER KEYSLOT {key}\r\n".encode()).strip().lstrip(":"))

    def holder(self, key: str) -> RedisServer:
        """The node serving ``key``: the one that answers ``EXISTS key`` itself (the others say MOVED)."""
        for node in self.nodes:
            if _ask(node.port, f"EXISTS {key}\r\n".encode()).startswith(":"):
                return node
        raise LookupError(f"no node serves {key} (slot {self.slot(key)})")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def make_certificates(folder: Path) -> Path:
    """A throwaway CA (``ca.crt``) and a server certificate for 127.0.0.1 signed by it, made by openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("missing tools: openssl is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    for step in (
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=quarterdeck-test-ca"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
             "/CN=127.0.0.1"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
             "server.crt", "-days", "2", "-extfile", "san.cnf"]):
        subprocess.run([openssl, *step], cwd=folder, capture_output=True, check=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    return folder


def _ask(port: int, command: bytes, timeout: float = 1.0) -> str:
    """One inline command to 127.0.0.1:``port``, its reply as text ('' when it does not answer)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(command)
            return sock.recv(65536).decode(errors="replace")
    except OSError:
        return ""


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[RedisClusterServers]:
    cluster = RedisClusterServers(tmp_path / "cluster")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
