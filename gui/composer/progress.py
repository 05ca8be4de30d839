"""The last send, one row per recipient, updated in place from real delivery events.

``ProgressModel`` is a table adapter over ``quarterdeck.core.compose.progress.SendProgress``: rows are inserted
when a submission comes back, a ``DeliveryEvent`` repaints only its row, and a new send removes
the old rows and inserts the new ones (no resets). ``ProgressPane`` adds the one-line summary
and "Retry failed", which queues a fresh delivery for each failed row in the background
(``store.requeue``), then wakes the dispatcher; those rows go back to queued and follow the new ids.
After a stop, and every ``REREAD_MS`` while rows wait with no event (a delivery cancelled
elsewhere sends none), the rows still unfinished are read back from the outbox in the
background, so they show what the store holds (cancelled), not what the last event said (paused).
Once the send is over, its delivered (or uncertain) rows are read back the same way for as long as
the agent's own hook can still confirm them (``CONFIRM_WATCH_S``): a row turns "confirmed by agent"
only when the outbox records that confirmation.
The table never keeps Tab: Tab moves on to the next control (arrow keys move between rows).
"""
from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.activity.confirm import LATE_S, WINDOW_S
from quarterdeck.core.compose.progress import SendProgress
from quarterdeck.core.compose.submit import Submission
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.store.rows import DeliveryRow
from quarterdeck.gui.tablemodel import ColumnsModel

if TYPE_CHECKING:
    from quarterdeck.gui.context import AppContext

Index = QModelIndex | QPersistentModelIndex
REREAD_MS = 2000
CONFIRM_WATCH_S = WINDOW_S + LATE_S  # a hook event confirms a delivery that finished up to this long before
STATE_COLOURS = {"waiting": "#00897b", "expired": "#795548",  # sent "when idle": held; not idle in time
                 "queued": "#616161", "sending": "#1565c0", "retrying": "#ef6c00", "paused": "#ef6c00",
                 "delivered": "#2e7d32", "failed": "#c62828", "cancelled": "#757575", "uncertain": "#8e24aa",
                 "confirmed_by_agent": "#1b5e20"}  # a verdict: the agent's own hook reported the text


class ProgressModel(ColumnsModel):
    COLUMNS = ("Agent", "Status")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.progress = SendProgress()

    def row_total(self) -> int:
        return len(self.progress.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.progress.rows):
            return None
        row = self.progress.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.agent_id if index.column() == 0 else row.text()
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1:
            key = "confirmed_by_agent" if row.verdict == "confirmed_by_agent" else row.state
            return QColor(STATE_COLOURS.get(key, "#333"))
        if role == Qt.ItemDataRole.ToolTipRole:
            retried = f"\nretried {row.retries}×" if row.retries else ""
            detail = f"\n{row.detail}" if row.detail else ""
            return f"{row.agent_id}: delivery #{row.delivery_id}, {row.state}{detail}{retried}"
        return None

    def state(self, agent_id: str) -> str | None:
        return next((r.state for r in self.progress.rows if r.agent_id == agent_id), None)

    def texts(self) -> dict[str, str]:
        return {r.agent_id: r.text() for r in self.progress.rows}

    # -- changes ---------------------------------------------------------------------------------
    def start(self, message_ids: list[str]) -> None:
        if self.progress.rows:
            self.beginRemoveRows(QModelIndex(), 0, len(self.progress.rows) - 1)
            self.progress.start(message_ids)
            self.endRemoveRows()
        else:
            self.progress.start(message_ids)

    def submitted(self, submission: Submission) -> None:
        first = len(self.progress.rows)
        count = len(submission.delivery_ids)
        if not count or not self.progress.expects(submission.message.id):
            return
        self.beginInsertRows(QModelIndex(), first, first + count - 1)
        self.progress.submitted(submission.message.id, submission.recipients, submission.delivery_ids)
        self.endInsertRows()  # early events were replayed into the rows just inserted

    def changed(self, rows: list[int] | int | None) -> None:
        for row in [rows] if isinstance(rows, int) else rows or []:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))


