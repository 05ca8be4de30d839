"""One hook call, start to end: decode, parse, record, and the reply the tool expects.

Nothing here raises: whatever goes wrong (input that is not JSON, an unknown source, a database
and a spool file that both refuse the event) ends in a :class:`HookResult` whose ``problem`` says
what, so that ``quarterdeck hook`` can log it and still exit 0 with the tool's reply.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from quarterdeck.core.activity.events import SOURCES, ActivityEvent
from quarterdeck.core.activity.parse import HookInputError, decode, event_name, hook_reply, parse_event
from quarterdeck.core.activity.record import record
from quarterdeck.core.paths import NoHome

REFUSED, LOST = "refused", "lost"


@dataclass(frozen=True)
class HookResult:
    """``reply``: what to print on stdout ('' for nothing); ``outcome``: stored, spooled, refused
    (the input was not an event) or lost (neither the table nor the spool took it); ``problem``:
    why it was not stored in the table, in words."""

    reply: str
    outcome: str
    problem: str | None = None
    event: ActivityEvent | None = None


def run_hook(source: str, agent_id: str, raw: bytes | str, data_dir: Path | Callable[[], Path],
             now: float | None = None) -> HookResult:
    """Handle one hook call of ``source`` for ``agent_id`` whose input is ``raw``. ``data_dir`` may be
    found only when the event is recorded (a folder that cannot be known, such as
    ``$QUARTERDECK_DATA_DIR`` under an unknown home, loses the event; the tool still gets its reply)."""
    if source not in SOURCES:
        return HookResult("", REFUSED, f"unknown --source {source!r}; one of {', '.join(SOURCES)}")
    blank = hook_reply(source, "")
    if not agent_id:
        return HookResult(blank, REFUSED, "no --agent given: the event cannot be told apart")
    try:
        payload = decode(raw)
    except HookInputError as exc:
        return HookResult(blank, REFUSED, str(exc))
    reply = blank
    try:
        reply = hook_reply(source, event_name(source, payload))
        event = parse_event(source, agent_id, payload, time.time() if now is None else now)
    except Exception as exc:  # a bug: the tool still gets its reply
        return HookResult(reply, REFUSED, f"the event could not be read: {type(exc).__name__}: {exc}")
    try:
        outcome, why = record(data_dir() if callable(data_dir) else data_dir, event)
    except NoHome as exc:
        return HookResult(reply, LOST, f"no data folder is known to record it in: {exc}", event)
    except OSError as exc:
        return HookResult(reply, LOST, f"neither the database nor the spool file took the event: {exc}", event)
    except Exception as exc:  # a bug: the tool still gets its reply
        return HookResult(reply, LOST, f"the event could not be recorded: {type(exc).__name__}: {exc}", event)
    return HookResult(reply, outcome, why, event)
