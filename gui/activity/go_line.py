"""The foot of the Attention panel: **Go to agent**, the line saying what going there did, and,
when no tmux client shows the agent's pane, the ``tmux attach`` command with a Copy button."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

HINT = "Enter or Go to agent brings the selected agent to the front (its window, or its tmux pane)"


class GoLine(QWidget):
    """``go`` runs on a click of Go to agent; ``told(text)`` hears every line said (the status bar)."""

    def __init__(self, go: Callable[[], object], told: Callable[[str], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._told = told
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.go_button = QPushButton("Go to agent")
        self.go_button.setObjectName("attention-go")
        self.go_button.setToolTip("Bring the selected agent to the front: its window raised, or its tmux pane "
                                  "selected (Enter)")
        self.go_button.clicked.connect(go)
        row.addWidget(self.go_button)
        self.status = QLabel(HINT)
        self.status.setObjectName("attention-status")
        self.status.setStyleSheet("color: #607d8b;")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.status, 1)
        layout.addLayout(row)
        attach = QHBoxLayout()
        self.attach = QLineEdit()
        self.attach.setObjectName("attention-attach")
        self.attach.setReadOnly(True)
        self.attach.setToolTip("No tmux client shows this pane: run this in a terminal to see it")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("attention-copy")
        self.copy_button.clicked.connect(self._on_copy_clicked)
        attach.addWidget(self.attach, 1)
        attach.addWidget(self.copy_button)
        layout.addLayout(attach)
        self.show_attach(None)

    def say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if error else "color: #333;")
        self._told(text)

    def show_attach(self, command: str | None) -> None:
        """The command to copy (None: hidden)."""
        self.attach.setText(command or "")
        self.attach.setVisible(command is not None)
        self.copy_button.setVisible(command is not None)

    @Slot()
    def _on_copy_clicked(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None and self.attach.text():
            clipboard.setText(self.attach.text())
            self.say(f"Copied: {self.attach.text()}")
