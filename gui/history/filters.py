"""The history's filter bar: agent, state, time range and a search box.

A combo applies at once; typing applies 300 ms after the last key (Enter applies now), so a
word typed quickly costs one query, not one per letter. The bar only says *what* is wanted, as a
:class:`quarterdeck.core.store.query.Filters`; the model does the asking.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from quarterdeck.core.store.paging import since_for
from quarterdeck.core.store.query import Filters
from quarterdeck.core.store.rows import State

SEARCH_DEBOUNCE_MS = 300
ANY_AGENT = "Any agent"
SPAN_LABELS = (("all", "All time"), ("hour", "Last hour"), ("today", "Today"), ("week", "Last 7 days"))


class FilterBar(QWidget):
    sig_filters_changed = Signal(object)  # quarterdeck.core.store.query.Filters

    def __init__(self, agent_ids: Sequence[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent = QComboBox(self)
        self.agent.setObjectName("history-agent")
        self.agent.setToolTip("Show the deliveries to one agent only")
        self.agent.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.set_agents(agent_ids)
        self.state = QComboBox(self)
        self.state.setObjectName("history-state")
        self.state.setToolTip("Show deliveries in one state only")
        self.state.addItem("Any state", None)
        for state in State:
            self.state.addItem(state.value.capitalize(), state.value)
        self.span = QComboBox(self)
        self.span.setObjectName("history-span")
        self.span.setToolTip("Only deliveries queued within this time")
        for key, label in SPAN_LABELS:
            self.span.addItem(label, key)
        self.search = QLineEdit(self)
        self.search.setObjectName("history-search")
        self.search.setPlaceholderText('Search messages: all words must occur; "exact phrase"')
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Case-insensitive; every word must appear somewhere in the message")
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        search_label = QLabel("&Search", self)
        search_label.setBuddy(self.search)
        layout.addWidget(search_label)
        layout.addWidget(self.search, 1)
        layout.addWidget(self.agent)
        layout.addWidget(self.state)
        layout.addWidget(self.span)
        QWidget.setTabOrder(self.search, self.agent)  # left to right, as laid out
        QWidget.setTabOrder(self.agent, self.state)
        QWidget.setTabOrder(self.state, self.span)
        self.agent.currentIndexChanged.connect(self._on_combo_changed)
        self.state.currentIndexChanged.connect(self._on_combo_changed)
        self.span.currentIndexChanged.connect(self._on_combo_changed)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self._on_search_return_pressed)

    def filters(self, now: datetime | None = None) -> Filters:
        """What the bar asks for; time ranges end ``now`` (local time by default)."""
        moment = now if now is not None else datetime.now().astimezone()
        text = self.search.text().strip() or None
        return Filters(agent=self.agent.currentData(), state=self.state.currentData(), text=text,
                       since=since_for(self.span.currentData(), moment))

    def set_agents(self, agent_ids: Sequence[str]) -> None:
        """Offer the roster's agents; a chosen agent that left the roster stays chosen."""
        current = self.agent.currentData()
        names = list(agent_ids)
        if current is not None and current not in names:
            names.append(current)
        self.agent.blockSignals(True)
        self.agent.clear()
        self.agent.addItem(ANY_AGENT, None)
        for name in names:
            self.agent.addItem(name, name)
        self.agent.setCurrentIndex(max(0, self.agent.findData(current)) if current is not None else 0)
        self.agent.blockSignals(False)

    def apply(self) -> None:
        self._debounce.stop()
        self.sig_filters_changed.emit(self.filters())

    @Slot(int)
    def _on_combo_changed(self, _index: int) -> None:
        self.apply()

    @Slot(str)
    def _on_search_text_changed(self, _text: str) -> None:
        self._debounce.start()

    @Slot()
    def _on_search_return_pressed(self) -> None:
        self.apply()

    @Slot()
    def _on_debounce_timeout(self) -> None:
        self.sig_filters_changed.emit(self.filters())

    def shutdown(self) -> None:
        self._debounce.stop()