class ProgressPane(QWidget):
    """Summary line, Retry failed, and the table; see the module docstring."""

    sig_reported = Signal(str, bool)  # text, is an error
    sig_over = Signal(str, bool)  # the send is over: its outcome, whether any recipient did not get it
    sig_changed = Signal()  # a row or the summary changed (the chips follow)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.model = ProgressModel(self)
        self.summary = QLabel("Nothing sent yet.")
        self._told: tuple[str, bool] | None = None  # the outcome line already said for this send
        self.summary.setObjectName("composer-progress-summary")
        self.retry_button = QPushButton("&Retry failed")
        self.retry_button.setObjectName("composer-retry")
        self.retry_button.setToolTip("Queue the failed deliveries of the last send again")
        self.retry_button.setEnabled(False)
        self.retry_button.setMinimumWidth(self.retry_button.sizeHint().width()
                                          + self.fontMetrics().horizontalAdvance(" (999)"))
        self.table = QTableView()
        self.table.setObjectName("composer-progress")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.summary, 1)
        top.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.retry_action = QAction("Retry failed", self)
        self.retry_action.setObjectName("action-composer-retry")
        self.retry_action.setToolTip(self.retry_button.toolTip())
        self.retry_action.setStatusTip(self.retry_button.toolTip())
        self.retry_action.setEnabled(False)
        self.retry_action.triggered.connect(self.retry_failed)
        self.retry_button.clicked.connect(self.retry_action.trigger)
        ctx.delivery.sig_delivery_event.connect(self._on_delivery_event)
        ctx.delivery.sig_stopped.connect(self._on_delivery_stopped)
        self._rereading = self._reread_failing = False
        self._over_at: float | None = None  # time.monotonic() when the last send ended
        self.doubt_timer = QTimer(self, interval=REREAD_MS)
        self.doubt_timer.timeout.connect(self.reread)

    @property
    def progress(self) -> SendProgress:
        return self.model.progress

    def start(self, message_ids: list[str]) -> None:
        self._told = None
        self._over_at = None
        self.model.start(message_ids)
        self._update()

    def submitted(self, submission: Submission) -> None:
        self.model.submitted(submission)
        self._update()

    def refused(self, message_id: str) -> None:
        self.progress.refused(message_id)
        self._update()

    # -- retry -----------------------------------------------------------------------------------
    @Slot()
    def retry_failed(self) -> None:
        ids = self.progress.retryable_ids()
        if not ids:
            self.sig_reported.emit("Nothing to retry: no delivery of the last send failed.", False)
            return
        store = self._ctx.store
        self.retry_button.setEnabled(False)
        self.retry_action.setEnabled(False)

        def requeue() -> dict[int, int]:
            rows = [store.delivery(new) for new in store.requeue(ids)]
            return {row.retry_of: row.id for row in rows if row.retry_of is not None}  # each retries an old one

        self._ctx.jobs.run(requeue, partial(self._requeued, self._ctx.delivery.lifts), self._requeue_failed,
                           owner=self)

    def _requeued(self, lifts: tuple[int, int], mapping: dict[int, int]) -> None:
        self.model.changed(self.progress.requeued(mapping))
        self._ctx.delivery.lift_for_send(*lifts)  # a retry is a send
        self._ctx.delivery.notify()
        self._update()
        skipped = len(self.progress.retryable_ids())
        note = f"; {skipped} had been retried elsewhere already" if skipped else ""
        self.sig_reported.emit(f"Queued {len(mapping)} failed deliver{'y' if len(mapping) == 1 else 'ies'} "
                               f"again{note}.", False)

    def _requeue_failed(self, error: BaseException) -> None:
        self._update()
        self.sig_reported.emit(f"Retry failed could not queue: {error}", True)

    # -- events ----------------------------------------------------------------------------------
    @Slot(object)
    def _on_delivery_event(self, event: DeliveryEvent) -> None:
        row = self.progress.event(event)
        if row is not None:
            self.model.changed(row)
            self._update()
            if self.doubt_timer.isActive():
                self.doubt_timer.start()  # news came: no doubt for another while

    @Slot(int)
    def _on_delivery_stopped(self, _cancelled: int) -> None:
        changed = self.progress.queue_cancelled()
        if changed:
            self.model.changed(changed)
            self._update()
        self.reread()

    def reread(self) -> None:
        """Read the unfinished rows, and those the agent may still confirm, back from the outbox
        (in the background) and show that."""
        ids = self.progress.unfinished_ids() + self._confirmable_ids()
        if not ids:
            self.doubt_timer.stop()  # nothing in doubt, and no confirmation can come any more
        if not ids or self._rereading:
            return
        self._rereading = True
        store = self._ctx.store

        def read() -> list[DeliveryRow]:
            return [store.delivery(i) for i in ids]

        try:
            self._ctx.jobs.run(read, self._on_reread, self._on_reread_failed, owner=self)
        except RuntimeError:  # the window is closing: the background runner has ended
            self._rereading = False
            self.doubt_timer.stop()

    def _on_reread(self, records: list[DeliveryRow]) -> None:
        self._rereading = self._reread_failing = False
        changed = self.progress.recorded(records)
        if changed:
            self.model.changed(changed)
            self._update()
            rows = [self.progress.rows[i] for i in changed]
            self._ctx.sig_outbox_changed.emit({r.delivery_id for r in rows}, {r.message_id for r in rows})
            if confirmed := {r.delivery_id for r in rows if r.verdict == "confirmed_by_agent"}:
                self._ctx.sig_confirmed.emit(confirmed)

    def _on_reread_failed(self, error: BaseException) -> None:
        """Said once; the rows are read again at the next tick (the timer goes on), so a passing fault
        (a lock held long, a busy disk) does not leave them as they were for good."""
        self._rereading = False
        if not self._reread_failing:
            self._reread_failing = True
            self.sig_reported.emit(f"Could not read the last send back from the outbox: {error}; trying again",
                                   True)

    def _confirmable_ids(self) -> list[int]:
        """The rows the agent's hook may still confirm, while it may (see the module docstring)."""
        if self._over_at is None or time.monotonic() - self._over_at > CONFIRM_WATCH_S:
            return []
        return self.progress.unconfirmed_ids()

    def _update(self) -> None:
        self.summary.setText(self.progress.summary() or "Nothing sent yet.")
        outcome = self.progress.outcome()
        if outcome is not None and self._over_at is None:
            self._over_at = time.monotonic()
        if outcome is not None and outcome != self._told:  # the send is over: say how it ended
            self._told = outcome
            self.sig_over.emit(*outcome)
        failed = len(self.progress.retryable_ids())
        self.retry_button.setEnabled(bool(failed))
        self.retry_action.setEnabled(bool(failed))
        self.retry_button.setText(f"&Retry failed ({failed})" if failed else "&Retry failed")
        waiting = bool(self.progress.unfinished_ids() or self._confirmable_ids())
        if waiting and not self.doubt_timer.isActive():
            self.doubt_timer.start()
        elif not waiting:
            self.doubt_timer.stop()
        self.sig_changed.emit()
