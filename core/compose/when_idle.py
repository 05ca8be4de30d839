"""Sending "when idle": how long a message may wait for its agent, as people write it.

``quarterdeck send --when idle --ttl 30m`` and the composer's "Wait until the agent is idle" box
store the message's deliveries ``waiting`` (see :mod:`quarterdeck.core.dispatch.idle_gate`); the
time to live says when a delivery whose agent never became free ends ``expired`` instead.
"""
from __future__ import annotations

import re

DEFAULT_TTL = 30 * 60.0  # seconds: --when idle without --ttl
MAX_TTL = 7 * 24 * 3600.0  # a week: longer is a typo, not a plan

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")


def parse_duration(text: str, *, longest: str = "the longest a message may wait") -> float:
    """``90s``, ``30m``, ``2h``, ``1d`` or a bare number of seconds -> seconds; ValueError (one
    line, saying what is accepted) for anything else, zero, or more than a week (``longest`` says
    what a week is the longest of)."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise ValueError(f"{text!r} is not a duration: write it like 90s, 30m or 2h")
    seconds = float(found.group(1)) * _UNITS[found.group(2) or "s"]
    if seconds <= 0:
        raise ValueError(f"{text!r} is no time at all: give a duration like 90s, 30m or 2h")
    if seconds > MAX_TTL:
        raise ValueError(f"{text!r} is longer than a week, {longest}")
    return seconds


def wait_problem(text: str | None) -> str | None:
    """Why ``text`` is not a time to live (None when it is one, or when there is none)."""
    if text is None:
        return None
    try:
        parse_duration(text)
    except ValueError as exc:
        return str(exc)
    return None


def format_duration(seconds: float) -> str:
    """The shortest exact spelling :func:`parse_duration` reads back: ``30m``, ``2h``, ``90s``."""
    whole = round(seconds)
    for unit in ("d", "h", "m"):
        if whole >= _UNITS[unit] and whole % _UNITS[unit] == 0:
            return f"{whole // _UNITS[unit]}{unit}"
    return f"{whole}s"
