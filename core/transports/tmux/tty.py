"""What the kernel knows about a pane's terminal: its line mode and how long its program has run.

Both are hints, read without touching the pane: ``None`` whenever they cannot be read (another
user's server, a system without ``/proc``), and the caller then goes by the screen alone.
"""
from __future__ import annotations

import os
from typing import NamedTuple

__all__ = ["LineMode", "line_mode", "program_age"]

try:
    import termios
except ImportError:  # pragma: no cover - not on POSIX
    termios = None  # type: ignore[assignment]


class LineMode(NamedTuple):
    """How a terminal treats input: line by line (``canonical``), and shown as typed (``echo``)."""

    canonical: bool
    echo: bool


def line_mode(tty: str) -> LineMode | None:
    """Whether the terminal ``tty`` is in line (canonical) mode and echoes, if it can be read."""
    if termios is None or not tty:
        return None
    try:
        fd = os.open(tty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        lflag = termios.tcgetattr(fd)[3]
    except termios.error:
        return None
    finally:
        os.close(fd)
    return LineMode(bool(lflag & termios.ICANON), bool(lflag & termios.ECHO))


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            raw = handle.read()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2:].split()  # fields from the 3rd on: state, ppid, pgrp, ...


def program_age(pane_pid: int) -> float | None:
    """Seconds the pane's foreground program has been running (its process group's leader), or,
    when that cannot be read, the pane's first process; None without ``/proc``."""
    first = _stat(pane_pid)
    if first is None:
        return None
    fields = first
    foreground = int(first[5]) if len(first) > 5 and first[5].lstrip("-").isdigit() else -1
    if foreground > 0 and foreground != pane_pid:
        fields = _stat(foreground) or first
    try:
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, uptime - started)

