"""The full-width banner under the toolbar that says delivery is STOPPED or GUI PAUSED.

A stop or a pause is the one state in which a captain's messages silently go nowhere, so it must
not be a word in a corner: the banner spans the window, says what happened with the counts from
the outbox ("STOPPED — 5 deliveries cancelled · 0 sending", "GUI PAUSED on Agent-3: a person is
at the mouse — 2 waiting") and holds the actions that end it: Resume, Re-queue cancelled (the
deliveries the stop cancelled, never typed), Skip and Send anyway while paused. After a Resume
that left cancelled deliveries behind, a quiet banner still offers to re-queue them.

It shows only real events: the delivery bridge's halt, stop, pause and resume signals, the
outbox's counts (``set_counts``) and how many deliveries can be re-queued (asked off the UI
thread). Neither stopped nor paused, it is hidden.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QFontMetricsF, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QSizePolicy, QToolBar, QToolButton, QWidget

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.store.requeue import Requeued
    from quarterdeck.gui.delivery import DeliveryService

PAUSE_PREFIX = "GUI delivery paused until you resume: "
LOOKS = {"stopped": ("#c62828", "white"), "paused": ("#ef6c00", "white"), "leftover": ("#eceff1", "#263238"),
         "fault": ("#4a148c", "white")}


def _deliveries(n: int) -> str:
    return f"{n} deliver{'y' if n == 1 else 'ies'}"


def _short(reason: str, longest: int = 60) -> str:
    """A long pause reason by its last clause ("…: someone is using the mouse; nothing typed");
    the whole of it is in the tooltip."""
    return reason if len(reason) <= longest else reason.rsplit(": ", 1)[-1]


class Wrapped(QLabel):
    """A label of up to ``LINES`` lines, broken between words, the last ending in "…" when the text is
    longer still (one line cut the banner mid-word on a 1366-pixel screen); it never widens the
    window. ``text()`` and the tooltip keep all of it. QLabel's own word wrap neither stops at a
    number of lines nor marks what it leaves out, so the lines are laid out and painted here."""

    LINES = 2

    def lines(self) -> list[str]:
        """The text as painted at the label's width now, line by line (any run of white space, a
        newline too, is one space)."""
        metrics, width = QFontMetricsF(self.font()), float(max(1, self.contentsRect().width()))
        words = self.text().split()
        lines: list[str] = []
        while words and len(lines) < self.LINES - 1:
            line = words.pop(0)
            while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
                line = f"{line} {words.pop(0)}"
            lines.append(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width))  # a word wider than it
        if words:
            lines.append(metrics.elidedText(" ".join(words), Qt.TextElideMode.ElideRight, width))
        return lines

    def sizeHint(self) -> QSize:
        margins = self.contentsMargins()
        return QSize(super().sizeHint().width(),
                     self.LINES * self.fontMetrics().lineSpacing() + margins.top() + margins.bottom())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.minimumWidth(), self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        lines, area, spacing = self.lines(), self.contentsRect(), self.fontMetrics().lineSpacing()
        top = area.top() + (area.height() - len(lines) * spacing) // 2
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        for n, line in enumerate(lines):
            painter.drawText(QRect(area.left(), top + n * spacing, area.width(), spacing),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                                 | Qt.TextFlag.TextDontClip), line)  # a taller fallback glyph is not cut
        painter.end()


class DeliveryBanner(QToolBar):
    """See the module docstring. ``resume``, ``skip`` and ``force`` are the window's actions."""

    def __init__(self, window: QMainWindow, delivery: DeliveryService, resume: QAction, skip: QAction,
                 force: QAction) -> None:
        super().__init__("Delivery state", window)
        self.setObjectName("toolbar-banner")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)  # not a toolbar the captain hides by hand
        self.delivery = delivery
        self.main_window = window  # its status bar tells what a re-queue did
        self.state = ""  # stopped | paused | fault | leftover | "" (hidden)
        self.fault = ""  # the last storage fault's one line (what, where, what to do)
        self.unrecorded = ""  # why the last stop all halted this process only (not recorded)
        self.cancelled = self.pending = self.requeued = 0
        self.counts: dict[str, int] = {}
        self.paused_agent, self.paused_reason = "", ""
        self.requeue_action = QAction("Re-queue cancelled", self)
        self.requeue_action.setObjectName("action-requeue-cancelled")
        self.requeue_action.setToolTip("Put the deliveries the last Stop all cancelled (none of them was typed) "
                                       "back in the queue; they go out when delivery resumes")
        self.requeue_action.triggered.connect(self._on_requeue_triggered)
        self.dismiss_action = QAction("Dismiss", self, toolTip="Leave the cancelled deliveries cancelled")
        self.dismiss_action.setObjectName("action-banner-dismiss")
        self.dismiss_action.triggered.connect(self._on_dismiss_triggered)
        self._build(resume, skip, force)
        delivery.sig_halted.connect(self._on_halted)
        delivery.sig_stopped.connect(self._on_stopped)
        delivery.sig_stop_unrecorded.connect(self._on_stop_unrecorded)
        delivery.sig_resumed.connect(self._on_resumed)
        delivery.sig_stopped_pending.connect(self._on_stopped_pending)
        delivery.sig_requeued.connect(self._on_requeued)
        delivery.sig_delivery_event.connect(self._on_delivery_event)
        self.visibilityChanged.connect(self._on_visibility_changed)
        self.setVisible(False)

    def _build(self, resume: QAction, skip: QAction, force: QAction) -> None:
        box = QWidget(self)
        box.setObjectName("banner")
        box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout(box)
        row.setContentsMargins(10, 2, 6, 2)
        row.setSpacing(8)
        self.label = Wrapped(box)
        self.label.setObjectName("banner-text")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        # never widens the window: a narrow one breaks it in two lines, then "…" (the tooltip has it all)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(120)
        row.addWidget(self.label, 1)
        self.buttons: dict[str, QToolButton] = {}
        for name, action in (("resume", resume), ("requeue", self.requeue_action), ("skip", skip),
                             ("force", force), ("dismiss", self.dismiss_action)):
            button = QToolButton(box)
            button.setObjectName(f"banner-{name}")
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            row.addWidget(button)
            self.buttons[name] = button
        self.box = box
        self.addWidget(box)

    # -- what is shown -----------------------------------------------------------------------
    def text(self) -> str:
        """The banner's words (plain), for tests and the tooltip."""
        sending, queued = self.counts.get("sending", 0), self.counts.get("queued", 0)
        if self.state == "stopped" and self.unrecorded:
            return (f"STOPPED HERE ONLY — the stop could not be recorded ({self.unrecorded}): the queue is not "
                    "cancelled and other processes and relays were not told; press Stop all again")
        if self.state == "stopped":
            head = f"STOPPED — {_deliveries(self.cancelled)} cancelled"
            if self.requeued:
                head += f", {self.requeued} re-queued (they go out when you Resume)"
            return f"{head} · {sending} sending"
        if self.state == "paused":
            return f"GUI PAUSED on {self.paused_agent}: {_short(self.paused_reason)} — {queued} waiting"
        if self.state == "fault":
            return f"STORAGE PROBLEM — {self.fault}"
        if self.state == "leftover":
            return (f"Delivering again — {_deliveries(self.pending)} the last Stop all cancelled "
                    f"{'is' if self.pending == 1 else 'are'} not in the queue")
        return ""

    def _show(self) -> None:
        if not self.state:
            self.setVisible(False)
            return
        back, fore = LOOKS[self.state]
        self.box.setStyleSheet(f"QWidget#banner {{ background: {back}; border-radius: 4px; }}"
                               f" QLabel#banner-text {{ color: {fore}; font-weight: bold; font-size: 11pt; }}"
                               " QToolButton { background: white; color: #212121; border: 1px solid #9e9e9e;"
                               " border-radius: 3px; padding: 3px 10px; font-weight: bold; }"
                               " QToolButton:disabled { color: #9e9e9e; }")
        text = self.text()
        self.label.setText(text)
        self.label.setToolTip(text if self.state != "paused" else f"{text}\n\n{self.paused_reason}")
        shown = {"stopped": ("resume", "requeue"), "paused": ("resume", "skip", "force"),
                 "leftover": ("requeue", "dismiss"), "fault": ("dismiss",)}[self.state]
        for name, button in self.buttons.items():
            button.setVisible(name in shown)
        self.requeue_action.setEnabled(self.pending > 0)
        self.requeue_action.setText(f"Re-queue {self.pending} cancelled" if self.pending else "Re-queue cancelled")
        self.setVisible(True)

    def set_counts(self, counts: dict[str, int]) -> None:
        """The outbox's latest ``counts_by_state`` (the window reads them once a second)."""
        self.counts = dict(counts)
        if self.state in ("stopped", "paused") and self.label.text() != self.text():
            self._show()

    # -- slots -------------------------------------------------------------------------------
    @Slot(str)
    def show_fault(self, line: str) -> None:
        """A storage fault (``AppContext.sig_fault``): said until dismissed; a stop or a pause,
        which hold the captain's next action, keep the banner."""
        self.fault = line
        if self.state in ("", "leftover", "fault"):
            self.state = "fault"
            self._show()

    @Slot()
    def _on_halted(self) -> None:
        if self.state != "stopped":
            self.state, self.cancelled, self.requeued = "stopped", 0, 0
        self._show()

    @Slot(str)
    def _on_stop_unrecorded(self, why: str) -> None:
        self.state, self.unrecorded = "stopped", why
        self._show()

    @Slot(int)
    def _on_stopped(self, cancelled: int) -> None:
        self.state, self.unrecorded = "stopped", ""
        self.cancelled = cancelled  # the last stop's: the one Re-queue cancelled undoes
        self._show()
        self.delivery.count_stopped_pending()

    @Slot(int)
    def _on_stopped_pending(self, pending: int) -> None:
        self.pending = pending
        if self.state == "leftover" and not pending:
            self.state = ""
        self._show()

    @Slot()
    def _on_resumed(self) -> None:
        self.paused_agent = self.paused_reason = self.unrecorded = ""
        self.state = "leftover" if self.state in ("stopped", "leftover") and self.pending else ""
        self._show()

    @Slot(object)
    def _on_delivery_event(self, event: DeliveryEvent) -> None:
        if event.state == "paused" and self.state != "stopped":
            self.state = "paused"
            self.paused_agent = event.agent_id
            self.paused_reason = event.detail.removeprefix(PAUSE_PREFIX)
            self._show()

    @Slot()
    def _on_requeue_triggered(self) -> None:
        self.requeue_action.setEnabled(False)  # once: the store skips repeats anyway
        self.delivery.requeue_stopped()

    @Slot(object)
    def _on_requeued(self, result: Requeued) -> None:
        self.requeued += len(result.ids)
        self.pending = 0
        if self.state == "leftover":
            self.state = ""
        self._show()
        self.main_window.statusBar().showMessage(result.summary(), 10_000)

    @Slot(bool)
    def _on_visibility_changed(self, visible: bool) -> None:
        """A restored window layout never shows or hides the banner: only the delivery state does."""
        if visible != bool(self.state):
            QTimer.singleShot(0, self._show)

    @Slot()
    def _on_dismiss_triggered(self) -> None:
        self.state, self.fault = "", ""
        self._show()
