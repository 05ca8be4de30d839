"""Deliver into a tmux pane: paste the text literally, submit it, then read the pane back.

The text goes through a uniquely named paste buffer (``load-buffer`` from stdin, then
``paste-buffer -d -p``), so nothing in it is read as a key name and newlines stay newlines. With
``-p`` tmux wraps the paste in bracketed-paste markers whenever the program in the pane asked for
them (bash/readline, prompt_toolkit, most agent TUIs), so embedded newlines are inserted as text
and only the separate submit key sends the message. A program that never asks for bracketed paste
(``cat``, a plain ``read`` loop) receives each newline as a line ending, exactly as if a terminal
pasted it.

Arrival is confirmed by capturing the pane (wrapped lines joined, the last 1000 lines of history
plus the message's length) and finding the message's last lines in it more often than just before
the paste. The window only moves forward, so an old copy can scroll out of it but never into it:
the count can understate an arrival, never invent one. When the text was already on screen and no
new copy shows up, the receipt is unconfirmed rather than an error, so a retry does not paste the
same message twice. Comparison collapses runs of whitespace, since panes show tabs as spaces and
drop trailing blanks.
"""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
import uuid

from core.delivery.base import Cancelled, DeliveryRequest, PermanentError, Receipt, RetryableError

__all__ = ["TmuxDelivery", "tail_needle"]

_TAIL_LINES = 3
_TAIL_CHARS = 300
_HISTORY_DEPTH = 1000
_CMD_TIMEOUT = 5.0
_POLL = 0.05
_GONE_MARKERS = (
    "can't find",
    "no server running",
    "error connecting",
    "no such file or directory",
    "session not found",
    "pane not found",
    "window not found",
)


def _squash(line: str) -> str:
    return " ".join(line.split())


def tail_needle(text: str) -> str:
    """The part of ``text`` looked for in the pane: its last non-blank lines, whitespace collapsed."""
    lines = [s for s in (_squash(line) for line in text.splitlines()) if s]
    return " ".join(lines[-_TAIL_LINES:])[-_TAIL_CHARS:]


def _haystack(capture: str) -> str:
    return " ".join(s for s in (_squash(line) for line in capture.splitlines()) if s)


