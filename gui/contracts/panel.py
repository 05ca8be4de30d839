"""The Contracts panel: every contract in a table, each agent's tally beside it, actions above.

Data flow: a query runs on ``ctx.jobs`` after every action, when the filters change, and every
:data:`POLL_MS` while the panel is shown (agents claim and complete from their own processes);
both tables merge its result in, so nothing repaints when nothing changed. The actions open a
dialog (gui/contracts/dialogs.py) whose values become one store call in the background; a refusal
(claimed by someone else meanwhile) is shown in the dialog. "Send to agent" queues the contract as
a message through ``ctx.submit``, like the composer (gui/contracts/sending.py).
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from quarterdeck.core.contracts import Board, Contract, ContractStore, allowed
from quarterdeck.gui.contracts.changes import DONE_TEXT, ContractChanges
from quarterdeck.gui.contracts.dialogs import AgentDialog, NewContractDialog, NoteDialog
from quarterdeck.gui.contracts.filters import FilterBar, Filters
from quarterdeck.gui.contracts.model import ContractsModel, StatusModel
from quarterdeck.gui.contracts.sending import ContractSender
from quarterdeck.gui.panel import Panel
from quarterdeck.gui.tablemodel import table_view

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.gui.context import AppContext

POLL_MS = 2000
# action: (button text, command palette text, tooltip, panel-local keys)
ACTIONS = {
    "create": ("New…", "New contract…", "Create a contract", "Ctrl+N"),
    "assign": ("Assign…", "Assign the selected contract…", "Mean the selected open contract for an agent", ""),
    "claim": ("Claim…", "Claim the selected contract…", "Claim the selected open contract on an agent's behalf",
              ""),
    "complete": ("Complete…", "Complete the selected contract…",
                 "Mark the selected claimed contract done, with a note", "Ctrl+D"),
    "cancel": ("Cancel…", "Cancel the selected contract…", "Drop the selected open or claimed contract", "Del"),
    "send": ("Send to agent", "Send the selected contract to its agent",
             "Send the selected contract to its agent, through the rules and the outbox", "Ctrl+E"),
}


class ContractsPanel(Panel):
    NAME = "contracts"
    TITLE = "Contracts"
    AREA = Qt.DockWidgetArea.BottomDockWidgetArea
    TAB_WITH = "history"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.store = ContractStore(ctx.store.path)  # opens the file on first use, on the jobs thread
        self.board: Board | None = None
        self._loading = False
        self._reload_wanted = False
        self._select_id: int | None = None
        self.filter_bar = FilterBar(ctx.settings, ctx.roster.ids(), self)
        self.count_label = QLabel("Loading…", self)
        self.count_label.setObjectName("contracts-count")
        self.model = ContractsModel(self)
        self.view = table_view(self, self.model, "contracts-table", (46, 300, 80, 90, 56, 90, 200))
        self.view.setToolTip("Agents claim and complete contracts themselves with `quarterdeck contracts`; "
                             "this table follows within two seconds")
        self.status_model = StatusModel(self)
        self.status_view = table_view(self, self.status_model, "contracts-status", (90, 50, 70, 50, 92, 56))
        self.status_view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.status_view.setToolTip("Each agent's contracts (cancelled ones do not count)")
        self.outcome_label = QLabel("", self)
        self.outcome_label.setObjectName("contracts-outcome")
        self.outcome_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sending = ContractSender(ctx, self.store, self)
        self.changes = ContractChanges(ctx.jobs, self.store, self)
        self.buttons: dict[str, QPushButton] = {}
        self.actions_by_name: dict[str, QAction] = {}
        self._build_actions()
        self._layout()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll_timeout)  # runs while the panel is shown
        self.filter_bar.sig_filters_changed.connect(self._on_filter_bar_filters_changed)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.sending.sig_outcome.connect(self.show_outcome)
        self.sending.sig_marked.connect(self._on_contract_changed)
        self.changes.sig_outcome.connect(self.show_outcome)
        self.changes.sig_refused.connect(self._on_changes_refused)
        self.changes.sig_changed.connect(self._on_contract_changed)
        ctx.sig_roster_changed.connect(self._on_ctx_roster_changed)
        self._update_actions()  # the first query runs when the panel is first shown

    # -- building --------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        slots = {"create": self.new_contract, "assign": partial(self.open_action, "assign"),
                 "claim": partial(self.open_action, "claim"), "complete": partial(self.open_action, "complete"),
                 "cancel": partial(self.open_action, "cancel"), "send": self.send_selected}
        for name, (text, command, tip, keys) in ACTIONS.items():
            action = QAction(command, self)
            action.setObjectName(f"action-contracts-{name}")
            action.setToolTip(tip)
            action.triggered.connect(slots[name])
            self.actions_by_name[name] = action
            button = QPushButton(text, self)
            button.setObjectName(f"contracts-{name}-button")
            button.setToolTip(f"{tip} ({keys})" if keys else tip)
            button.clicked.connect(slots[name])
            self.buttons[name] = button
            if keys:  # panel-local: a window-wide Ctrl+Return or Del would clash with other panels
                shortcut = QShortcut(QKeySequence(keys), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slots[name])
        self.actions_by_name["create"].setShortcut(QKeySequence("Ctrl+Shift+N"))  # from anywhere
        self.buttons["send"].setStyleSheet("QPushButton:enabled { font-weight: bold; }")
        self.refresh_action = QAction("Refresh contracts", self)
        self.refresh_action.setObjectName("action-contracts-refresh")
        self.refresh_action.triggered.connect(self.refresh)
        refresh = QShortcut(QKeySequence("F5"), self)
        refresh.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh.activated.connect(self.refresh)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.filter_bar, 1)
        top.addWidget(self.count_label)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        for name, button in self.buttons.items():
            if name == "send":
                bar.addStretch(1)
            bar.addWidget(button)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("contracts-splitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.status_view)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([880, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.outcome_label)

    def commands(self) -> list[QAction]:
        return [*self.actions_by_name.values(), self.refresh_action]

    # -- reading ---------------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Query again (in the background); one query at a time, the latest filters win."""
        if self._loading:
            self._reload_wanted = True
            return
        self._loading = True
        filters = self.filter_bar.filters()
        self.ctx.jobs.run(partial(self.store.board, agent=filters.agent, state=filters.state),
                          partial(self._loaded, filters), self._load_failed, owner=self)

    def _loaded(self, filters: Filters, board: Board) -> None:
        self._loading = False
        if self._reload_wanted or filters != self.filter_bar.filters():
            self._reload_wanted = False
            self.refresh()
            if filters != self.filter_bar.filters():
                return
        self.board = board
        self.model.set_rows(board.contracts)
        self.status_model.set_rows(board.status)
        self.count_label.setText(board.summary())
        self.filter_bar.set_agents([*self.ctx.roster.ids(), *(s.agent for s in board.status if s.agent)])
        if self._select_id is not None and (row := self.model.row_of(self._select_id)) >= 0:
            self.view.selectRow(row)
            self._select_id = None
        self._update_actions()

    def _load_failed(self, error: BaseException) -> None:
        self._loading = False
        self.count_label.setText("Contracts unavailable")
        self.show_outcome(f"Could not read the contracts: {error}")

    def selected(self) -> Contract | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.contract(rows[0].row()) if rows else None

    def _update_actions(self) -> None:
        contract = self.selected()
        for name in ACTIONS:
            enabled = name == "create" or (contract is not None and allowed(contract, name))
            self.buttons[name].setEnabled(enabled)
            self.actions_by_name[name].setEnabled(enabled)

    # -- actions ---------------------------------------------------------------------------------
    @Slot()
    def new_contract(self) -> None:
        self.bring_forward()
        self.changes.open(NewContractDialog(self._agents(), self))

    def open_action(self, action: str) -> None:
        contract = self.selected()
        if contract is None or not allowed(contract, action):
            self.show_outcome("Select a contract first." if contract is None else
                              f"Contract #{contract.id} is {contract.state}: it cannot be {DONE_TEXT[action]} now.")
            return
        if action in ("assign", "claim"):
            self.changes.open(AgentDialog(action, contract, self._agents(), self))
        else:
            self.changes.open(NoteDialog(action, contract, self))

    @Slot()
    def send_selected(self) -> None:
        contract = self.selected()
        if contract is None or not allowed(contract, "send"):
            self.show_outcome("Select an open or claimed contract that is assigned to an agent."
                              if contract is None or contract.active else
                              f"Contract #{contract.id} is {contract.state}: there is nothing to send.")
            return
        if contract.assignee not in self.ctx.roster:
            self.show_outcome(f"{contract.assignee} is not on the roster: add the agent or reassign the contract.")
            return
        self.sending.send(contract)

    def _agents(self) -> list[str]:
        return [agent.id for agent in self.ctx.roster.enabled()]

    @Slot(str)
    def show_outcome(self, text: str) -> None:
        self.outcome_label.setText(text)
        self.ctx.sig_status.emit(f"Contracts: {text}")

    # -- signals ---------------------------------------------------------------------------------
    @Slot()
    def _on_poll_timeout(self) -> None:
        if not self._loading:
            self.refresh()

    @Slot(object)
    def _on_filter_bar_filters_changed(self, _filters: Filters) -> None:
        self.refresh()

    @Slot(QItemSelection, QItemSelection)
    def _on_view_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_actions()

    @Slot(str)
    def _on_changes_refused(self, text: str) -> None:
        self.show_outcome(text)
        self.refresh()  # the refusal may mean someone else changed it: show what is there now

    @Slot(object)
    def _on_contract_changed(self, contract: Contract) -> None:
        self._select_id = contract.id
        self.refresh()

    @Slot(object)
    def _on_ctx_roster_changed(self, roster: Roster) -> None:
        agents = [*roster.ids(), *(s.agent for s in (self.board.status if self.board else ()) if s.agent)]
        self.filter_bar.set_agents(agents)

    # -- lifetime --------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self._poll.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._poll.stop()  # tabbed away or closed: nobody is looking, so nobody polls

    def shutdown(self) -> None:
        self._poll.stop()
        self.changes.close()
        self.ctx.jobs.run(self.store.close)  # after every queued read and write: the runner is serial
