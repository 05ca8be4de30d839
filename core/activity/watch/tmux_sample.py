"""Read the screens of many tmux panes with one tmux command.

The panes' ``capture-pane -p -J`` commands run chained in one client call, each followed by a
``display-message`` line carrying a marker, the pane's number in the call, ``#{pane_dead}``,
``#{pane_pid}`` and ``#{pane_current_command}``,
so one process start reads them all. tmux stops a chain at its first failing command (a pane that
is gone) but keeps what came before, so the pane after the last marker is the gone one and the
rest are read again in another call: one call per sample while every pane exists.

:class:`~quarterdeck.core.transports.tmux.client.TmuxClient` raises on a failed call and drops
that output, so the call is made here, with the client's socket convention and timeout.
"""
from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SHELLS", "PaneScreen", "TmuxUnavailable", "read_panes", "shell_at_prompt", "tmux_command"]

TIMEOUT = 5.0
_GONE = ("can't find", "no server running", "error connecting", "no such file or directory", "server exited",
         "session not found", "pane not found", "window not found")
_FORMAT = "#{pane_dead} #{pane_pid} #{pane_width}x#{pane_height} #{pane_current_command}"
SHELLS = frozenset({"sh", "bash", "zsh", "fish", "dash", "ksh", "mksh", "tcsh", "csh", "nu", "pwsh", "xonsh"})
_SERVER_GONE = ("no server running", "error connecting", "no such file or directory", "server exited unexpectedly")


class TmuxUnavailable(RuntimeError):
    """tmux could not be run or did not answer: nothing is known about the panes."""


@dataclass(frozen=True)
class PaneScreen:
    text: str  # the visible rows, wrapped lines joined
    dead: bool  # the program in it exited (a remain-on-exit pane)
    pid: int = 0  # the pane's first process
    command: str = ""  # the name of the program in the foreground
    size: str = ""  # columns x rows: a client attaching can resize the pane, which redraws it


def tmux_command(socket: str | None, binary: str = "tmux") -> list[str]:
    """``tmux`` with ``-L name`` for a bare socket name or ``-S path`` for anything with a ``/``."""
    exe = shutil.which(binary)
    if exe is None:
        raise TmuxUnavailable(f"tmux is not installed (no {binary!r} on PATH)")
    return [exe] + (["-S", socket] if socket and "/" in socket else ["-L", socket] if socket else [])


def _call(base: list[str], targets: Sequence[str], mark: str) -> tuple[str, str, int]:
    args: list[str] = []
    for number, target in enumerate(targets):
        args += [*([";"] if args else []), "capture-pane", "-p", "-J", "-t", target, ";",
                 "display-message", "-p", "-t", target, f"{mark} {number} {_FORMAT}"]
    try:
        done = subprocess.run(base + args, capture_output=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise TmuxUnavailable(f"tmux did not answer within {TIMEOUT:g} s") from exc
    except OSError as exc:
        raise TmuxUnavailable(f"cannot run tmux: {exc}") from exc
    return (done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace").strip(),
            done.returncode)


def _split(out: str, mark: str, count: int) -> list[PaneScreen]:
    """The screens in ``out``, in order, up to the last marker."""
    screens: list[PaneScreen] = []
    rest = out
    while len(screens) < count:
        text, found, rest = rest.partition(f"{mark} {len(screens)} ")
        if not found:
            break
        line, _, rest = rest.partition("\n")
        dead, _, line = line.partition(" ")
        pid, _, line = line.partition(" ")
        size, _, command = line.partition(" ")
        screens.append(PaneScreen(text, dead == "1", int(pid) if pid.isdigit() else 0, command.strip(), size))
    return screens


def read_panes(targets: Sequence[str], socket: str | None = None, binary: str = "tmux",
               calls: list[int] | None = None) -> dict[str, PaneScreen | None]:
    """Each target's screen, or None for a pane (session, server) that is gone. TmuxUnavailable
    when tmux cannot be run or fails for another reason. ``calls`` (if given) gets the number of
    tmux processes started appended, for the benchmark."""
    base = tmux_command(socket, binary)
    result: dict[str, PaneScreen | None] = {}
    remaining = list(dict.fromkeys(targets))
    started = 0
    while remaining:
        mark = f"qd-watch-{uuid.uuid4().hex[:12]}"
        out, err, code = _call(base, remaining, mark)
        started += 1
        screens = _split(out, mark, len(remaining))
        result.update(zip(remaining, screens, strict=False))
        if code == 0 and len(screens) == len(remaining):
            break
        low = err.lower()
        if code == 0 or not any(marker in low for marker in _GONE):
            raise TmuxUnavailable(f"tmux failed reading {remaining[len(screens)]!r}: {err or f'exit {code}'}")
        if any(marker in low for marker in _SERVER_GONE):
            result.update(dict.fromkeys(remaining[len(screens):]))
            break
        result[remaining[len(screens)]] = None  # the command after the last marker failed
        remaining = remaining[len(screens) + 1:]
    if calls is not None:
        calls.append(started)
    return result


def shell_at_prompt(screen: PaneScreen, proc: Path = Path("/proc")) -> bool:
    """The pane's own first process is an interactive shell (no script, no ``-c``), holds the
    terminal and runs nothing: whatever ran in the pane has ended and the shell waits at its
    prompt. False when that cannot be told (no /proc: not Linux)."""
    if screen.command.lstrip("-") not in SHELLS or screen.pid <= 0:
        return False
    here = proc / str(screen.pid)
    try:
        args = (here / "cmdline").read_bytes().split(b"\0")[1:]
        stat = (here / "stat").read_text(encoding="utf-8", errors="replace")
        children = (here / "task" / str(screen.pid) / "children").read_text(encoding="utf-8")
    except OSError:
        return False
    if any(arg and (not arg.startswith(b"-") or arg == b"-c") for arg in args):
        return False  # a shell running a script or a command string
    fields = stat.rsplit(")", 1)[-1].split()  # state ppid pgrp session tty_nr tpgid ...
    return len(fields) > 5 and fields[5] == str(screen.pid) and not children.split()