class TmuxDelivery:
    """Paste-and-submit into one tmux pane, verified by reading the pane back.

    ``target`` is any tmux target (``session``, ``session:window.pane``, ``%3``). ``socket`` selects
    the server: a bare name is passed as ``-L name``, anything containing ``/`` as ``-S path``.
    ``submit_key`` (and ``urgent_submit_key`` for urgent messages, defaulting to ``submit_key``) are
    tmux key names, space-separated for a sequence such as ``"Enter Enter"``.
    """

    kind = "tmux"

    def __init__(
        self,
        target: str,
        *,
        socket: str | None = None,
        submit_key: str = "Enter",
        urgent_submit_key: str | None = None,
        confirm_timeout: float = 2.0,
        tmux_binary: str = "tmux",
    ) -> None:
        if not target:
            raise ValueError("tmux target must not be empty")
        self.target = target
        self.socket = socket
        self.submit_keys = tuple(submit_key.split())
        self.urgent_submit_keys = tuple((urgent_submit_key or submit_key).split())
        self.confirm_timeout = confirm_timeout
        self.tmux_binary = tmux_binary

    def __repr__(self) -> str:
        where = f", socket={self.socket!r}" if self.socket else ""
        return f"TmuxDelivery({self.target!r}{where})"

    # -- tmux plumbing -----------------------------------------------------------------------

    def _base_cmd(self) -> list[str]:
        exe = shutil.which(self.tmux_binary)
        if exe is None:
            raise PermanentError(f"tmux is not installed (no {self.tmux_binary!r} on PATH)")
        cmd = [exe]
        if self.socket:
            cmd += ["-S", self.socket] if "/" in self.socket else ["-L", self.socket]
        return cmd

    def _run(self, *args: str, stdin: bytes | None = None) -> str:
        cmd = self._base_cmd() + list(args)
        try:
            done = subprocess.run(
                cmd, input=stdin, capture_output=True, timeout=_CMD_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise RetryableError(f"tmux {args[0]} timed out after {_CMD_TIMEOUT:g} s") from exc
        except OSError as exc:
            raise PermanentError(f"cannot run tmux: {exc}") from exc
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
            text = f"tmux {args[0]} on {self.target!r}: {message}"
            if any(marker in message.lower() for marker in _GONE_MARKERS):
                raise PermanentError(text)
            raise RetryableError(text)
        return done.stdout.decode("utf-8", "replace")

    def _capture(self, pane: str, depth: int) -> str:
        return self._run("capture-pane", "-p", "-J", "-S", f"-{depth}", "-t", pane)

    def _resolve(self) -> tuple[str, bool]:
        """(pane id, pane is dead) for the target; capture-pane rejects targets that do not exist."""
        out = self._run(
            "capture-pane", "-p", "-t", self.target, "-S", "0", "-E", "0", ";",
            "display-message", "-p", "-t", self.target, "#{pane_id} #{pane_dead}",
        )
        pane, _, dead = out.splitlines()[-1].partition(" ")
        if not pane.startswith("%"):
            raise RetryableError(f"tmux did not name a pane for {self.target!r}: {out!r}")
        return pane, dead.strip() == "1"

    # -- Transport ---------------------------------------------------------------------------

    def check(self) -> str | None:
        try:
            _, dead = self._resolve()
        except (PermanentError, RetryableError) as exc:
            return str(exc)
        if dead:
            return f"tmux pane {self.target!r} has exited"
        return None

    def deliver(self, request: DeliveryRequest, stop: threading.Event) -> Receipt:
        if not request.text.strip():
            raise PermanentError("refusing to deliver an empty message")
        if stop.is_set():
            raise Cancelled("stopped before sending")
        pane, dead = self._resolve()
        if dead:
            raise PermanentError(f"tmux pane {self.target!r} has exited")
        needle = tail_needle(request.text)
        depth = _HISTORY_DEPTH + request.text.count("\n")
        before = _haystack(self._capture(pane, depth)).count(needle)
        started = time.monotonic()
        self._paste(pane, request.text)
        keys = self.urgent_submit_keys if request.priority == "urgent" else self.submit_keys
        if keys:
            try:
                self._run("send-keys", "-t", pane, *keys)
            except (PermanentError, RetryableError) as exc:
                # The text is already in the input: another attempt would paste it a second time.
                raise PermanentError(f"text pasted but not submitted: {exc}") from exc
        return self._confirm(pane, depth, needle, before, started, stop)

    def _paste(self, pane: str, text: str) -> None:
        # Pasting into a dead (remain-on-exit) pane crashes tmux 3.3 servers, taking every pane
        # with it, so the liveness test and the paste run as one command inside the server.
        buffer = f"qd-{uuid.uuid4().hex}"
        self._run("load-buffer", "-b", buffer, "-", stdin=text.encode("utf-8"))
        try:
            out = self._run(
                "if-shell", "-F", "-t", pane, "#{pane_dead}",
                "display-message -p qd-pane-dead",
                f"paste-buffer -d -p -b {buffer} -t {pane}",
            )
        except (PermanentError, RetryableError):
            self._drop_buffer(buffer)
            raise
        if "qd-pane-dead" in out:
            self._drop_buffer(buffer)
            raise PermanentError(f"tmux pane {self.target!r} has exited")

    def _drop_buffer(self, buffer: str) -> None:
        try:
            self._run("delete-buffer", "-b", buffer)
        except (PermanentError, RetryableError):
            pass

    def _confirm(
        self, pane: str, depth: int, needle: str, before: int, started: float, stop: threading.Event
    ) -> Receipt:
        deadline = started + self.confirm_timeout
        while True:
            seen = _haystack(self._capture(pane, depth)).count(needle)
            if seen > before:
                elapsed = time.monotonic() - started
                return Receipt(self.kind, True, f"seen in pane {self.target} after {elapsed:.3f} s")
            if stop.is_set():
                return Receipt(self.kind, False, "sent; stopped before arrival was seen in the pane")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            stop.wait(min(_POLL, remaining))
        if before:
            return Receipt(
                self.kind,
                False,
                "sent; the same text was already in the pane, so its arrival could not be told apart",
            )
        # Pasted and submitted: another attempt would deliver it twice. Say what is known.
        return Receipt(
            self.kind,
            False,
            f"sent; not seen in pane {self.target} within {self.confirm_timeout:g} s "
            "(the agent may not echo its input)",
        )
