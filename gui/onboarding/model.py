"""The onboarding table: one row per enabled agent (captains last), a check box to choose it,
and its wrap-up and onboarding states from ``quarterdeck.core.onboarding.OnboardingProgress``.

Every row starts unchecked, and so does an agent added later: onboarding ends the chosen agents'
chats, so nobody is restarted unless the captain ticks them (All is one click away). Rows change
only when the roster does (removed and inserted, check marks kept by id); a delivery event
repaints only its agent's two state cells.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from quarterdeck.core.models import Agent
from quarterdeck.core.onboarding import STEPS, OnboardingProgress, Plan
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.composer.progress import STATE_COLOURS
from quarterdeck.gui.tablemodel import ColumnsModel

Index = QModelIndex | QPersistentModelIndex
COLOURS = {**STATE_COLOURS, "waiting": "#616161", "skipped": "#757575"}
AGENT, ROLE, WRAPUP, ONBOARDING = range(4)


class OnboardingModel(ColumnsModel):
    COLUMNS = ("Agent", "Role", "Wrap-up", "Onboarding")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.progress = OnboardingProgress()
        self._agents: list[Agent] = []
        # nobody starts checked: onboarding ends each chosen agent's chat, so the captain picks who
        self._checked: set[str] = set()

    # -- Qt's interface --------------------------------------------------------------------------
    def row_total(self) -> int:
        return len(self._agents)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == AGENT:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._agents):
            return None
        agent, column = self._agents[index.row()], index.column()
        if column == AGENT:
            if role == Qt.ItemDataRole.DisplayRole:
                return agent.id
            if role == Qt.ItemDataRole.CheckStateRole:
                return Qt.CheckState.Checked if agent.id in self._checked else Qt.CheckState.Unchecked
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{agent.id} ({agent.transport.kind}): Space checks or unchecks it"
            return None
        if column == ROLE:
            if role == Qt.ItemDataRole.DisplayRole:
                return agent.role or "—"
            return None
        step = STEPS[column - WRAPUP]
        if agent.id not in self.progress.agents:
            return "—" if role == Qt.ItemDataRole.DisplayRole else None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.progress.text(agent.id, step)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(COLOURS.get(self.progress.state(agent.id, step), "#333"))
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or index.column() != AGENT or role != Qt.ItemDataRole.CheckStateRole:
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
        agent_id = self._agents[index.row()].id
        if checked:
            self._checked.add(agent_id)
        else:
            self._checked.discard(agent_id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        return True

    # -- choosing --------------------------------------------------------------------------------
    def ids(self) -> list[str]:
        return [a.id for a in self._agents]

    def checked(self) -> list[str]:
        return [a.id for a in self._agents if a.id in self._checked]

    def set_checked(self, ids: Iterable[str]) -> None:
        """Check exactly ``ids`` (every row's check box repaints)."""
        wanted = set(ids)
        self._checked = {a.id for a in self._agents if a.id in wanted}
        if self._agents:
            self.dataChanged.emit(self.index(0, AGENT), self.index(len(self._agents) - 1, AGENT),
                                  [Qt.ItemDataRole.CheckStateRole])

    def set_roster(self, roster: Roster) -> None:
        """Show the roster's enabled agents, captains last (the order they are onboarded in)."""
        agents = sorted(roster.enabled(), key=lambda a: a.role.strip().lower() == "captain")
        if self._agents:
            self.beginRemoveRows(QModelIndex(), 0, len(self._agents) - 1)
            self._agents = []
            self.endRemoveRows()
        if agents:
            self.beginInsertRows(QModelIndex(), 0, len(agents) - 1)
            self._agents = agents
            self.endInsertRows()
        self._checked &= {a.id for a in agents}

    # -- progress --------------------------------------------------------------------------------
    def start(self, plan: Plan) -> None:
        """A run of ``plan`` begins: its agents wait, the last run's other agents go blank."""
        before = set(self.progress.agents)
        self.progress.start(plan)
        self.agents_changed(before | set(plan.agent_ids))

    def agent_changed(self, agent_id: str | None) -> None:
        """Repaint ``agent_id``'s two state cells."""
        row = next((i for i, a in enumerate(self._agents) if a.id == agent_id), None)
        if row is not None:
            self.dataChanged.emit(self.index(row, WRAPUP), self.index(row, ONBOARDING),
                                  [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                                   Qt.ItemDataRole.ForegroundRole])

    def agents_changed(self, agent_ids: Iterable[str]) -> None:
        for agent_id in agent_ids:
            self.agent_changed(agent_id)

    def state(self, agent_id: str, step: str) -> str:
        return self.progress.state(agent_id, step)
