"""One simulated agent's chat window: a transcript above, a message box below, keys like a real pane.

Quarterdeck's GUI delivery clicks the message box, pastes and presses the submit keys, exactly as
it does in Cursor or VS Code, so the box behaves like theirs: Enter sends, Shift+Enter starts a
new line, Ctrl+Enter sends marked urgent, Ctrl+V pastes (Qt's own), Ctrl+T starts a new chat.
Each submission is shown as a bubble and appended to the agent's transcript file (the record
the tests read back); a moment later the demo agent "replies" with a clearly labelled echo, so
the captain sees life without anything pretending to be a real agent.
"""
from __future__ import annotations

import html
from collections import deque
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QTextBrowser, QVBoxLayout, QWidget

from quarterdeck.gui.demo.style import ECHO_HTML, NEW_CHAT_HTML, STYLE, message_html
from quarterdeck.gui.demo.transcript import FileWorker, message_record, new_chat_record

__all__ = ["ChatInput", "ChatWindow"]

ECHO_DELAY_MS = 350
KEYS_HINT = "Enter send · Shift+Enter new line · Ctrl+Enter urgent · Ctrl+T new chat"


class ChatInput(QPlainTextEdit):
    """The message box: submits on Enter (urgent on Ctrl+Enter) and asks for a new chat on Ctrl+T."""

    sig_submitted = Signal(str, bool)  # text, urgent
    sig_new_chat_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            elif mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier):
                self._submit(urgent=mods == Qt.KeyboardModifier.ControlModifier)
            event.accept()
            return
        if key == Qt.Key.Key_T and mods == Qt.KeyboardModifier.ControlModifier:
            self.sig_new_chat_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def _submit(self, *, urgent: bool) -> None:
        text = self.toPlainText()
        if not text.strip():
            return  # like a real pane: an empty box sends nothing
        self.clear()
        self.sig_submitted.emit(text, urgent)


class ChatWindow(QWidget):
    """A demo agent's window; its transcript file is ``transcript_path`` (written by ``files``).

    An ordinary window, not kept on top: it must never cover the panel, its dialogs or the
    command palette. The roster binds each agent to its window, so a delivery finds the window
    and raises it when something covers its message box before clicking.
    """

    sig_geometry_changed = Signal()

    def __init__(self, agent_id: str, role: str, transcript_path: Path, files: FileWorker,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.agent_id = agent_id
        self.role = role
        self.transcript_path = Path(transcript_path)
        self.received = 0
        self._files = files
        self._echoes: deque[str] = deque()
        self.setObjectName("demoChat")
        self.setWindowTitle(f"{agent_id} · demo agent")
        self.setStyleSheet(STYLE)
        self.setMinimumSize(280, 220)
        # opened beside the panel at its start: the keyboard stays with the panel (a click focuses it)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self._build(role)
        self._echo_timer = QTimer(self)
        self._echo_timer.setSingleShot(True)
        self._echo_timer.setInterval(ECHO_DELAY_MS)
        self._echo_timer.timeout.connect(self._on_echo_timer_timeout)
        self.input.sig_submitted.connect(self._on_input_submitted)
        self.input.sig_new_chat_requested.connect(self._on_input_new_chat_requested)
        self._files.reset(self.transcript_path)

    def _build(self, role: str) -> None:
        header = QWidget(self)
        header.setObjectName("header")
        name = QLabel(f"<b>{html.escape(self.agent_id)}</b>", header)
        name.setObjectName("name")
        tag = QLabel(html.escape(role), header)
        tag.setObjectName("role")
        tag.setToolTip("A simulated agent started by Quarterdeck's demo: it only records and echoes")
        self.count_label = QLabel("no messages yet", header)
        self.count_label.setObjectName("count")
        top = QHBoxLayout(header)
        top.setContentsMargins(14, 10, 14, 10)
        top.addWidget(name)
        top.addWidget(tag)
        top.addStretch(1)
        top.addWidget(self.count_label)

        self.view = QTextBrowser(self)
        self.view.setObjectName("transcript")
        self.view.setOpenLinks(False)
        self.view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.view.setPlaceholderText("Messages Quarterdeck sends to this agent appear here.")

        self.input = ChatInput(self)
        self.input.setObjectName("input")
        self.input.setPlaceholderText(f"Message {self.agent_id}…")
        self.input.setTabChangesFocus(True)
        self.input.setFixedHeight(64)
        # The keys are spelt out below the box, not in a tooltip: a tooltip popping up where the
        # pointer rests after a delivery's click could take the next click.
        self.hint = QLabel(KEYS_HINT, self)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)  # a small window (a small screen, many agents) still shows all of it

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 10)
        layout.setSpacing(8)
        layout.addWidget(header)
        layout.addWidget(self.view, 1)
        for widget in (self.input, self.hint):
            row = QHBoxLayout()
            row.setContentsMargins(12, 0, 12, 0)
            row.addWidget(widget)
            layout.addLayout(row)
        self.input.setFocus()

    def input_centre(self) -> QPoint:
        """The middle of the message box in global logical coordinates: where a click focuses it."""
        return self.input.mapToGlobal(self.input.rect().center())

    # -- what arrives -----------------------------------------------------------------------------

    @Slot(str, bool)
    def _on_input_submitted(self, text: str, urgent: bool) -> None:
        self._on_echo_timer_timeout()  # an earlier echo stays next to its own message
        self.received += 1
        now = datetime.now()
        self._files.append(self.transcript_path, message_record(self.received, text, urgent=urgent, at=now))
        label = f"Captain · {now:%H:%M:%S}" + (" · urgent" if urgent else "")
        self._add(message_html(html.escape(label), _body(text), urgent=urgent))
        self.count_label.setText(f"{self.received} message{'s' if self.received != 1 else ''}")
        lines = text.count("\n") + 1
        self._echoes.append(f"received {len(text)} characters on {lines} line{'s' if lines != 1 else ''} ✓")
        self._echo_timer.start()

    @Slot()
    def _on_input_new_chat_requested(self) -> None:
        self._on_echo_timer_timeout()
        now = datetime.now()
        self._files.append(self.transcript_path, new_chat_record(now))
        self._add(NEW_CHAT_HTML.format(header=f"— new chat — {now:%H:%M:%S}"))

    @Slot()
    def _on_echo_timer_timeout(self) -> None:
        while self._echoes:
            self._add(ECHO_HTML.format(header=html.escape(f"{self.agent_id} · demo echo"),
                                       body=html.escape(self._echoes.popleft())))

    def _add(self, block: str) -> None:
        self.view.append(block)
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.maximum())

    # -- where it is ------------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Move, QEvent.Type.Resize):
            self.sig_geometry_changed.emit()
        return super().event(event)


def _body(text: str) -> str:
    """The message as HTML that keeps every space, tab and line break."""
    return html.escape(text).replace("\n", "<br>")
