"""A slim bar above the editor for things the user should act on or know about now: a draft
saved instead of the rules, a file changed on disk, drafts left from an earlier session.

One notice at a time, each with at most one action button; a newer notice replaces the older.
A "draft saved (N errors)" warning does not outlive its errors: once the text checks clean it
becomes "errors fixed, save to activate" (or goes, when nothing is left to save).
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

LEVEL_COLOURS = {"info": "#1e88e5", "warning": "#fb8c00", "error": "#e53935", "ok": "#43a047"}


class NoticeBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rule-notice")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setObjectName("rule-notice-text")
        self.action_button = QPushButton()
        self.action_button.clicked.connect(self._on_action_clicked)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss this notice")
        self.close_button.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self._action: Callable[[], None] | None = None
        self.kind = ""
        self.hide()

    def show_notice(self, text: str, level: str = "info", *, kind: str = "",
                    action: tuple[str, Callable[[], None]] | None = None) -> None:
        """Show ``text``; ``action`` is a button (label, callback) that also closes the notice."""
        self.kind = kind
        colour = LEVEL_COLOURS[level]
        self.setStyleSheet(f"#rule-notice {{ border-left: 4px solid {colour}; border-radius: 2px; }}")
        self.label.setText(text)
        self._action = action[1] if action else None
        self.action_button.setVisible(action is not None)
        if action is not None:
            self.action_button.setText(action[0])
        self.show()

    def follow_draft(self, errors: int, modified: bool, save: Callable[[], None]) -> None:
        """After a check: retire the draft warning once ``errors`` is 0, bring it back as fixed-then-broken."""
        if self.kind == "draft" and not errors:
            if modified:
                self.show_notice("The errors are fixed: save (Ctrl+S) to make these rules active.", "info",
                                 kind="draft-fixed", action=("Save rules", save))
            else:
                self.clear()
        elif self.kind == "draft-fixed" and (errors or not modified):
            self.clear()  # broken again, or reverted: the problems list says what is wrong

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    @Slot()
    def clear(self) -> None:
        self.kind = ""
        self._action = None
        self.label.clear()
        self.hide()

    @Slot()
    def _on_action_clicked(self) -> None:
        action = self._action
        self.clear()
        if action is not None:
            action()
