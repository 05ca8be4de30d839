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
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QIcon

from quarterdeck.core.activity.state import Activity, unknown
from quarterdeck.core.models import Agent
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.roster.status import AgentLive
from quarterdeck.gui.activity import cells as activity_look
from quarterdeck.gui.activity.flash import RowFlash
from quarterdeck.gui.roster.cells import (
    ACTIVITY,
    AGENT,
    AGENT_ID_ROLE,
    BREAKER,
    COLOURS,
    COLUMNS,
    FIGURES,
    LAST,
    MACHINE,
    P95,
    ROLE,
    STATUS,
    STATUS_KEY_ROLE,
    SUCCESS,
    TARGET,
    TRANSPORT,
    TROUBLE,
    Cell,
    activity_cell,
    row_cells,
)
from quarterdeck.gui.roster.placement import Where
from quarterdeck.gui.tablemodel import emit_changed_cells

__all__ = ["ACTIVITY", "AGENT", "AGENT_ID_ROLE", "BREAKER", "COLOURS", "COLUMNS", "LAST", "MACHINE", "P95", "ROLE",
           "STATUS", "STATUS_KEY_ROLE", "SUCCESS", "TARGET", "TRANSPORT", "TROUBLE", "Cell", "RosterModel",
           "activity_cell", "row_cells", "status_icon"]

Index = QModelIndex | QPersistentModelIndex


def status_icon(key: str, _cache: dict[str, QIcon] = {}) -> QIcon:  # noqa: B006 (a deliberate cache)
    """A filled dot in the status colour; a hollow ring for quiet states."""
    icon = _cache.get(key)
    if icon is None:
        quiet = key in ("idle", "closed", "disabled", "cancelled")
        icon = _cache[key] = activity_look.paint_dot(QColor(COLOURS.get(key, "#9e9e9e")), not quiet, 130)
    return icon


class RosterModel(QAbstractTableModel):
    """See the module docstring. ``live(agent_id)`` and ``stats(agent_id)`` feed the status cells,
    ``where(agent_id)`` the Machine column (None: one machine, the column stays empty)."""

    def __init__(self, roster: Roster, live: Callable[[str], AgentLive],
                 stats: Callable[[str], dict[str, Any]], parent: QObject | None = None,
                 where: Callable[[str], Where | None] = lambda _id: None) -> None:
        super().__init__(parent)
        self._live = live
        self._stats = stats
        self._where = where
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
            if cell.key in ("conflict", "stale"):  # an id on two machines; a relay not answering
                return QBrush(QColor("#c62828" if cell.key == "conflict" else "#616161"))
        marked = (AGENT, MACHINE, STATUS, BREAKER)
        if role == Qt.ItemDataRole.BackgroundRole and column in marked and cell.key in TROUBLE:
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
        return row_cells(agent, self._live(agent.id), self._stats(agent.id), activity, self._where(agent.id))

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
