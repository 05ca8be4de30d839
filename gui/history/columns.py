"""How a history line reads in the table: the columns, their text, colours and tooltips.

Each column names the :class:`quarterdeck.core.store.paging.Line` fields it shows, so a refreshed line
repaints only the cells whose fields changed.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics

from quarterdeck.core.store.paging import Line

STATE_COLOURS = {
    "queued": "#546e7a",
    "sending": "#1565c0",
    "delivered": "#2e7d32",
    "failed": "#c62828",
    "cancelled": "#757575",
    "uncertain": "#ef6c00",
    "waiting": "#00897b",  # sent "when idle": held until the agent is free
    "expired": "#795548",  # its agent was not free before its time to live ran out
    # a delivered row shows its verdict: only "submitted" has evidence behind it
    "submitted": "#2e7d32",
    "confirmed by agent": "#1b5e20",
    "unverified": "#6d4c41",
    "typed, not submitted": "#c62828",
    "not typed": "#c62828",
}
URGENT_COLOUR = "#d84315"
_OUTCOME_TIPS = {
    "submitted": "Submitted: the text was seen in the agent's input and left it after the submit keys",
    "confirmed by agent": "Confirmed by the agent: its own hook reported a submitted prompt holding this text",
    "unverified": "Unverified: the keys were sent, but this target gave no evidence of arrival",
    "typed, not submitted": "Typed, not submitted: the text stayed in the agent's input after the submit keys",
    "not typed": "Not typed: nothing reached the agent's input (safe to retry)",
    "waiting": "Waiting: sent “when idle”, held until the agent is idle (the reason says what it does now)",
    "expired": "Expired: the agent was not idle before the message's time to live ran out; it was never typed",
}


@lru_cache(maxsize=4096)  # the table repaints the same few dozen times over and over
def local_time(epoch: float | None, *, precise: bool = False, clock_only: bool = False) -> str:
    """Local wall time; ``precise`` adds milliseconds, ``clock_only`` leaves out the date."""
    if epoch is None:
        return "—"
    moment = datetime.fromtimestamp(epoch)
    text = moment.strftime("%H:%M:%S" if clock_only else "%Y-%m-%d %H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}" if precise else text


def duration(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def _attempts(line: Line) -> str:
    if line.attempts == 0 and line.latency_ms is None:
        return "—"
    tries = f"{line.attempts} {'try' if line.attempts == 1 else 'tries'}"
    return tries if line.latency_ms is None else f"{tries} · {duration(line.latency_ms)}"


def _excerpt(line: Line) -> str:
    return line.excerpt + ("…" if line.truncated else "")


def _excerpt_tip(line: Line) -> str:
    lines = [f"From {line.sender} · {line.type} · message {line.message_id}"]
    if line.redacted:
        lines.append("Stored redacted: a secret was found in it and masked before saving.")
    if line.truncated:
        lines.append("The start of the message; select the row for all of it.")
    return "\n".join(lines)


def _reason(line: Line) -> str:
    return line.reason or ""


@lru_cache(maxsize=1)
def _here() -> str:
    from quarterdeck.core.roster.remote import this_machine

    return this_machine()


def _untyped(line: Line) -> bool:
    """Nothing of it was tried anywhere yet (queued, waiting, or ended before a first try): no machine
    typed it. Any other state may have been typed here, attempts counted or not (``sending`` before
    its first attempt is counted, ``uncertain`` after a recovery or an internal error)."""
    if getattr(line, "machine", None):
        return False
    return line.state in ("queued", "waiting", "expired") or (line.state in ("cancelled", "failed")
                                                              and not line.attempts)


def _machine(line: Line) -> str:
    """The relay that typed it, this machine's name (NULL in the outbox), or a dash: not typed yet."""
    if _untyped(line):
        return "—"
    return getattr(line, "machine", None) or _here()


def _machine_tip(line: Line) -> str:
    machine = getattr(line, "machine", None)
    if _untyped(line):
        return "Not typed on any machine (yet)"
    return f"Typed on relay {machine}'s machine" if machine else "Typed on this machine"


@dataclass(frozen=True)
class Column:
    title: str
    fields: tuple[str, ...]
    text: Callable[[Line], str]
    tip: Callable[[Line], str | None] = lambda line: None
    width: int = 100
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


COLUMNS: tuple[Column, ...] = (
    Column("Time", ("created",), lambda line: local_time(line.created),
           lambda line: f"Queued {local_time(line.created, precise=True)} · delivery #{line.delivery_id}", 156),
    Column("Agent", ("agent_id",), lambda line: line.agent_id, width=95),
    Column("State", ("state", "verdict"), lambda line: line.outcome,
           lambda line: _OUTCOME_TIPS.get(line.outcome, line.state), width=96),
    Column("Priority", ("priority",), lambda line: line.priority, width=62),
    Column("Type", ("type",), lambda line: line.type, width=84),
    Column("Message", ("excerpt", "truncated", "redacted", "sender", "type", "message_id"),
           _excerpt, _excerpt_tip, 260),
    Column("Tries · latency", ("attempts", "latency_ms"), _attempts,
           lambda line: "Attempts made, and the time from the first try to delivery", 105,
           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Reason", ("reason",), _reason, lambda line: line.reason, 90),
    # last, and shown only with relays on other machines (issue 14): the one machine is everywhere else
    Column("Machine", ("machine", "state", "attempts"), _machine, _machine_tip, 90),
)
STATE_COLUMN = 2
PRIORITY_COLUMN = 3
MACHINE_COLUMN = 8
MESSAGE_COLUMN = 5  # takes the width the others leave, elided, so Time and Agent never scroll away


ALIGNMENTS = tuple(int(column.align.value) for column in COLUMNS)
_STATE_QCOLOURS = {state: QColor(colour) for state, colour in STATE_COLOURS.items()}
_URGENT_QCOLOUR = QColor(URGENT_COLOUR)


def state_width(metrics: QFontMetrics) -> int:
    """A State column wide enough for the longest state a row can show ("typed, not submitted",
    "confirmed by agent"), with the cell's padding (6 px a side) and the style's text margins."""
    return max(metrics.horizontalAdvance(text) for text in STATE_COLOURS) + 2 * 6 + 10


def colour_of(column: int, line: Line) -> QColor | None:
    if column == STATE_COLUMN:
        return _STATE_QCOLOURS.get(line.outcome)
    if column == PRIORITY_COLUMN and line.priority == "urgent":
        return _URGENT_QCOLOUR
    return None


def changed_columns(old: Line, new: Line) -> list[int]:
    """Columns whose text may differ between two versions of one line."""
    return [n for n, column in enumerate(COLUMNS)
            if any(getattr(old, name) != getattr(new, name) for name in column.fields)]
