"""The roster as a table: one row per agent, its settings and its live status.

An adapter over the roster and a ``StatusBoard`` (quarterdeck.core.roster.status). Every row's cells are
computed once and cached; ``refresh(ids)`` recomputes the given agents and emits ``dataChanged``
only for the cells whose text or colour changed, so a one-second tick with nothing new costs no
repaint. A new roster is merged row by row (insert, move, remove, change) so the view keeps its
selection and the live status of agents that stayed. The Activity column shows what each agent
is doing (``set_activities``, from the activity feed); a row whose activity changed pulses for a
second (``flash``: only that row repaints).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QIcon

from quarterdeck.core.activity.state import Activity, unknown
from quarterdeck.core.models import Agent
from quarterdeck.core.monitor import FIGURE_WINDOW, window_name
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.roster.status import AgentLive, headline, latency_text, success_text
from quarterdeck.core.store.rows import outcome
from quarterdeck.gui.activity import cells as activity_look
from quarterdeck.gui.activity.flash import RowFlash
from quarterdeck.gui.roster.targets import target_text, target_tip
from quarterdeck.gui.tablemodel import emit_changed_cells

Index = QModelIndex | QPersistentModelIndex
# live columns first: the dock is narrow, and what is happening matters more than how it is wired
COLUMNS = ("Agent", "Activity", "Status", "Breaker", "Last delivery", "Success", "p95", "Role", "Transport",
           "Target")
AGENT, ACTIVITY, STATUS, BREAKER, LAST, SUCCESS, P95, ROLE, TRANSPORT, TARGET = range(len(COLUMNS))
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
TROUBLE = {"failed": "#fde7e7", "typed_not_submitted": "#fde7e7", "not_typed": "#fde7e7", "breaker_open": "#fde7e7",
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


def status_icon(key: str, _cache: dict[str, QIcon] = {}) -> QIcon:  # noqa: B006 (a deliberate cache)
    """A filled dot in the status colour; a hollow ring for quiet states."""
    icon = _cache.get(key)
    if icon is None:
        quiet = key in ("idle", "closed", "disabled", "cancelled")
        icon = _cache[key] = activity_look.paint_dot(QColor(COLOURS.get(key, "#9e9e9e")), not quiet, 130)
    return icon


def activity_cell(activity: Activity | None, now: float) -> Cell:
    """The Activity column: ``needs-you · 2 min``, the reason on hover, the state as its key."""
    return Cell(activity_look.activity_text(activity, now), activity_look.tooltip(activity, now),
                activity.state if activity is not None else "unknown")


def row_cells(agent: Agent, live: AgentLive, stats: dict[str, Any], activity: Cell | None = None) -> tuple[Cell, ...]:
    """What one row shows, derived from the agent's settings, live state, statistics and activity."""
    name = agent.id if agent.display_name in (None, agent.id) else f"{agent.id} ({agent.display_name})"
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
    transport = agent.transport.kind
    by_column = {
        AGENT: Cell(name, "" if agent.enabled else "Disabled: nothing is sent to this agent"),
        ACTIVITY: activity or activity_cell(unknown(agent.id), 0.0),
        STATUS: Cell(text, status_tip, key),
        BREAKER: Cell(breaker.text(), breaker_tip, breaker_key),
        LAST: Cell(last, last_tip, outcome(live.last_state, live.last_verdict) if live.last_state else ""),
        SUCCESS: Cell(success, success_tip),
        P95: Cell(p95, p95_tip),
        ROLE: Cell(agent.role),
        TRANSPORT: Cell(TRANSPORT_NAMES.get(transport, transport)),
        TARGET: Cell(target_text(agent), target_tip(agent)),
    }
    cells = tuple(by_column[column] for column in range(len(COLUMNS)))
    return cells if agent.enabled else tuple(replace(cell, muted=True) for cell in cells)


