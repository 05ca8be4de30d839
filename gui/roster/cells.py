"""The roster table's columns and what each cell of a row says (quarterdeck.gui.roster.model shows them).

``row_cells`` derives a row from the agent's settings, its live state, its statistics, its activity
and, with relays on other machines, where it runs (``quarterdeck.gui.roster.placement.Where``): the
Machine column, and an id on two machines marked in the Agent cell with both machines named.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import Qt

from quarterdeck.core.activity.state import Activity, unknown
from quarterdeck.core.models import Agent
from quarterdeck.core.monitor import FIGURE_WINDOW, window_name
from quarterdeck.core.relay_settings import RelayTransport
from quarterdeck.core.roster.status import AgentLive, headline, latency_text, success_text
from quarterdeck.core.store.rows import outcome
from quarterdeck.gui.activity import cells as activity_look
from quarterdeck.gui.roster.placement import Where
from quarterdeck.gui.roster.targets import target_text, target_tip

# live columns first: the dock is narrow, and what is happening matters more than how it is wired
# (Machine: where the agent runs, next to its status; shown only with relays on other machines)
COLUMNS = ("Agent", "Activity", "Status", "Machine", "Breaker", "Last delivery", "Success", "p95", "Role",
           "Transport", "Target")
AGENT, ACTIVITY, STATUS, MACHINE, BREAKER, LAST, SUCCESS, P95, ROLE, TRANSPORT, TARGET = range(len(COLUMNS))
AGENT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_KEY_ROLE = Qt.ItemDataRole.UserRole + 2  # in the Activity column: the activity's state

COLOURS = {
    "idle": "#9e9e9e", "disabled": "#bdbdbd", "closed": "#9e9e9e", "queued": "#1976d2",
    "sending": "#0288d1", "retrying": "#f9a825", "paused": "#f9a825", "submitted": "#2e7d32",
    "confirmed_by_agent": "#1b5e20",
    "unverified": "#8d6e63", "typed_not_submitted": "#c62828", "not_typed": "#c62828",
    "failed": "#c62828", "cancelled": "#757575", "uncertain": "#ef6c00", "breaker_open": "#c62828", "open": "#c62828",
    "half_open": "#f9a825", "forced_open": "#6a1b9a", "disabled_breaker": "#757575",
    "waiting": "#00897b", "expired": "#795548",  # a message sent "when idle": held; not idle in time
}
TROUBLE = {"conflict": "#fde7e7", "stale": "#eceff1",  # Agent and Machine: an id on two machines; a relay silent
           "failed": "#fde7e7", "typed_not_submitted": "#fde7e7", "not_typed": "#fde7e7", "breaker_open": "#fde7e7",
           "open": "#fde7e7", "uncertain": "#fff1e0", "forced_open": "#f3e5f5", "half_open": "#fff8e1",
           "retrying": "#fff8e1", "paused": "#fff8e1", "expired": "#fff8e1"}
FIGURES = window_name(FIGURE_WINDOW)  # "last 15 min": Success and p95 are over it
TRANSPORT_NAMES = {"gui": "screen", "tmux": "tmux", "inbox": "inbox", "dryrun": "dry run"}


@dataclass(frozen=True)
class Cell:
    text: str
    tooltip: str = ""
    key: str = ""  # colour/icon key for status-like cells
    muted: bool = False  # the agent is disabled: greyed out


def activity_cell(activity: Activity | None, now: float) -> Cell:
    """The Activity column: ``needs-you · 2 min``, the reason on hover, the state as its key."""
    return Cell(activity_look.activity_text(activity, now), activity_look.tooltip(activity, now),
                activity.state if activity is not None else "unknown")


def row_cells(agent: Agent, live: AgentLive, stats: dict[str, Any], activity: Cell | None = None,
              where: Where | None = None) -> tuple[Cell, ...]:
    """What one row shows, derived from the agent's settings, live state, statistics, activity and
    machine (``where``: None on one machine)."""
    name = agent.id if agent.display_name in (None, agent.id) else f"{agent.id} ({agent.display_name})"
    conflict = where is not None and where.key == "conflict"
    key, text = headline(live, enabled=agent.enabled)
    status_tip = {"queued": "Waiting in the outbox", "sending": "Being typed into the agent now",
                  "waiting": "Sent “when idle”: held until the agent is idle"}.get(key, "")
    if key in ("failed", "typed_not_submitted", "not_typed", "uncertain", "cancelled", "expired") and live.last_detail:
        status_tip = live.last_detail
    if key == "submitted":
        status_tip = f"Submitted: {live.last_evidence or 'evidence recorded'}"
    if key == "unverified":
        status_tip = f"Unverified: {live.last_evidence or 'no evidence of arrival'}"
    if key == "confirmed_by_agent":
        status_tip = f"Confirmed by the agent's own hook: {live.last_evidence or 'it reported the text'}"
    if key in ("breaker_open", "half_open", "forced_open", "retrying"):
        status_tip = live.last_detail or text
    if key == "paused":
        status_tip = live.paused
    last, last_tip = "–", "No delivery finished since the panel started"
    if live.last_at is not None and live.last_state is not None:
        said = outcome(live.last_state, live.last_verdict)
        last = f"{live.last_at:%H:%M:%S} · {said}"
        latency = f" in {live.last_latency * 1000:.0f} ms" if live.last_latency is not None else ""
        evidence = f" ({live.last_evidence})" if live.last_evidence else ""
        last_tip = f"{live.last_at:%Y-%m-%d %H:%M:%S} {said}{latency}{evidence}"
    breaker = live.breaker
    breaker_key = "disabled_breaker" if breaker.state == "disabled" else breaker.state
    breaker_tip = {"closed": "Deliveries go through", "half_open": "The next delivery is a trial",
                   "forced_open": "Forced open by hand: nothing is delivered until you reset it",
                   "disabled": "The breaker is off: deliveries always go through"}.get(
        breaker.state, "Too many failures: deliveries are refused until the trial")
    success, success_tip = success_text(stats)
    p95, p95_tip = latency_text(stats)
    transport: str = agent.transport.kind
    how = ""
    if isinstance(agent.transport, RelayTransport):  # how its relay reaches it, and through which relay
        transport, how = agent.transport.via, f"Reached by relay {agent.transport.relay} on its machine"
    by_column = {
        AGENT: Cell(f"⚠ {name}" if conflict else name, where.tip if conflict and where else
                    "" if agent.enabled else "Disabled: nothing is sent to this agent", "conflict" if conflict else ""),
        MACHINE: Cell(where.text, where.tip, where.key) if where is not None else Cell(""),
        ACTIVITY: activity or activity_cell(unknown(agent.id), 0.0),
        STATUS: Cell(text, status_tip, key),
        BREAKER: Cell(breaker.text(), breaker_tip, breaker_key),
        LAST: Cell(last, last_tip, outcome(live.last_state, live.last_verdict) if live.last_state else ""),
        SUCCESS: Cell(success, success_tip),
        P95: Cell(p95, p95_tip),
        ROLE: Cell(agent.role),
        TRANSPORT: Cell(TRANSPORT_NAMES.get(transport, transport), how),
        TARGET: Cell(target_text(agent), target_tip(agent)),
    }
    cells = tuple(by_column[column] for column in range(len(COLUMNS)))
    return cells if agent.enabled else tuple(replace(cell, muted=True) for cell in cells)

