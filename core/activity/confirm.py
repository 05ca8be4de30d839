"""Confirmed by the agent: a delivery whose text the agent's own hook reported as a submitted prompt.

A ``prompt_submitted`` event (Claude Code's ``UserPromptSubmit``, Cursor's ``beforeSubmitPrompt``,
Windsurf's ``pre_user_prompt``, Gemini CLI's ``BeforeAgent`` ...) carries the prompt the agent was
given. When it begins with the text a delivery to that agent pasted (the header line and the
content, exactly as :func:`quarterdeck.core.delivery.prefix.format_for_delivery` built it), the
delivery reached the agent beyond doubt, and its verdict becomes ``confirmed_by_agent``, with
evidence naming the hook and when it fired. Both texts are compared with every run of whitespace
made one space; a prompt the hook cut at :data:`~quarterdeck.core.activity.events.MAX_TEXT`
characters (it then ends in "…") matches a delivery that starts with what is left.

Only deliveries that ended ``delivered`` (verdict submitted or unverified) or ``uncertain``, and
finished at most :data:`WINDOW_S` before the event (or :data:`LATE_S` after it: the hook fires on
the submit key, while the transport is still checking the pane or window), are looked at. An
``uncertain`` one becomes ``delivered``: it did arrive, so it is no longer offered for a resend.
A ``failed`` one is left as it is: its failure is what the resend offers, and a retry may already
be queued. Only deliveries created within :data:`HORIZON_S` of the event are read. Each event
confirms at most one delivery (the one that finished closest to it), and an
event that already confirmed one is not used again, so running this twice over the same events
changes nothing. A delivery stored redacted (it held a secret) cannot be compared and is skipped.
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from quarterdeck.core.activity.events import MAX_TEXT, PROMPT_SUBMITTED, ActivityEvent
from quarterdeck.core.delivery.prefix import format_for_delivery
from quarterdeck.core.model_check import checked
from quarterdeck.core.models import Message
from quarterdeck.core.store.db import immediate

CONFIRMED = "confirmed_by_agent"
WINDOW_S = 600.0
LATE_S = 120.0
HORIZON_S = 86400.0  # a delivery queued longer than a day before it finished is not looked at (keeps the look-up
                     # on the (agent, state, created) index however long the history)
_MAX_EVIDENCE = 600

_CANDIDATES = """
    SELECT d.id, d.state, d.verdict, d.evidence, d.reason, d.retry_of, d.finished_at,
           m.id AS message_id, m.sender, m.sender_kind, m.type, m.priority, m.content, m.redacted, m.recipients
    FROM deliveries d JOIN messages m ON m.id = d.message_id
    WHERE d.agent_id = ? AND d.state IN ('delivered', 'uncertain') AND d.created_at >= ?
      AND (d.verdict IS NULL OR d.verdict != 'confirmed_by_agent')
      AND d.finished_at BETWEEN ? AND ? AND (d.started_at IS NULL OR d.started_at <= ?)
    ORDER BY abs(d.finished_at - ?), d.id DESC
"""
_USED = ("SELECT 1 FROM deliveries WHERE agent_id = ? AND state = 'delivered' AND created_at >= ? "
         "AND verdict = 'confirmed_by_agent' AND substr(evidence, 1, ?) = ? LIMIT 1")
_UPGRADE = ("UPDATE deliveries SET state = 'delivered', verdict = 'confirmed_by_agent', evidence = ?, reason = NULL, "
            "updated_at = ? WHERE id = ? AND state IN ('delivered', 'uncertain') "
            "AND (verdict IS NULL OR verdict != 'confirmed_by_agent')")


def normalise(text: str) -> str:
    """``text`` with every run of whitespace made one space, and no space at either end."""
    return " ".join(text.split())


def matches(prompt: str, delivered: str) -> bool:
    """Whether the prompt a hook reported is the delivered text (see the module docstring)."""
    clipped = len(prompt) >= MAX_TEXT and prompt.endswith("…")
    said = normalise(prompt[:-1] if clipped else prompt)
    sent = normalise(delivered)
    if not said or not sent:
        return False
    return said.startswith(sent) or (clipped and sent.startswith(said))


def marker(event: ActivityEvent) -> str:
    """How the evidence names the event: ``claude-code UserPromptSubmit hook at 2026-12-06T11:52:40.125Z``."""
    at = datetime.fromtimestamp(event.at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f"{event.source} {event.name} hook at {at}"


def delivered_text(row: sqlite3.Row, agent_id: str) -> str:
    """The text a delivery pasted: its message's header for ``agent_id`` and the content."""
    message = checked(Message, {
        "id": row["message_id"], "sender": row["sender"], "sender_kind": row["sender_kind"], "type": row["type"],
        "priority": row["priority"], "content": row["content"], "recipients": [agent_id]})
    return format_for_delivery(message, agent_id, resent=row["retry_of"] is not None)


def confirm_deliveries(conn: sqlite3.Connection, events: Iterable[ActivityEvent],
                       now: float | None = None) -> list[int]:
    """Upgrade the deliveries the ``prompt_submitted`` events among ``events`` confirm; the ids
    upgraded (none on a second run over the same events)."""
    upgraded: list[int] = []
    for event in events:
        if event.kind != PROMPT_SUBMITTED or not event.text:
            continue
        mark = marker(event)
        if conn.execute(_USED, (event.agent_id, event.at - HORIZON_S, len(mark), mark)).fetchone() is not None:
            continue
        found = _match(conn, event)
        if found is None:
            continue
        with immediate(conn):
            done = conn.execute(_UPGRADE, (_evidence(mark, found), time.time() if now is None else now,
                                           found["id"])).rowcount
        if done:
            upgraded.append(int(found["id"]))
    return upgraded


def _match(conn: sqlite3.Connection, event: ActivityEvent) -> sqlite3.Row | None:
    rows = conn.execute(_CANDIDATES, (event.agent_id, event.at - HORIZON_S, event.at - WINDOW_S, event.at + LATE_S,
                                      event.at + LATE_S, event.at)).fetchall()
    for row in rows:
        if row["redacted"]:
            continue
        try:
            text = delivered_text(row, event.agent_id)
        except ValueError:  # a stored row the model refuses: it cannot be compared
            continue
        if matches(event.text or "", text):
            found: sqlite3.Row = row
            return found
    return None


def _evidence(mark: str, row: sqlite3.Row) -> str:
    before = (row["verdict"] or "unverified") if row["state"] == "delivered" else str(row["state"])
    detail = row["evidence"] if row["state"] == "delivered" else row["reason"]
    text = f"{mark}: the agent's prompt began with the delivered text (before: {before}"
    text += f": {detail})" if detail else ")"
    return text if len(text) <= _MAX_EVIDENCE else text[: _MAX_EVIDENCE - 1] + "…"
