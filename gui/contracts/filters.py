"""The filter row above the contracts table: which state, which agent. Remembered between runs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

if TYPE_CHECKING:  # annotations only
    from quarterdeck.gui.settings import Settings

STATES = (("All states", None), ("Active: open or claimed", "active"), ("Open", "open"),
          ("Claimed", "claimed"), ("Done", "done"), ("Cancelled", "cancelled"))
ALL_AGENTS = "All agents"


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    agent: str | None = None


class FilterBar(QWidget):
    sig_filters_changed = Signal(object)  # Filters

    def __init__(self, settings: Settings, agents: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.state_combo = QComboBox(self)
        self.state_combo.setObjectName("contracts-state-filter")
        self.state_combo.setToolTip("Show contracts in this state")
        for text, value in STATES:
            self.state_combo.addItem(text, value)
        self.agent_combo = QComboBox(self)
        self.agent_combo.setObjectName("contracts-agent-filter")
        self.agent_combo.setToolTip("Show one agent's contracts")
        self.agent_combo.setMinimumContentsLength(12)
        state = settings.get("contracts/state", "", str) or None
        self.state_combo.setCurrentIndex(max(self.state_combo.findData(state), 0))
        self.set_agents(agents, keep=settings.get("contracts/agent", "", str) or None)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for label_text, combo in (("&State", self.state_combo), ("A&gent", self.agent_combo)):
            label = QLabel(label_text, self)
            label.setBuddy(combo)
            layout.addWidget(label)
            layout.addWidget(combo)
            layout.addSpacing(6)
        layout.addStretch(1)
        self.state_combo.currentIndexChanged.connect(self._on_combo_index_changed)
        self.agent_combo.currentIndexChanged.connect(self._on_combo_index_changed)

    def filters(self) -> Filters:
        return Filters(self.state_combo.currentData(), self.agent_combo.currentData())

    def set_agents(self, agents: list[str], *, keep: str | None = None) -> None:
        """List ``agents`` (sorted, no repeats), keeping the chosen one even if it left the roster."""
        current = keep if keep is not None else self.agent_combo.currentData()
        wanted = sorted({*agents, *([current] if current else [])}, key=str.lower)
        if [self.agent_combo.itemData(i) for i in range(1, self.agent_combo.count())] == wanted:
            return
        self.agent_combo.blockSignals(True)  # the filter itself does not change
        self.agent_combo.clear()
        self.agent_combo.addItem(ALL_AGENTS, None)
        for agent in wanted:
            self.agent_combo.addItem(agent, agent)
        self.agent_combo.setCurrentIndex(max(self.agent_combo.findData(current), 0) if current else 0)
        self.agent_combo.blockSignals(False)

    @Slot(int)
    def _on_combo_index_changed(self, _index: int) -> None:
        filters = self.filters()
        self._settings.set("contracts/state", filters.state or "", "")
        self._settings.set("contracts/agent", filters.agent or "", "")
        self.sig_filters_changed.emit(filters)
