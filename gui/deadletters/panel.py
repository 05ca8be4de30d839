"""The Dead letters panel: events the integration API could not handle, to replay or purge.

The table lists the dead-letter store (the same file ``quarterdeck deadletter`` uses), the pane
beside it shows the selected entry's whole payload. Replaying needs the application's handlers,
named by the Processor field as ``MODULE:ATTR`` (remembered): an entry a replay handles leaves
the store, one that fails again stays with its new error. Every store access runs on
``ctx.jobs``; the list refreshes when the panel is shown and every :data:`REFRESH_MS` while it
is visible. ``confirm`` is a plain callable so tests can answer the purge question.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QFontDatabase, QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.gui.composer.sending import confirm_dialog
from quarterdeck.gui.deadletters.model import WIDTHS, DeadLettersModel, payload_text, when
from quarterdeck.gui.deadletters.ops import DeadLetterAccess, ProcessorError, ReplayReport, check_spec
from quarterdeck.gui.panel import Panel
from quarterdeck.gui.tablemodel import table_view

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.integration.deadletter import DeadLetter
    from quarterdeck.gui.context import AppContext

REFRESH_MS = 5000
PROCESSOR_KEY = "deadletters/processor"
ERROR_STYLE = "color: #b3261e;"


class DeadLettersPanel(Panel):
    NAME = "deadletters"
    TITLE = "Dead letters"
    AREA = Qt.DockWidgetArea.BottomDockWidgetArea
    TAB_WITH = "history"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 store_path: Path | str | None = None) -> None:
        super().__init__(ctx, parent)
        self.access = DeadLetterAccess(store_path)
        self.confirm: Callable[[str, str], bool | str] = partial(confirm_dialog, self)
        self.model = DeadLettersModel(self)
        self._refreshing = False
        self._busy = False  # a replay or purge is running
        self._build()
        self._build_actions()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._update_buttons()

    def _build(self) -> None:
        self.processor = QLineEdit(self.ctx.settings.get(PROCESSOR_KEY, "", str), self)
        self.processor.setObjectName("deadletters-processor")
        self.processor.setPlaceholderText("myapp.events:processor")
        self.processor.setClearButtonEnabled(True)
        self.processor.setToolTip("Your CoordinationEventProcessor (or a function returning one) as "
                                  "MODULE:ATTR; its module is reloaded before each replay")
        label = QLabel("&Processor:", self)
        label.setBuddy(self.processor)
        self.replay_selected_button = self._button("&Replay selected", self.replay_selected,
                                                   "Hand the selected entries to their handlers again")
        self.replay_all_button = self._button("Replay a&ll", self.replay_all,
                                              "Hand every entry to its handler again, oldest first")
        self.purge_button = self._button("P&urge all…", self.purge,
                                         "Delete every dead letter without replaying it")
        self.count_label = QLabel("Loading…", self)
        self.count_label.setObjectName("deadletters-count")
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(label)
        top.addWidget(self.processor, 1)
        for button in (self.replay_selected_button, self.replay_all_button, self.purge_button):
            top.addWidget(button)
        top.addSpacing(12)
        top.addWidget(self.count_label)
        self.view = self._build_view()
        self.detail = QPlainTextEdit(self)
        self.detail.setObjectName("deadletters-detail")
        self.detail.setReadOnly(True)
        self.detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.detail.setPlaceholderText("Select a dead letter to see its whole payload and error.")
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([780, 420])
        self.message = QLabel(self)
        self.message.setObjectName("deadletters-message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.message)

    def _button(self, text: str, slot: Callable[[], None], tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _build_view(self) -> QTableView:
        view = table_view(self, self.model, "deadletters-table", WIDTHS, multi=True)
        view.selectionModel().currentRowChanged.connect(self._on_view_current_row_changed)
        view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        return view

    def _build_actions(self) -> None:
        self.refresh_action = QAction("Refresh dead letters", self)
        self.refresh_action.setObjectName("action-deadletters-refresh")
        self.refresh_action.triggered.connect(self.refresh)
        self.replay_all_action = QAction("Replay all dead letters", self)
        self.replay_all_action.setObjectName("action-deadletters-replay-all")
        self.replay_all_action.triggered.connect(self.replay_all)
        shortcut = QShortcut(QKeySequence("F5"), self)  # panel-local: the history has its own F5
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.refresh)

    def commands(self) -> list[QAction]:
        return [self.refresh_action, self.replay_all_action]

    # -- listing -----------------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        if self._refreshing:
            return
        self._refreshing = True
        self.ctx.jobs.run(self.access.entries, self._on_entries_listed, self._on_entries_failed, owner=self)

    def _on_entries_listed(self, entries: list[DeadLetter]) -> None:
        self._refreshing = False
        self.model.set_entries(entries)
        total = self.model.rowCount()
        self.count_label.setText("No dead letters" if total == 0 else
                                 "1 dead letter" if total == 1 else f"{total} dead letters")
        self.count_label.setToolTip(str(self.access.path))
        self._show_selected()
        self._update_buttons()

    def _on_entries_failed(self, error: BaseException) -> None:
        self._refreshing = False
        self.count_label.setText("Unavailable")
        self._report(f"Cannot read the dead letters: {type(error).__name__}: {error}", error=True)

    @Slot()
    def _on_timer_timeout(self) -> None:
        if not self._busy:
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    # -- the selected entry ------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = sorted(index.row() for index in self.view.selectionModel().selectedRows())
        return [self.model.entry(row).id for row in rows]

    @Slot(QModelIndex, QModelIndex)
    def _on_view_current_row_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_selected()

    @Slot(QItemSelection, QItemSelection)
    def _on_view_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_buttons()

    def _show_selected(self) -> None:
        current = self.view.selectionModel().currentIndex()
        if not current.isValid():
            self.detail.clear()
            return
        e = self.model.entry(current.row())
        text = (f"#{e.id} {e.event_type}" + (f" (event id {e.event_id})" if e.event_id else "") +
                f"\nreason: {e.reason}, attempts: {e.attempts}, replays: {e.replays}"
                f"\nsince: {when(e.created_at)}, last touched: {when(e.updated_at)}"
                f"\nerror: {e.error}\n\n{payload_text(e.payload, indent=2)}")
        if text != self.detail.toPlainText():
            self.detail.setPlainText(text)

    # -- replay and purge --------------------------------------------------------------------------
    @Slot()
    def replay_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self._report("Select the dead letters to replay first.", error=True)
            return
        self._replay(ids)

    @Slot()
    def replay_all(self) -> None:
        self._replay(None)

    def _replay(self, ids: list[int] | None) -> None:
        if self._busy:
            return
        spec = self.processor.text().strip()
        problem = check_spec(spec)
        if problem is not None:
            self._report(problem, error=True)
            self.processor.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.ctx.settings.set(PROCESSOR_KEY, spec, "")
        what = "all dead letters" if ids is None else f"{len(ids)} dead letter(s)"
        self._start(f"Replaying {what} with {spec}…")
        self.ctx.jobs.run(partial(self.access.replay, spec, ids), self._on_replay_done,
                          self._on_operation_failed, owner=self)

    def _on_replay_done(self, report: ReplayReport) -> None:
        self._finish(report.summary(), error=not report.ok)

    @Slot()
    def purge(self) -> None:
        if self._busy:
            return
        if not self.confirm("Purge dead letters?", "Delete every dead letter without replaying it? "
                            "The events cannot be recovered afterwards."):
            return
        self._start("Purging…")
        self.ctx.jobs.run(self.access.purge, self._on_purge_done, self._on_operation_failed, owner=self)

    def _on_purge_done(self, removed: int) -> None:
        self._finish(f"{removed} dead letter(s) purged.", error=False)

    def _on_operation_failed(self, error: BaseException) -> None:
        text = str(error) if isinstance(error, ProcessorError) else f"{type(error).__name__}: {error}"
        self._finish(text, error=True)

    def _start(self, text: str) -> None:
        self._busy = True
        self._update_buttons()
        self._report(text, error=False)

    def _finish(self, text: str, *, error: bool) -> None:
        self._busy = False
        self._report(text, error=error)
        self.refresh()

    def _report(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.ctx.sig_status.emit(f"Dead letters: {text}")

    def _update_buttons(self) -> None:
        has_rows = self.model.rowCount() > 0
        idle = not self._busy
        self.replay_selected_button.setEnabled(idle and self.view.selectionModel().hasSelection())
        self.replay_all_button.setEnabled(idle and has_rows)
        self.purge_button.setEnabled(idle and has_rows)
        self.replay_all_action.setEnabled(idle and has_rows)

    # -- lifetime ----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop refreshing and close the store on the background thread (after queued jobs)."""
        self._timer.stop()
        try:
            self.ctx.jobs.run(self.access.close)
        except RuntimeError:  # the runner is already shut down; its thread's connections went with it
            pass
