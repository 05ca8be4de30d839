"""Sending a composition: the last rule gate, the "are you sure" over N agents, the submits.

Before a send to two or more agents, who cannot be reached right now is found in the background
(``quarterdeck.gui.composer.reach``); the captain is asked when the send reaches more than the limit or when
any recipient is unreachable, and may leave those out (the draft is composed again for the rest).
Once queued, nothing green is left saying "Queued for …": the chips under the text box show each
recipient, and the outcome line says how the send ended.

Every message of the composition goes through ``ctx.submit`` (validated and queued in the
background). A refusal (``SubmitRefused``, ``UnknownRecipient``) is reported in words the captain
can act on; the text box is cleared only when every message was queued. ``confirm`` is a plain
callable so tests (and a future "don't ask again") can answer the question without a dialog: it
returns True (send to all), ``LEAVE_OUT`` (only the reachable ones) or False (cancel).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QToolButton, QWidget

from quarterdeck.core.compose.draft import Check, Composition
from quarterdeck.core.compose.submit import SubmitRefused, UnknownRecipient
from quarterdeck.core.compose.when_idle import parse_duration, wait_problem
from quarterdeck.core.store.faults import StorageFault
from quarterdeck.gui.composer.reach import question, unreachable

if TYPE_CHECKING:
    from quarterdeck.core.compose.submit import Submission
    from quarterdeck.gui.composer.progress import ProgressPane
    from quarterdeck.gui.context import AppContext

CONFIRM_KEY = "composer/confirm_over"
CONFIRM_DEFAULT = 3
LEAVE_OUT = "leave out"
Recompose = Callable[[list[str]], tuple[Composition, Check]]


def confirm_dialog(parent: QWidget, title: str, text: str) -> bool | str:
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent)
    box.setObjectName("composer-confirm")
    leave = None
    if "cannot be reached" in text:
        box.setIcon(QMessageBox.Icon.Warning)
        leave = box.addButton("&Leave them out", QMessageBox.ButtonRole.AcceptRole)
        everyone = box.addButton("Send to &all", QMessageBox.ButtonRole.YesRole)
        box.setDefaultButton(leave)
    else:
        everyone = box.addButton(QMessageBox.StandardButton.Yes)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    return LEAVE_OUT if leave is not None and clicked is leave else clicked is everyone


def describe_error(error: BaseException) -> str:
    """A refusal in the captain's words: what was wrong and what to do."""
    if isinstance(error, SubmitRefused):
        first = next((v for v in error.report.violations if v.severity == "error"), None)
        return f"Not sent: {error}." + (f" {first.message}" if first is not None else "")
    if isinstance(error, UnknownRecipient):
        return f"Not sent: {error}. Check the recipients against the roster."
    if isinstance(error, StorageFault):  # already one line: what, where, what to do
        return f"Not sent: {error}"
    return f"Not sent: {type(error).__name__}: {error}"


