"""What a sending command and a running Quarterdeck say to each other over ``DATA_DIR/quarterdeck.sock``.

Standard library only: the sending side imports this before (instead of) the models, YAML and the store.

One connection carries one message. The server speaks first, one JSON line each::

    S: {"hello": 1, "pid": 123, "identity": {...}, "stopped": false, "stagger": 0.05}
    C: {"send": {"recipients": [...], "broadcast": false, "content": "...", "priority": "normal",
                 "tags": [], "type": "text", "sender": "Captain", "captain_last": false, "when_idle": null}}
    S: {"fallback": "why"}                      the sender does the work itself (nothing was queued)
     | {"error": {"lines": [...], "exit": 2}}   refused (the rules, an unknown agent), or
       {"error": {"lines": [...], "fault": "full"}}  a storage fault: nothing was queued
     | {"accepted": {"message_id": "...", "deliveries": [[id, agent], ...]}}
       then {"event": {...}} per step of those deliveries, until each has an outcome; the server closes.
       {"closing": "why"} instead when the server stops first (what is left stays queued).

``identity`` is what makes a send mean the same in both processes: the data folder, the roster file and
the configuration file (each path with its size and modification time as the server read it), the
``COORDINATION_*`` environment and the ``--broker`` given (those two as digests). The sender hands off
only when its own identity is equal.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded by connect: a send with no serve running needs only socket_path
    import socket

SOCKET_NAME = "quarterdeck.sock"
LOCK_NAME = "quarterdeck.sock.lock"
VERSION = 1
ENV_PREFIX = "COORDINATION_"
_SUN_PATH_MAX = 100  # AF_UNIX paths are limited to 104-108 bytes; longer ones go through /proc/self/fd


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


def file_id(path: Path | None) -> list[Any] | None:
    """A file as read now: its resolved path with size and mtime (None fields when it does not exist)."""
    if path is None:
        return None
    resolved = Path(os.path.abspath(os.path.expanduser(path)))  # never raises: an unknown ~user stays as written
    try:
        st = resolved.stat()
    except OSError:
        return [str(resolved), None, None]
    return [str(resolved), st.st_size, st.st_mtime_ns]


def _digest(text: str | None) -> str | None:
    import hashlib  # here: a send with no server running never needs it (OpenSSL loads with it)

    return None if text is None else hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def identity(data_dir: Path, roster: Path | None, config: Path, broker: str | None,
             env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What a send's meaning depends on (see the module docstring); equal dicts mean the same send."""
    environ = os.environ if env is None else env
    # the configuration reads COORDINATION_* whatever the case of the name: so does the fingerprint
    settings = json.dumps(sorted((k.upper(), v) for k, v in environ.items() if k.upper().startswith(ENV_PREFIX)))
    return {"data_dir": os.path.abspath(os.path.expanduser(data_dir)), "roster": file_id(roster),
            "config": file_id(config), "env": _digest(settings), "broker": _digest(broker)}


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n"


class Short:
    """``with Short(path) as address:`` an address for ``path`` that fits AF_UNIX: the path itself, or
    ``/proc/self/fd/N/NAME`` through a descriptor of its folder (Linux) when the path is too long."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> str:
        text = str(self.path)
        if len(os.fsencode(text)) <= _SUN_PATH_MAX:
            return text
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_PATH", 0)
        self._fd = os.open(self.path.parent, flags)
        short = f"/proc/self/fd/{self._fd}/{self.path.name}"
        if len(short) > _SUN_PATH_MAX or not os.path.isdir(f"/proc/self/fd/{self._fd}"):
            raise OSError(f"the socket path is too long for this system: {text}")
        return short

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def connect(path: Path, timeout: float) -> socket.socket:
    """A connected socket to the server at ``path``; OSError (refused, missing, timed out) otherwise."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        with Short(path) as address:
            sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return sock


class Lines:
    """JSON lines read from a socket, one at a time (``None`` at the end of the stream)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""

    def next(self) -> dict[str, Any] | None:
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        value = json.loads(line.decode("utf-8"))
        if not isinstance(value, dict):
            raise ValueError("a hand-off line is not a JSON object")
        return value
