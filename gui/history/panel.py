"""The History panel: every delivery in a lazy table, filters above it, the selected message beside it.

Data flow: the filter bar says what is wanted, :class:`HistoryModel` pages it in from SQLite on
``ctx.jobs``, and the detail pane reads the selected message the same way. New and changed
deliveries reach the table from the app's own signals (``sig_submitted`` and each delivery
event), gathered for :data:`REFRESH_MS` so a burst of events costs one query, not one each.

Resending requeues a message's failed and uncertain deliveries in the background
(:func:`quarterdeck.core.store.resend.resend_failed`), lifts a Stop all as any send does, and wakes the
dispatcher.
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.store.resend import ResendOutcome, resend_failed
from quarterdeck.gui.history.columns import COLUMNS, MACHINE_COLUMN, STATE_COLUMN, state_width
from quarterdeck.gui.history.detail import DetailPane
from quarterdeck.gui.history.filters import FilterBar
from quarterdeck.gui.history.frozen import FrozenColumns
from quarterdeck.gui.history.message_column import MessageColumn
from quarterdeck.gui.history.model import COUNT_CAP, HistoryModel
from quarterdeck.gui.panel import Panel
from quarterdeck.gui.tablemodel import table_view

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.compose.submit import Submission
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.store.query import Filters
    from quarterdeck.gui.context import AppContext

REFRESH_MS = 500
FROZEN_COLUMNS = 2  # Time and Agent: they stay in view when the table scrolls sideways
COUNT_TIP = "Deliveries matching the filters, and how many are loaded so far"


class HistoryPanel(Panel):
    NAME = "history"
    TITLE = "History"
    AREA = Qt.DockWidgetArea.BottomDockWidgetArea

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._pending: set[int] = set()  # deliveries heard of since the last refresh
        self._pending_messages: set[str] = set()
        self._agents = ctx.fleet.ids()  # with relays: every machine's agents
        self.filter_bar = FilterBar(self._agents, self)
        self.count_label = QLabel("Counting…", self)
        self.count_label.setObjectName("history-count")
        self.count_label.setToolTip(COUNT_TIP)
        self.model = HistoryModel(ctx.jobs, ctx.store, parent=self)
        self.view = self._build_view()
        self.detail = DetailPane(ctx, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("history-splitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([1000, 500])
        top = QHBoxLayout()
        top.addWidget(self.filter_bar, 1)
        top.addSpacing(8)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self._on_refresh_timer_timeout)
        self._build_actions()
        self._restore()
        self.filter_bar.sig_filters_changed.connect(self._on_filter_bar_filters_changed)
        self.model.sig_count_changed.connect(self._on_model_count_changed)
        self.model.sig_page_loaded.connect(self._on_model_page_loaded)
        self.model.sig_load_failed.connect(self._on_model_load_failed)
        self.model.modelReset.connect(self._on_model_reset)
        self.view.selectionModel().currentRowChanged.connect(self._on_view_current_row_changed)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.detail.sig_resend_requested.connect(self._on_detail_resend_requested)
        ctx.sig_submitted.connect(self._on_ctx_submitted)
        ctx.sig_fleet_changed.connect(self._on_ctx_fleet_changed)
        ctx.delivery.sig_delivery_event.connect(self._on_delivery_event)
        ctx.sig_outbox_changed.connect(self._on_outbox_changed)
        self.model.set_filters(self.filter_bar.filters())

    def _build_view(self) -> QTableView:
        view = table_view(self, self.model, "history-table", tuple(c.width for c in COLUMNS), multi=True)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.horizontalHeader().setToolTip(
            "Newest first; more rows load as you scroll. In the history, F5 refreshes and "
            "Ctrl+R resends the failed deliveries of the selected messages. The message column "
            "takes the width left; select a row to read all of it.")
        self.message_column = MessageColumn(view)
        self._fit_columns(view.horizontalHeader())
        self.frozen = FrozenColumns(view, FROZEN_COLUMNS)
        return view

    def _fit_columns(self, header: QHeaderView) -> None:
        """The columns stay resizable; Message takes what the others leave (``MessageColumn``)."""
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        fit = state_width((header.parentWidget() or header).fontMetrics())  # no state is cut, a saved width either
        header.resizeSection(STATE_COLUMN, max(header.sectionSize(STATE_COLUMN), fit))
        self.message_column.fit()

    def _build_actions(self) -> None:
        self.focus_action = QAction("Focus history search", self)
        self.focus_action.setObjectName("action-history-search")
        self.focus_action.setShortcut(QKeySequence("Ctrl+H"))
        self.focus_action.triggered.connect(self.focus_search)
        self.resend_action = QAction("Resend failed deliveries of the selected history messages", self)
        self.resend_action.setObjectName("action-history-resend")
        self.resend_action.setEnabled(False)
        self.resend_action.triggered.connect(self.resend_selected)
        self.refresh_action = QAction("Refresh history", self)
        self.refresh_action.setObjectName("action-history-refresh")
        self.refresh_action.triggered.connect(self.reload)
        # Panel-local keys: window-wide F5 or Ctrl+R could clash with another panel's.
        for keys, slot in (("F5", self.reload), ("Ctrl+R", self.resend_selected)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def commands(self) -> list[QAction]:
        return [self.focus_action, self.resend_action, self.refresh_action]

    # -- commands ----------------------------------------------------------------------------
    @Slot()
    def focus_search(self) -> None:
        self.bring_forward()
        self.filter_bar.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_bar.search.selectAll()

    @Slot()
    def reload(self) -> None:
        """Start over with the current filters (a time range like "last hour" moves on to now)."""
        self.model.set_filters(self.filter_bar.filters())

    def selected_message_ids(self) -> list[str]:
        rows = sorted(index.row() for index in self.view.selectionModel().selectedRows())
        return list(dict.fromkeys(self.model.line(row).message_id for row in rows))

    @Slot()
    def resend_selected(self) -> None:
        self.resend(self.selected_message_ids())

    @Slot(str)
    def _on_detail_resend_requested(self, message_id: str) -> None:
        self.resend([message_id])

    def resend(self, message_ids: list[str]) -> None:
        if not message_ids:
            self.detail.show_outcome("Select a delivery first.")
            return
        self.detail.show_outcome("Resending…")
        self.ctx.jobs.run(partial(resend_failed, self.ctx.store, message_ids),
                          partial(self._on_resend_done, self.ctx.delivery.lifts), self._on_resend_failed, owner=self)

    def _on_resend_done(self, lifts: tuple[int, int], outcome: ResendOutcome) -> None:
        text = outcome.summary()
        if outcome.requeued:
            self.ctx.delivery.lift_for_send(*lifts)  # a resend is a send: it lifts a Stop all, as the composer's does
            self.ctx.delivery.notify()
            self.model.refresh(outcome.requeued)
        self.detail.show_outcome(text)
        self.detail.reload()
        self.ctx.sig_status.emit(f"History: {text}")

    def _on_resend_failed(self, error: BaseException) -> None:
        text = f"Resend failed: {type(error).__name__}: {error}"
        self.detail.show_outcome(text)
        self.ctx.sig_status.emit(f"History: {text}")

    # -- what the table shows ----------------------------------------------------------------
    @Slot(object)
    def _on_filter_bar_filters_changed(self, filters: Filters) -> None:
        self.model.set_filters(filters)

    @Slot()
    def _on_model_reset(self) -> None:
        self.count_label.setText("Counting…")
        self.count_label.setToolTip(COUNT_TIP)
        self.detail.show_message(None)

    @Slot(int)
    def _on_model_count_changed(self, _total: int) -> None:
        self._show_count()

    @Slot(int)
    def _on_model_page_loaded(self, _added: int) -> None:
        self._show_count()

    def _show_count(self) -> None:
        total, loaded = self.model.total, self.model.rowCount()
        if total is None:
            self.count_label.setText("Counting…")
            return
        text = "1 delivery" if total == 1 else f"{total:,} deliveries"
        if total > COUNT_CAP and self.model.filters.text:  # counted only that far
            text = f"more than {COUNT_CAP:,} deliveries"
        if total == 0:
            text = "No deliveries match"
        elif loaded < total:
            text += f" · {loaded:,} loaded"
        self.count_label.setText(text)

    @Slot(str)
    def _on_model_load_failed(self, text: str) -> None:
        self.count_label.setText("History unavailable")
        self.count_label.setToolTip(text)
        self.ctx.sig_status.emit(f"History: {text}")

    @Slot(QModelIndex, QModelIndex)
    def _on_view_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.detail.show_message(self.model.line(current.row()).message_id if current.isValid() else None)

    @Slot(QItemSelection, QItemSelection)
    def _on_view_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.resend_action.setEnabled(self.view.selectionModel().hasSelection())

    # -- live updates ------------------------------------------------------------------------
    @Slot(object)
    def _on_ctx_submitted(self, submission: Submission) -> None:
        self._pending.update(submission.delivery_ids)
        self._pending_messages.add(submission.message.id)
        self._schedule_refresh()

    @Slot(object)
    def _on_delivery_event(self, event: DeliveryEvent) -> None:
        self._pending.add(event.delivery_id)
        self._pending_messages.add(event.message_id)
        self._schedule_refresh()

    @Slot(object, object)
    def _on_outbox_changed(self, deliveries: set[int], messages: set[str]) -> None:
        self._pending.update(deliveries)
        self._pending_messages.update(messages)
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        # Not restarted by each event: under a steady stream the table still updates twice a second.
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    @Slot()
    def _on_refresh_timer_timeout(self) -> None:
        ids, self._pending = self._pending, set()
        messages, self._pending_messages = self._pending_messages, set()
        self.model.refresh(ids)
        if self.detail.message_id in messages:
            self.detail.reload()

    @Slot()
    def _on_ctx_fleet_changed(self) -> None:
        if (ids := self.ctx.fleet.ids()) != self._agents:  # the relays are read every 2 s: mostly the same
            self._agents = ids
            self.filter_bar.set_agents(ids)

    # -- lifetime ----------------------------------------------------------------------------
    def _restore(self) -> None:
        settings = self.ctx.settings
        splitter = settings.get_bytes("history/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        header = settings.get_bytes("history/columns")
        if header is not None:
            self.view.horizontalHeader().restoreState(header)
            self._fit_columns(self.view.horizontalHeader())  # a layout saved before keeps its widths only
            self.frozen.sync()
        columns = self.view.horizontalHeader()
        columns.setSectionHidden(MACHINE_COLUMN, self.ctx.session.machines is None)  # one machine: no column
        if self.ctx.session.machines is not None and columns.visualIndex(MACHINE_COLUMN) == len(COLUMNS) - 1:
            columns.moveSection(len(COLUMNS) - 1, FROZEN_COLUMNS)  # shown after Time and Agent, unless moved

    def shutdown(self) -> None:
        self._refresh_timer.stop()
        self.filter_bar.shutdown()
        self.ctx.settings.set("history/splitter", self.splitter.saveState())
        self.ctx.settings.set("history/columns", self.view.horizontalHeader().saveState())