class Sender(QObject):
    sig_sent = Signal(str)  # every message was queued; the content that was sent
    sig_reported = Signal(str, bool)  # text, is an error
    sig_started = Signal()  # the messages are being queued (the chips start)
    sig_queued = Signal(str)  # every message is queued: "Queued for A, B" (for the status bar)

    def __init__(self, ctx: AppContext, progress: ProgressPane, parent: QWidget) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._progress = progress
        self._parent = parent
        self.confirm: Callable[[str, str], bool | str] = lambda title, text: confirm_dialog(parent, title, text)
        self._waiting: set[str] = set()
        self._checking = False
        self._refusals: list[str] = []
        self._queued: list[str] = []
        self._content = ""

    @property
    def busy(self) -> bool:
        return bool(self._waiting) or self._checking

    def confirm_over(self) -> int:
        return max(0, int(self._ctx.settings.get(CONFIRM_KEY, CONFIRM_DEFAULT, int)))

    def send(self, composition: Composition, result: Check, recipients: list[str], *, broadcast: bool,
             recompose: Recompose | None = None) -> bool:
        """Queue ``composition`` for ``recipients`` unless blocked; True when under way (a send to
        several agents is confirmed first, after a look at who can be reached)."""
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
                                   "Not sent: tick at least one agent to send to (or Broadcast to everyone).", True)
            return False
        if (problem := wait_problem(composition.draft.when_idle)) is not None:
            self.sig_reported.emit(f"Not sent: wait until idle: {problem}", True)
            return False
        if len(recipients) < 2:
            self._queue(composition)
            return True
        self._checking = True
        roster, dispatcher, offline = self._ctx.fleet, self._ctx.delivery.dispatcher, self._ctx.shown.offline

        def look() -> dict[str, str]:  # about the recipients: the panel's own loop is health's business
            found = {a: f"its relay {offline[a].name} {offline[a].health}" for a in recipients if a in offline}
            return {**unreachable([a for a in recipients if a not in found], roster, dispatcher), **found}

        def looked(blocked: dict[str, str]) -> None:
            self._checking = False
            self._confirmed(composition, recipients, blocked, broadcast, recompose)

        def failed(error: BaseException) -> None:
            self._checking = False
            self._confirmed(composition, recipients, {}, broadcast, recompose)

        self._ctx.jobs.run(look, looked, failed, owner=self)
        return True

    def _confirmed(self, composition: Composition, recipients: list[str], blocked: dict[str, str],
                   broadcast: bool, recompose: Recompose | None) -> None:
        limit = self.confirm_over()
        if len(recipients) > limit or blocked:
            what = "Broadcast" if broadcast else "Send"
            answer = self.confirm(f"{what} to {len(recipients)} agents?", question(what, recipients, blocked, limit))
            if not answer:
                self.sig_reported.emit("Not sent: cancelled.", False)
                return
            if answer == LEAVE_OUT and blocked:
                rest = [a for a in recipients if a not in blocked]
                if not rest or recompose is None:
                    self.sig_reported.emit("Not sent: none of the recipients can be reached right now.", True)
                    return
                composition, result = recompose(rest)
                if result.blocking:
                    self.sig_reported.emit(f"Not sent: {result.blocking[0].message}", True)
                    return
        self._queue(composition)

    def _queue(self, composition: Composition) -> None:
        messages = list(composition.messages)
        self._waiting = {m.id for m in messages}
        self._refusals = []
        self._queued = []
        self._content = composition.draft.content
        self._progress.start([m.id for m in messages])
        self.sig_started.emit()
        captain_last = composition.draft.captain_last
        wait = composition.draft.when_idle
        when_idle = None if wait is None else parse_duration(wait)
        for message in messages:
            self._ctx.submit(message, captain_last=captain_last, when_idle=when_idle, on_done=self._submitted,
                             on_error=self._refusal_handler(message.id))

    # -- outcomes ----------------------------------------------------------------------------------
    def _submitted(self, submission: Submission) -> None:
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
            self.sig_queued.emit(f"Queued for {', '.join(self._queued)}.")
            self.sig_sent.emit(self._content)
            return
        refusals = list(dict.fromkeys(self._refusals))
        head = f"Queued for {', '.join(self._queued)}; " if self._queued else ""
        self.sig_reported.emit(head + " ".join(refusals), True)


class Notice(QFrame):
    """One line above the text box: the outcome of the last action (red when it went wrong).

    Its height follows its width (the text wraps) without saying so to the layout: a panel
    with a height-for-width child is laid out at its preferred height inside the dock's scroll
    area, which pushed the chips under the message box out of view on a small screen."""

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

    def hasHeightForWidth(self) -> bool:
        return False

    def _height(self) -> int:
        margins = self.contentsMargins().left() + self.contentsMargins().right() + 8 + 3 + 30
        wrapped = self.label.heightForWidth(max(80, self.width() - margins))
        return max(wrapped, self.label.fontMetrics().height()) + 8

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self._height())

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self._height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width() and self._height() != self.height():
            self.updateGeometry()
