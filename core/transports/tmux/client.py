"""The tmux commands a delivery needs, run against one server for one target.

Errors are sorted as a delivery needs them: a pane, session or server that is gone is permanent,
anything else (a slow or busy server) retryable.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from typing import NoReturn

from msgspec import Struct

from quarterdeck.core.delivery.errors import MayHaveArrived, PermanentError, RetryableError
from quarterdeck.core.transports.tmux.verdict import Screen

__all__ = ["PaneInfo", "TmuxClient"]

_CMD_TIMEOUT = 5.0
_GONE_MARKERS = (
    "can't find",
    "no server running",
    "error connecting",
    "no such file or directory",
    "session not found",
    "pane not found",
    "window not found",
)
# what tmux says when nothing listens at its socket (none there, or one left by a server that died)
_NO_SERVER = re.compile(r"(?:no server running on|error connecting to) (?P<socket>\S+)(?: \((?:No such file or "
                        r"directory|Connection refused)\))?$", re.IGNORECASE)
_DEAD = "qd-pane-dead"  # printed instead of running a command in a pane that exited (remain-on-exit)


def _unless_dead(pane: str, command: str) -> list[str]:
    """``command`` for ``pane`` run inside the server only while the pane lives; else ``_DEAD`` printed.
    Pasting into a dead pane crashes tmux 3.3 servers, taking every pane with it, so the test and the
    command are one tmux command."""
    return ["if-shell", "-F", "-t", pane, "#{pane_dead}", f"display-message -p {_DEAD}", command]


_PANE_FORMAT = "\t".join((
    "#{pane_id}", "#{pane_dead}", "#{pane_in_mode}", "#{pane_input_off}", "#{pane_tty}", "#{pane_pid}",
    "#{pane_current_command}",
))


class PaneInfo(Struct, frozen=True):
    """What tmux says of the pane behind a target: its id, whether its program exited, copy mode and
    input off, its terminal, its program's pid and command."""

    id: str
    dead: bool
    in_mode: bool
    input_off: bool
    tty: str
    pid: int
    command: str


