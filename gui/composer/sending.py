"""Sending a composition: the last rule gate, the "are you sure" over N agents, the submits.

Every message of the composition goes through ``ctx.submit`` (validated and queued in the
background). A refusal (``SubmitRefused``, ``UnknownRecipient``) is reported in words the captain
can act on; the text box is cleared only when every message was queued. ``confirm`` is a plain
callable so tests (and a future "don't ask again") can answer the question without a dialog.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QToolButton, QWidget

from core.compose import Check, Composition
from core.delivery.submit import SubmitRefused, UnknownRecipient

CONFIRM_KEY = "composer/confirm_over"
CONFIRM_DEFAULT = 3


def confirm_dialog(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes
                                  | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def describe_error(error: BaseException) -> str:
    """A refusal in the captain's words: what was wrong and what to do."""
    if isinstance(error, SubmitRefused):
        first = next((v for v in error.report.violations if v.severity == "error"), None)
        return f"Not sent: {error}." + (f" {first.message}" if first is not None else "")
    if isinstance(error, UnknownRecipient):
        return f"Not sent: {error}. Check the recipients against the roster."
    return f"Not sent: {type(error).__name__}: {error}"


class Sender(QObject):
    sig_sent = Signal(str)  # every message was queued; the content that was sent
    sig_reported = Signal(str, bool)  # text, is an error

    def __init__(self, ctx: Any, progress: Any, parent: QWidget) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._progress = progress
        self._parent = parent
        self.confirm: Callable[[str, str], bool] = lambda title, text: confirm_dialog(parent, title, text)
        self._waiting: set[str] = set()
        self._refusals: list[str] = []
        self._queued: list[str] = []
        self._content = ""

    @property
    def busy(self) -> bool:
        return bool(self._waiting)

    def confirm_over(self) -> int:
        return max(0, int(self._ctx.settings.get(CONFIRM_KEY, CONFIRM_DEFAULT, int)))

    def send(self, composition: Composition, result: Check, recipients: list[str], *, broadcast: bool) -> bool:
        """Queue ``composition`` for ``recipients`` unless blocked or not confirmed; True if asked."""
        if self.busy:
            self.sig_reported.emit("The last send is still being queued; try again in a moment.", True)
            return False
        if not composition.draft.content.strip():
            self.sig_reported.emit("Not sent: the message is empty.", True)
            return False
        if result.blocking:
            self.sig_reported.emit(f"Not sent: {result.blocking[0].message}", True)
            return False
        if not composition.messages or not recipients:
            self.sig_reported.emit("Not sent: no enabled agent on the roster." if broadcast else
                                   "Not sent: check at least one recipient (or use Broadcast).", True)
            return False
        limit = self.confirm_over()
        if len(recipients) > limit:
            what = "Broadcast" if broadcast else "Send"
            names = ", ".join(recipients[:12]) + (" …" if len(recipients) > 12 else "")
            if not self.confirm(f"{what} to {len(recipients)} agents?",
                                f"{what} this message to {len(recipients)} agents?\n\n{names}\n\n"
                                f"(You are asked whenever a send reaches more than {limit}.)"):
                self.sig_reported.emit("Not sent: cancelled.", False)
                return False
        messages = list(composition.messages)
        self._waiting = {m.id for m in messages}
        self._refusals = []
        self._queued = []
        self._content = composition.draft.content
        self._progress.start([m.id for m in messages])
        captain_last = composition.draft.captain_last
        for message in messages:
            self._ctx.submit(message, captain_last=captain_last, on_done=self._submitted,
                             on_error=self._refusal_handler(message.id))
        return True

    # -- outcomes ----------------------------------------------------------------------------------
    def _submitted(self, submission: Any) -> None:
        self._progress.submitted(submission)
        self._queued.extend(submission.recipients)
        self._done(submission.message.id)

    def _refusal_handler(self, message_id: str) -> Callable[[BaseException], None]:
        def refused(error: BaseException) -> None:
            self._progress.refused(message_id)
            self._refusals.append(describe_error(error))
            self._done(message_id)
        return refused

    def _done(self, message_id: str) -> None:
        self._waiting.discard(message_id)
        if self._waiting:
            return
        if not self._refusals:
            self.sig_reported.emit(f"Queued for {', '.join(self._queued)}.", False)
            self.sig_sent.emit(self._content)
            return
        refusals = list(dict.fromkeys(self._refusals))
        head = f"Queued for {', '.join(self._queued)}; " if self._queued else ""
        self.sig_reported.emit(head + " ".join(refusals), True)


class Notice(QFrame):
    """One line above the text box: the outcome of the last action (red when it went wrong)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer-notice")
        self.label = QLabel()
        self.label.setObjectName("composer-notice-text")
        self.label.setWordWrap(True)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 3, 3, 3)
        row.addWidget(self.label, 1)
        row.addWidget(close)
        self.error = False
        self.hide()

    def say(self, text: str, error: bool = False) -> None:
        self.error = error
        colour, back = ("#c62828", "#ffebee") if error else ("#2e7d32", "#e8f5e9")
        self.setStyleSheet(f"QFrame#composer-notice {{ background: {back}; border-left: 4px solid {colour};"
                           " border-radius: 2px; }")
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()