class RosterModel(QAbstractTableModel):
    """See the module docstring. ``live(agent_id)`` and ``stats(agent_id)`` feed the status cells."""

    def __init__(self, roster: Roster, live: Callable[[str], AgentLive],
                 stats: Callable[[str], dict[str, Any]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._live = live
        self._stats = stats
        self._activities: Mapping[str, Activity] = {}
        self._activities_at = time.time()
        self.flash = RowFlash(self._repaint_rows, self)
        self._agents: list[Agent] = list(roster.agents)
        self._cells: list[tuple[Cell, ...]] = [self._compute(a) for a in self._agents]

    # -- Qt's model interface ------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._agents)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{COLUMNS[section]} ({FIGURES[5:]})" if section in (SUCCESS, P95) else COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole and section == ACTIVITY:
                return ("What the agent is doing, from its own hooks and from watching its pane or window "
                        "(working, idle, needs-you, rate-limited, stalled, offline, unknown) and since when; "
                        "hover a cell for why")
            if role == Qt.ItemDataRole.ToolTipRole and section in (SUCCESS, P95):
                return (f"Submitted among submitted and failed deliveries in the {FIGURES} (unverified ones "
                        "counted apart), the window health and the charts' summary use" if section == SUCCESS
                        else f"95th percentile of delivery time in the {FIGURES}, retries included")
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._cells):
            return None
        cell = self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell.tooltip or None
        if role == AGENT_ID_ROLE:
            return self._agents[index.row()].id
        if role == STATUS_KEY_ROLE:
            return cell.key or None
        column = index.column()
        if role == Qt.ItemDataRole.BackgroundRole:
            flash = self.flash.brush(self._agents[index.row()].id)
            if flash is not None:
                return flash
        if column == ACTIVITY:
            return activity_look.role_data(cell.key, role, muted=cell.muted)
        if role == Qt.ItemDataRole.DecorationRole and column in (STATUS, BREAKER):
            return status_icon(cell.key)
        if role == Qt.ItemDataRole.ForegroundRole:
            if cell.muted:
                return QBrush(QColor("#9e9e9e"))
            if column == LAST and cell.key in ("failed", "uncertain"):
                return QBrush(QColor(COLOURS[cell.key]))
        if role == Qt.ItemDataRole.BackgroundRole and column in (STATUS, BREAKER) and cell.key in TROUBLE:
            return QBrush(QColor(TROUBLE[cell.key]))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (SUCCESS, P95):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- the adapter's own interface -----------------------------------------------------------
    def agent_at(self, row: int) -> Agent | None:
        return self._agents[row] if 0 <= row < len(self._agents) else None

    def row_of(self, agent_id: str) -> int:
        return next((i for i, a in enumerate(self._agents) if a.id == agent_id), -1)

    def ids(self) -> list[str]:
        return [a.id for a in self._agents]

    def refresh(self, ids: set[str] | None = None) -> int:
        """Recompute the rows of ``ids`` (all when None); returns how many cells changed."""
        changed = 0
        for row, agent in enumerate(self._agents):
            if ids is None or agent.id in ids:
                changed += self._update_row(row, self._compute(agent))
        return changed

    def set_roster(self, roster: Roster) -> None:
        """Merge a new roster in: rows for removed agents go, new ones come in at their place,
        moved ones move, and changed ones update their cells."""
        wanted = list(roster.agents)
        keep = {a.id for a in wanted}
        for row in range(len(self._agents) - 1, -1, -1):
            if self._agents[row].id not in keep:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._agents[row], self._cells[row]
                self.endRemoveRows()
        for target, agent in enumerate(wanted):
            current = self.row_of(agent.id)
            if current == -1:
                self.beginInsertRows(QModelIndex(), target, target)
                self._agents.insert(target, agent)
                self._cells.insert(target, self._compute(agent))
                self.endInsertRows()
                continue
            if current != target:  # current > target: everything before target is already placed
                self.beginMoveRows(QModelIndex(), current, current, QModelIndex(), target)
                self._agents.insert(target, self._agents.pop(current))
                self._cells.insert(target, self._cells.pop(current))
                self.endMoveRows()
            self._agents[target] = agent
            self._update_row(target, self._compute(agent))

    def set_activities(self, activities: Mapping[str, Activity], now: float) -> set[str]:
        """Show ``activities`` (agent id -> Activity) as they are at ``now``; a row whose state
        changed (from one known before) flashes. Returns the agents whose state changed."""
        before, self._activities, self._activities_at = self._activities, activities, now
        changed = set()
        for row, agent in enumerate(self._agents):
            old, new = before.get(agent.id), activities.get(agent.id)
            cells = self._cells[row]  # only the Activity cell is new: the others are read as before
            shown = replace(activity_cell(new or unknown(agent.id), now), muted=not agent.enabled)
            self._update_row(row, (*cells[:ACTIVITY], shown, *cells[ACTIVITY + 1:]))
            if old is not None and new is not None and old.state != new.state:
                changed.add(agent.id)
                self.flash.start(agent.id, activity_look.colour(new.state))
        self.flash.forget(set(self.ids()))
        return changed

    def activity(self, agent_id: str) -> Activity | None:
        return self._activities.get(agent_id)

    # -- internals -------------------------------------------------------------------------------
    def _compute(self, agent: Agent) -> tuple[Cell, ...]:
        activity = activity_cell(self._activities.get(agent.id) or unknown(agent.id), self._activities_at)
        return row_cells(agent, self._live(agent.id), self._stats(agent.id), activity)

    def _repaint_rows(self, ids: set[str]) -> None:
        """Repaint the background of the rows of ``ids`` (their flash moved on), nothing else."""
        last = len(COLUMNS) - 1
        for agent_id in ids:
            row = self.row_of(agent_id)
            if row >= 0:
                self.dataChanged.emit(self.index(row, 0), self.index(row, last), [Qt.ItemDataRole.BackgroundRole])

    def _update_row(self, row: int, cells: tuple[Cell, ...]) -> int:
        old = self._cells[row]
        if old == cells:
            return 0
        self._cells[row] = cells
        return emit_changed_cells(self, row, old, cells)