class TmuxClient:
    """``socket``: a bare name is passed as ``-L name``, anything containing ``/`` as ``-S path``."""

    def __init__(self, target: str, socket: str | None = None, binary: str = "tmux") -> None:
        self.target = target
        self.socket = socket
        self.binary = binary
        self._exe: str | None = None

    def _base_cmd(self) -> list[str]:
        if self._exe is None:  # looked up once per client: a delivery runs several tmux commands
            self._exe = shutil.which(self.binary)
            if self._exe is None:
                raise PermanentError(f"tmux is not installed (no {self.binary!r} on PATH)")
        cmd = [self._exe]
        if self.socket:
            cmd += ["-S", self.socket] if "/" in self.socket else ["-L", self.socket]
        return cmd

    def _call(self, args: tuple[str, ...], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """One tmux command (``args`` may be a list of commands joined by ``;``), whatever its exit."""
        try:
            return subprocess.run(
                [*self._base_cmd(), *args], input=stdin, capture_output=True, timeout=_CMD_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise RetryableError(f"tmux {args[0]} timed out after {_CMD_TIMEOUT:g} s") from exc
        except OSError as exc:
            raise PermanentError(f"cannot run tmux: {exc}") from exc

    def _failure(self, name: str, done: subprocess.CompletedProcess[bytes]) -> PermanentError | RetryableError:
        """A failed command as a delivery sorts it: a pane, session or server gone is permanent (no server
        at the socket: said so, with what to do)."""
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        absent = _NO_SERVER.search(message)
        if absent is not None:
            return PermanentError(f"tmux on {self.target!r}: no tmux server is running at {absent['socket']}: start "
                                  "the agent's tmux session, or give the roster the socket it runs on")
        text = f"tmux {name} on {self.target!r}: {message}"
        if any(marker in message.lower() for marker in _GONE_MARKERS):
            return PermanentError(text)
        return RetryableError(text)

    def run(self, *args: str, stdin: bytes | None = None) -> str:
        done = self._call(args, stdin)
        if done.returncode != 0:
            raise self._failure(args[0], done)
        return done.stdout.decode("utf-8", "replace")

    def resolve(self) -> PaneInfo:
        """The pane behind the target; capture-pane rejects targets that do not exist."""
        return self._pane_info(self.run(*self._resolve_args()))

    def resolve_and_screen(self, depth: int) -> tuple[PaneInfo, str, Screen]:
        """:meth:`resolve` and :meth:`screen` of that pane (``depth`` lines of history) in one tmux command:
        one process, and tmux runs the commands of one list in a row, so they see the pane at one moment."""
        mark = f"qd-{uuid.uuid4().hex}"
        out = self.run(*self._resolve_args(), ";", "display-message", "-p", f"{mark}-pane", ";",
                       *self._screen_args(self.target, depth, mark))
        pane, found, rest = out.partition(f"{mark}-pane\n")
        if not found:
            raise RetryableError(f"tmux did not name a pane for {self.target!r}: {out!r}")
        return (self._pane_info(pane), *self._parse_screen(rest, depth, mark))

    def _resolve_args(self) -> list[str]:
        return ["capture-pane", "-p", "-t", self.target, "-S", "0", "-E", "0", ";",
                "display-message", "-p", "-t", self.target, _PANE_FORMAT]

    def _pane_info(self, out: str) -> PaneInfo:
        fields = out.rstrip("\n").rsplit("\n", 1)[-1].split("\t")
        if len(fields) != 7 or not fields[0].startswith("%"):
            raise RetryableError(f"tmux did not name a pane for {self.target!r}: {out!r}")
        pane, dead, in_mode, input_off, tty, pid, command = fields
        return PaneInfo(pane, dead == "1", in_mode == "1", input_off == "1", tty,
                        int(pid) if pid.isdigit() else 0, command)

    def screen(self, pane: str, depth: int | None = None) -> tuple[str, Screen]:
        """(the pane's last ``depth`` lines of history with wrapped lines joined, if ``depth`` is
        given; its visible rows, cursor and history count), read in one tmux command so they
        belong together."""
        mark = f"qd-{uuid.uuid4().hex}"
        return self._parse_screen(self.run(*self._screen_args(pane, depth, mark)), depth, mark)

    @staticmethod
    def _screen_args(pane: str, depth: int | None, mark: str) -> list[str]:
        args: list[str] = []
        if depth is not None:
            args += ["capture-pane", "-p", "-J", "-S", f"-{depth}", "-t", pane, ";",
                     "display-message", "-p", mark, ";"]
        return [*args, "capture-pane", "-p", "-t", pane, ";",
                "display-message", "-p", "-t", pane,
                f"{mark} #{{cursor_x}} #{{cursor_y}} #{{history_size}} #{{?alternate_on,0,#{{history_limit}}}}"]

    @staticmethod
    def _parse_screen(out: str, depth: int | None, mark: str) -> tuple[str, Screen]:
        history = ""
        if depth is not None:
            history, _, out = out.partition(f"{mark}\n")
        rows, _, cursor = out.rstrip("\n").rpartition(f"{mark} ")
        x, y, size, limit = ([int(n) for n in cursor.split()] + [0, 0, 0, 0])[:4]
        lines = rows.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return history, Screen(tuple(lines), x, y, size, limit)

    def paste(self, pane: str, text: str) -> None:
        """Paste ``text`` through a fresh buffer (deleted after), bracketed if the program asked.

        One tmux command: the buffer loaded from stdin, a mark printed once it is, then the paste (tmux
        runs a list's commands in a row and stops at the first that fails). A failure without the mark
        from a server that still answers stopped before the paste; from one that went away (a crash
        loses the output, the mark with it) the paste may have run."""
        buffer = f"qd-{uuid.uuid4().hex}"
        loaded = f"{buffer}-loaded"
        try:
            done = self._call(("load-buffer", "-b", buffer, "-", ";", "display-message", "-p", loaded, ";",
                               *_unless_dead(pane, f"paste-buffer -d -p -b {buffer} -t {pane}")),
                              stdin=text.encode("utf-8"))
        except (PermanentError, RetryableError) as exc:  # no answer (a timeout): the paste may have run
            self._paste_failed(buffer, exc)
        out = done.stdout.decode("utf-8", "replace")
        if done.returncode != 0:
            if loaded in out:
                self._paste_failed(buffer, self._failure("paste-buffer", done))
            failure = self._failure("load-buffer", done)
            if not failure.retryable or self._answers():  # never reached it, or it stopped before the paste
                raise failure
            self._paste_failed(buffer, failure)
        if _DEAD in out:
            self._drop_buffer(buffer)
            raise PermanentError(f"tmux pane {self.target!r} has exited")

    def _paste_failed(self, buffer: str, exc: PermanentError | RetryableError) -> NoReturn:
        """paste-buffer -d deletes the buffer once it pasted: still there means nothing was typed."""
        if self._drop_buffer(buffer) or not exc.retryable:
            raise exc
        raise MayHaveArrived(f"the paste into {self.target!r} may have happened ({exc}); "
                             "not pasting it again: look at the pane",
                             evidence="tmux took the paste, then failed") from exc

    def _answers(self) -> bool:
        """Whether the server answers a command now."""
        try:
            return self._call(("display-message", "-p", "qd")).returncode == 0
        except (PermanentError, RetryableError):
            return False

    def _drop_buffer(self, buffer: str) -> bool:
        """Delete ``buffer``; True if it was still there (so nothing was pasted from it)."""
        try:
            self.run("delete-buffer", "-b", buffer)
        except (PermanentError, RetryableError):
            return False
        return True

    def press(self, pane: str, keys: tuple[str, ...]) -> None:
        """Press ``keys`` (tmux key names) on their own. The text is already in the input then, so
        any failure is permanent: another attempt would paste it a second time."""
        try:
            out = self.run(*self._press_args(pane, keys))
        except (PermanentError, RetryableError) as exc:
            raise PermanentError(f"text pasted into tmux pane {self.target!r} but not submitted: {exc}") from exc
        if _DEAD in out:
            raise self._exited_before_key()

    def screen_and_press(self, pane: str, keys: tuple[str, ...]) -> Screen:
        """The pane's visible rows and cursor (as :meth:`screen` reads them), then ``keys`` pressed (as
        :meth:`press`), in one tmux command: the screen is the pane as it was right before the key, with
        nothing in between (tmux runs a list's commands in a row). Failures as :meth:`press`'s."""
        mark = f"qd-{uuid.uuid4().hex}"
        try:
            out = self.run(*self._screen_args(pane, None, mark), ";", *self._press_args(pane, keys))
        except (PermanentError, RetryableError) as exc:
            raise PermanentError(f"text pasted into tmux pane {self.target!r} but not submitted: {exc}") from exc
        rows, found, after = out.rpartition(f"{mark} ")
        cursor, _, pressed = after.partition("\n")
        if not found:
            raise PermanentError(f"the submit key went to tmux pane {self.target!r}, but tmux did not show "
                                 f"the pane before it: {out[-200:]!r}")
        if _DEAD in pressed:
            raise self._exited_before_key()
        return self._parse_screen(f"{rows}{mark} {cursor}", None, mark)[1]

    def _exited_before_key(self) -> PermanentError:
        return PermanentError(f"tmux pane {self.target!r} exited after the paste, before the submit key")

    @staticmethod
    def _press_args(pane: str, keys: tuple[str, ...]) -> list[str]:
        return _unless_dead(pane, f"send-keys -t {pane} {' '.join(keys)}")
