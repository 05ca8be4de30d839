"""One message in full: its stored text, who sent it where, and every delivery with its attempts.

The message is read with :func:`quarterdeck.core.store.history.message_detail` on ``ctx.jobs``; a newer
request (another row selected) outdates an older one still on its way, which is then dropped.
The "Resend to failed recipients" button only asks: the panel does the resending.
"""
from __future__ import annotations

import html
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.store.history import message_detail
from quarterdeck.core.store.resend import resendable
from quarterdeck.core.store.rows import AttemptRow, DeliveryDetail, MessageDetail
from quarterdeck.gui.history.columns import STATE_COLOURS, duration, local_time

if TYPE_CHECKING:  # annotations only
    from datetime import datetime

    from quarterdeck.gui.context import AppContext

TREE_COLUMNS = ("Recipient / attempt", "Outcome", "Evidence, error or reason", "Tries", "Took", "Started", "Finished")
ERROR_COLUMN = 2
ERROR_WIDTH = 190


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _clock(moment: datetime | None) -> str:
    """Time of day with milliseconds: a message's attempts share its date (in the tooltips)."""
    return local_time(_epoch(moment), precise=True, clock_only=True)


def _said(row: object) -> str:
    """A delivery's evidence ("input read back by accessibility") and its reason, if any."""
    parts = [getattr(row, "evidence", None), getattr(row, "reason", None)]
    return " · ".join(p for p in parts if p)


