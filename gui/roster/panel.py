"""The Roster panel: every agent, how it is reached, and what is happening to it right now.

By default the whole fleet shows as compact tiles (quarterdeck.gui.roster.fleet_view), sized so 8 to 20
agents fit at once; **Table** switches to the full table with every column (screen targets
included). Both show one ``RosterModel``, fed by ``LiveStatus`` from real delivery and breaker
events and the agents' recorded activity only. The selected tiles are the composer's recipients
(quarterdeck.gui.roster.fleet_link). Around them: a toolbar and a context menu to add, edit and
remove agents, capture a screen point, show every target on screen, force a breaker open or reset
it, and import the original coordinates file. The same actions are offered to the command
palette; with the tiles or the table focused, Enter edits, Delete removes and Insert adds.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QModelIndex, QPoint, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QLabel, QMenu, QStackedWidget, QToolBar, QVBoxLayout, QWidget

from quarterdeck.core.resilience import BreakerEvent
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.panel import Panel
from quarterdeck.gui.roster.actions import ACTIONS, build_actions, build_context_menu, update_actions
from quarterdeck.gui.roster.editing import RosterEditor
from quarterdeck.gui.roster.fleet_facts import FleetFacts
from quarterdeck.gui.roster.fleet_link import FleetLink, composer_recipients
from quarterdeck.gui.roster.fleet_view import FleetView
from quarterdeck.gui.roster.live import LiveStatus
from quarterdeck.gui.roster.machines_bar import MachinesBar
from quarterdeck.gui.roster.model import ACTIVITY, AGENT_ID_ROLE, MACHINE
from quarterdeck.gui.roster.overlay import TargetOverlay
from quarterdeck.gui.roster.widgets import Banner, RosterTable

if TYPE_CHECKING:
    from quarterdeck.gui.context import AppContext


class RosterPanel(Panel):
    TITLE = "Roster"
    NAME = "roster"
    AREA = Qt.DockWidgetArea.LeftDockWidgetArea

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *, capture_seconds: int = 3) -> None:
        super().__init__(ctx, parent)
        self.live = LiveStatus(ctx, self)
        self.model = self.live.model
        self.editor = RosterEditor(ctx, self, capture_seconds=capture_seconds)
        self.overlay = TargetOverlay(self)
        self.facts = FleetFacts(ctx, self)
        self.actions_by_name: dict[str, QAction] = build_actions(self)
        self._connect_actions()
        self._build()
        self.link = FleetLink(self.fleet, self.table, ctx.sig_status.emit, self)
        self.facts.sig_problem.connect(self._on_facts_problem)
        self.editor.sig_reported.connect(self._on_editor_reported)
        self.editor.sig_capture_ticked.connect(self._on_editor_capture_ticked)
        self.editor.sig_capture_ended.connect(self._on_editor_capture_ended)
        self.overlay.sig_visibility_changed.connect(self._on_overlay_visibility_changed)
        ctx.sig_roster_changed.connect(self._on_ctx_roster_changed)
        ctx.sig_fleet_changed.connect(self._update_actions)
        ctx.sig_agent_focused.connect(self._on_ctx_agent_focused)
        ctx.delivery.sig_breaker_event.connect(self._on_delivery_breaker_event)
        self._update_actions()
        self.show_table(ctx.settings.get("roster/view", "fleet") == "table")
        QTimer.singleShot(0, self.link_composer)  # the main window makes the composer after this panel

    # -- building --------------------------------------------------------------------------------
    def _connect_actions(self) -> None:
        act = self.actions_by_name
        act["table"].toggled.connect(self.show_table)
        act["add"].triggered.connect(self.editor.add)
        act["edit"].triggered.connect(self._on_edit_triggered)
        act["remove"].triggered.connect(self._on_remove_triggered)
        act["capture_chat"].triggered.connect(self._on_capture_chat_triggered)
        act["capture_onboarding"].triggered.connect(self._on_capture_onboarding_triggered)
        act["targets"].toggled.connect(self._on_targets_toggled)
        act["force_open"].triggered.connect(self._on_force_open_triggered)
        act["reset"].triggered.connect(self._on_reset_triggered)
        act["import"].triggered.connect(self.editor.choose_import_file)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        bar = QToolBar("Roster", self)
        bar.setObjectName("roster-toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        groups = (("table",), ("add", "edit", "remove"), ("capture_chat", "targets"), ("force_open", "reset"),
                  ("import",))
        for i, names in enumerate(groups):
            if i:
                bar.addSeparator()
            for name in names:
                bar.addAction(self.actions_by_name[name])
        self.toolbar = bar
        layout.addWidget(bar)
        self.memory_note = QLabel(("Demo roster" if self.ctx.demo is not None else "No roster file is open")
                                  + ": edits are not saved to a file and last until you quit.")
        self.memory_note.setObjectName("roster-memory-note")
        self.memory_note.setStyleSheet("color: #8a6d00; background: #fff8e1; padding: 4px 6px; border-radius: 3px;")
        self.memory_note.setVisible(self.ctx.roster_path is None)
        layout.addWidget(self.memory_note)
        self.capture_bar = Banner("roster-capture", "#e3f2fd", "Cancel", self.editor.cancel_capture, self)
        layout.addWidget(self.capture_bar)
        self.message_bar = Banner("roster-message", "#f5f5f5", "×", self._on_message_closed, self)
        layout.addWidget(self.message_bar)
        self.machines_bar = MachinesBar(self.ctx, self)  # with a broker: the relays and their problems
        layout.addWidget(self.machines_bar)
        self.table = RosterTable(self.actions_by_name, self)
        self.table.setModel(self.model)
        self.table.steady_column(ACTIVITY, "rate-limited · 59 min")
        self.table.setColumnHidden(MACHINE, self.ctx.session.machines is None)  # one machine: no column
        self.table.customContextMenuRequested.connect(self._on_table_context_menu_requested)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.fleet = FleetView(self.actions_by_name, self)
        self.fleet.setModel(self.model)
        self.fleet.set_facts(self.facts)
        self.fleet.customContextMenuRequested.connect(self._on_fleet_context_menu_requested)
        self.fleet.doubleClicked.connect(self._on_table_double_clicked)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.fleet)
        self.stack.addWidget(self.table)
        layout.addWidget(self.stack, 1)

    def show_table(self, table: bool) -> None:
        """The full table (every column) instead of the tiles, or back; remembered."""
        self.stack.setCurrentWidget(self.table if table else self.fleet)
        self.actions_by_name["table"].setChecked(table)
        self.ctx.settings.set("roster/view", "table" if table else "fleet", "fleet")
        self.updateGeometry()

    def link_composer(self) -> bool:
        """Make the selected tiles the composer's recipients (when this window has a composer)."""
        return self.link.attach(composer_recipients(self))

    def sizeHint(self) -> QSize:
        """Tall enough for the whole fleet: its tiles at this width, or every row of the table."""
        hint = super().sizeHint()
        tiles = self.stack.currentWidget() is self.fleet
        fleet = self.fleet.sizeHint().height() if tiles else self.table.rows_height()
        # the toolbar and banner around the view (as laid out: the stack's hint the layout cached may be stale)
        stack = self.stack.height() if self.isVisible() else self.stack.sizeHint().height()
        chrome = (self.height() if self.isVisible() else hint.height()) - stack
        return QSize(hint.width(), chrome + fleet)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.link_composer()

    # -- Panel interface -------------------------------------------------------------------------
    def commands(self) -> list[QAction]:
        return [self.actions_by_name[name] for name, *_ in ACTIONS]

    def shutdown(self) -> None:
        self.live.stop()
        self.facts.shutdown()
        self.editor.cancel_capture()
        self.overlay.hide_targets()

    # -- selection -------------------------------------------------------------------------------
    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(AGENT_ID_ROLE) if rows else None

    def select_agent(self, agent_id: str) -> bool:
        row = self.model.row_of(agent_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        self.fleet.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)
        return True

    def _update_actions(self) -> None:
        agent_id = self.selected_id()
        agent = self.ctx.roster.get(agent_id) if agent_id and agent_id in self.ctx.roster else None
        machine = self.live.shown.machine(agent_id) if agent is None and agent_id else ""
        update_actions(self.actions_by_name, agent_id, agent, machine=machine, capturing=self.editor.capture.active,
                       forced=bool(agent_id) and self._breaker_state(agent_id or "") == "forced_open")

    def _breaker_state(self, agent_id: str) -> str:
        return self.live.board.get(agent_id).breaker.state

    # -- slots -----------------------------------------------------------------------------------
    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_actions()

    @Slot(QModelIndex)
    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        self.ctx.sig_agent_focused.emit(index.data(AGENT_ID_ROLE))

    @Slot(str)
    def _on_ctx_agent_focused(self, agent_id: str) -> None:
        self.select_agent(agent_id)

    @Slot(object)
    def _on_ctx_roster_changed(self, roster: Roster) -> None:
        self.overlay.update_roster(roster)
        self._update_actions()

    @Slot(object)
    def _on_delivery_breaker_event(self, event: BreakerEvent) -> None:
        if event.kind in ("state_transition", "reset") and event.breaker == self.selected_id():
            self._update_actions()

    @Slot(QPoint)
    def _on_table_context_menu_requested(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if index.isValid():
            self.table.selectRow(index.row())
        menu = self.context_menu()
        menu.popup(self.table.viewport().mapToGlobal(pos))

    @Slot(QPoint)
    def _on_fleet_context_menu_requested(self, pos: QPoint) -> None:
        index = self.fleet.indexAt(pos)
        if index.isValid() and not self.fleet.selectionModel().isSelected(index):
            self.fleet.setCurrentIndex(index)  # a right-click on an unselected tile selects it alone
        self.context_menu().popup(self.fleet.viewport().mapToGlobal(pos))

    def context_menu(self) -> QMenu:
        self.menu = build_context_menu(self, self.actions_by_name)
        return self.menu

    @Slot()
    def _on_edit_triggered(self) -> None:
        if (agent_id := self.selected_id()) is not None:
            self.editor.edit(agent_id)

    @Slot()
    def _on_remove_triggered(self) -> None:
        if (agent_id := self.selected_id()) is not None:
            self.editor.remove(agent_id)

    @Slot()
    def _on_capture_chat_triggered(self) -> None:
        if (agent_id := self.selected_id()) is not None:
            self.editor.start_capture(agent_id, "chat")

    @Slot()
    def _on_capture_onboarding_triggered(self) -> None:
        if (agent_id := self.selected_id()) is not None:
            self.editor.start_capture(agent_id, "onboarding")

    @Slot(bool)
    def _on_targets_toggled(self, checked: bool) -> None:
        if checked:
            self.overlay.show_targets(self.ctx.roster)
        else:
            self.overlay.hide_targets()

    @Slot(bool)
    def _on_overlay_visibility_changed(self, visible: bool) -> None:
        action = self.actions_by_name["targets"]
        if action.isChecked() != visible:  # hidden by Esc: the toggle follows
            action.setChecked(visible)
        action.setText("Hide targets" if visible else "Show targets")

    @Slot()
    def _on_force_open_triggered(self) -> None:
        if (agent_id := self.selected_id()) is not None:
            self.ctx.delivery.dispatcher.breakers.get(agent_id).force_open()
            self.ctx.sig_status.emit(f"{agent_id}: breaker forced open; nothing is delivered until reset")
            self._update_actions()

    @Slot()
    def _on_reset_triggered(self) -> None:
        if (agent_id := self.selected_id()) is not None:
            self.ctx.delivery.dispatcher.breakers.get(agent_id).reset()
            self.ctx.sig_status.emit(f"{agent_id}: breaker reset")
            self._update_actions()

    @Slot(str, bool)
    def _on_editor_reported(self, text: str, error: bool) -> None:
        self.message_bar.say(text, error=error)
        self.ctx.sig_status.emit(text.splitlines()[0])

    @Slot()
    def _on_message_closed(self) -> None:
        self.message_bar.dismiss()

    @Slot(str)
    def _on_facts_problem(self, text: str) -> None:
        self.message_bar.say(text, error=True)

    @Slot(str)
    def _on_editor_capture_ticked(self, text: str) -> None:
        self.capture_bar.say(text)
        self._update_actions()

    @Slot()
    def _on_editor_capture_ended(self) -> None:
        self.capture_bar.dismiss()
        self._update_actions()