class DetailPane(QWidget):
    sig_resend_requested = Signal(str)  # message id: requeue its failed/uncertain deliveries
    sig_shown = Signal(object)  # quarterdeck.core.store.rows.MessageDetail now on screen

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx: AppContext = ctx
        self.message_id: str | None = None
        self.detail: MessageDetail | None = None
        self._generation = 0
        self.heading = QLabel("Select a delivery to see its message.", self)
        self.heading.setObjectName("history-detail-heading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(2)
        for name in ("From", "To", "Kind", "Tags", "Created"):
            label = QLabel("—", self)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[name] = label
            form.addRow(f"{name}:", label)
        self.content = QPlainTextEdit(self)
        self.content.setObjectName("history-detail-content")
        self.content.setReadOnly(True)
        self.content.setPlaceholderText("The message as stored")
        self.content.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("history-detail-deliveries")
        self.tree.setHeaderLabels(list(TREE_COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.resend_button = QPushButton("&Resend to failed recipients", self)
        self.resend_button.setObjectName("history-resend")
        self.resend_button.setToolTip("Queue a fresh delivery for each failed or uncertain recipient "
                                      "(each is resent once at most)")
        self.resend_button.setEnabled(False)
        self.resend_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.resend_button.clicked.connect(self._on_resend_button_clicked)
        self.outcome = QLabel("", self)
        self.outcome.setObjectName("history-resend-outcome")
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.PlainText)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.heading)
        top_layout.addLayout(form)
        top_layout.addWidget(self.content, 1)
        bottom = QWidget(self)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.tree, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.resend_button)
        actions.addWidget(self.outcome, 1)
        bottom_layout.addLayout(actions)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("history-detail-splitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.addWidget(self.splitter)

    # -- loading -----------------------------------------------------------------------------
    def show_message(self, message_id: str | None) -> None:
        """Show ``message_id`` (None clears the pane); the outcome of a resend stays for it."""
        if message_id != self.message_id:
            self.outcome.setText("")
        self.message_id = message_id
        self._generation += 1
        if message_id is None:
            self._clear()
            return
        store = self.ctx.store
        self.ctx.jobs.run(partial(message_detail, store, message_id),
                          partial(self._on_detail_loaded, self._generation),
                          partial(self._on_detail_failed, self._generation), owner=self)

    def reload(self) -> None:
        if self.message_id is not None:
            self.show_message(self.message_id)

    def show_outcome(self, text: str) -> None:
        self.outcome.setText(text)

    def _on_detail_loaded(self, generation: int, detail: MessageDetail) -> None:
        if generation != self._generation:
            return
        self.detail = detail
        self._render(detail)
        self.sig_shown.emit(detail)

    def _on_detail_failed(self, generation: int, error: BaseException) -> None:
        if generation == self._generation:
            self._clear()
            self.heading.setText(html.escape(f"Could not read the message: {type(error).__name__}: {error}"))

    def _clear(self) -> None:
        self.detail = None
        self.heading.setText("Select a delivery to see its message.")
        for label in self.fields.values():
            label.setText("—")
        self.content.clear()
        self.tree.clear()
        self.resend_button.setEnabled(False)

    # -- drawing -----------------------------------------------------------------------------
    def _render(self, detail: MessageDetail) -> None:
        message = detail.message
        failed = resendable(detail)
        note = (" · <span style='color:#ef6c00'>stored redacted (a secret was masked)</span>"
                if message.redacted else "")
        self.heading.setText(f"<b>Message</b> <code>{html.escape(message.id)}</code>{note}")
        self.fields["From"].setText(f"{message.sender} ({message.sender_kind})")
        self.fields["To"].setText(", ".join(message.recipients) or "—")
        self.fields["Kind"].setText(f"{message.type} · {message.priority}")
        self.fields["Tags"].setText(", ".join(message.tags) or "none")
        self.fields["Created"].setText(local_time(_epoch(message.created_at), precise=True))
        self.content.setPlainText(message.content)
        self.tree.clear()
        for item in detail.deliveries:
            self.tree.addTopLevelItem(self._delivery_item(item))
        self.tree.expandAll()
        for column in range(len(TREE_COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self.tree.setColumnWidth(ERROR_COLUMN, min(self.tree.columnWidth(ERROR_COLUMN), ERROR_WIDTH))
        self.resend_button.setEnabled(bool(failed))
        self.resend_button.setText(f"&Resend to failed recipients ({len(failed)})" if failed
                                   else "&Resend to failed recipients")

    @staticmethod
    def _delivery_item(item: DeliveryDetail) -> QTreeWidgetItem:
        row = item.delivery
        machine = f" · {row.machine}" if row.machine else ""  # typed by that relay (issue 14)
        who = row.agent_id + machine + (f"  (retry of #{row.retry_of})" if row.retry_of else "")
        node = QTreeWidgetItem([
            who, row.outcome, _said(row), str(row.attempts), duration(row.latency_ms),
            _clock(row.started_at), _clock(row.finished_at),
        ])
        node.setToolTip(5, local_time(_epoch(row.started_at), precise=True))
        node.setToolTip(6, local_time(_epoch(row.finished_at), precise=True))
        node.setForeground(1, QBrush(QColor(STATE_COLOURS.get(row.outcome, "#000000"))))
        node.setToolTip(0, f"Delivery #{row.id} by {row.transport}, queued "
                           f"{local_time(_epoch(row.created_at), precise=True)}")
        node.setToolTip(ERROR_COLUMN, _said(row))
        for attempt in item.attempts:
            node.addChild(DetailPane._attempt_item(attempt))
        return node

    @staticmethod
    def _attempt_item(attempt: AttemptRow) -> QTreeWidgetItem:
        took = (attempt.finished_at - attempt.started_at).total_seconds() * 1000
        child = QTreeWidgetItem([
            f"attempt {attempt.n}", "ok" if attempt.ok else "error", attempt.error or "", "", duration(took),
            _clock(attempt.started_at), _clock(attempt.finished_at),
        ])
        child.setToolTip(5, local_time(_epoch(attempt.started_at), precise=True))
        child.setForeground(1, QBrush(QColor(STATE_COLOURS["delivered" if attempt.ok else "failed"])))
        child.setToolTip(ERROR_COLUMN, attempt.error or "")
        return child

    @Slot()
    def _on_resend_button_clicked(self) -> None:
        if self.message_id is not None:
            self.sig_resend_requested.emit(self.message_id)
