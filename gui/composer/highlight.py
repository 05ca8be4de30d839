"""Showing the live rule check: wavy underlines in the text, the problem list, the score.

Rule spans count Python code points; a ``QTextCursor`` counts UTF-16 units, where an astral
character such as 🚀 takes two. ``utf16_offset`` converts, so an underline after an emoji still
sits under the right characters. Underlines are ``ExtraSelection``s: they leave the document and
its undo history alone.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QStyle,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from core.compose import Check, Problem

SEVERITY_COLOURS = {"error": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}
STATUS_COLOURS = {"PASS": "#2e7d32", "WARN": "#ef6c00", "FAIL": "#c62828"}
SEVERITY_ICONS = {"error": QStyle.StandardPixmap.SP_MessageBoxCritical,
                  "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
                  "info": QStyle.StandardPixmap.SP_MessageBoxInformation}
PROBLEM_ROLE = Qt.ItemDataRole.UserRole


def utf16_offset(text: str, index: int) -> int:
    """The UTF-16 position of code point ``index`` in ``text`` (astral characters count 2)."""
    head = text[:index]
    return len(head) + sum(1 for ch in head if ord(ch) > 0xFFFF)


def underline(edit: QPlainTextEdit, problems: Sequence[Problem]) -> list[QTextEdit.ExtraSelection]:
    """Put a wavy underline under each problem's span; returns the selections now shown."""
    text = edit.toPlainText()
    selections = []
    for problem in problems:
        if problem.span is None:
            continue
        start, end = problem.span
        start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
        if end <= start:
            continue
        cursor = QTextCursor(edit.document())
        cursor.setPosition(utf16_offset(text, start))
        cursor.setPosition(utf16_offset(text, end), QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(QColor(SEVERITY_COLOURS.get(problem.severity, "#c62828")))
        fmt.setToolTip(problem.message)
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        selection.format = fmt
        selections.append(selection)
    edit.setExtraSelections(selections)
    return selections


class ChecksView(QWidget):
    """The score (coloured by status) over the list of problems, worst first."""

    sig_problem_activated = Signal(object)  # core.compose.Problem: go to it in the text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.score = QLabel("")
        self.score.setObjectName("composer-score")
        self.score.setToolTip("Compliance score: 100 minus 25 per error, 10 per warning, 2 per info")
        self.summary = QLabel("")
        self.summary.setObjectName("composer-check-summary")
        self.summary.setStyleSheet("color: #555;")
        self.list = QListWidget()
        self.list.setObjectName("composer-problems")
        self.list.setWordWrap(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setToolTip("Rule problems in the message; Enter or click selects the spot in the text")
        self.list.setMaximumHeight(120)
        self.list.setVisible(False)
        self.list.clicked.connect(self._on_list_clicked)
        self.list.activated.connect(self._on_list_clicked)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.score)
        top.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.list)
        self.show_idle("Type a message; the rules check it as you type.")

    def show_idle(self, note: str) -> None:
        self._set_score(None, None)
        self.summary.setText(note)
        self.list.clear()
        self.list.setVisible(False)

    def show_check(self, result: Check, *, validation_on: bool) -> None:
        self._set_score(result.score, result.status)
        self.list.clear()
        for problem in result.problems:
            text = problem.message
            if problem.agents:
                text += f"  (for {', '.join(problem.agents)})"
            item = QListWidgetItem(self.style().standardIcon(SEVERITY_ICONS.get(problem.severity,
                                                                                 SEVERITY_ICONS["error"])), text)
            item.setData(PROBLEM_ROLE, problem)
            item.setToolTip(f"{problem.severity}: {problem.rule_id}\n{problem.message}")
            item.setForeground(QColor(SEVERITY_COLOURS.get(problem.severity, "#333")))
            self.list.addItem(item)
        self.list.setVisible(bool(result.problems))
        counts = {s: sum(1 for p in result.problems if p.severity == s) for s in SEVERITY_COLOURS}
        parts = [f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n]
        if not validation_on:
            self.summary.setText("Rule checks are off in the settings." + (
                "  " + ", ".join(parts) if parts else ""))
        elif parts:
            blocked = " — fix the errors to send" if counts["error"] else ""
            self.summary.setText(", ".join(parts) + blocked)
        else:
            self.summary.setText("No rule problems.")

    def problems(self) -> list[Problem]:
        return [self.list.item(i).data(PROBLEM_ROLE) for i in range(self.list.count())]

    def _set_score(self, score: int | None, status: str | None) -> None:
        if score is None or status is None:
            self.score.setText("")
            self.score.setVisible(False)
            return
        colour = STATUS_COLOURS.get(status, "#757575")
        self.score.setText(f"{score} · {status}")
        self.score.setStyleSheet(f"QLabel {{ background: {colour}; color: white; font-weight: bold;"
                                 " padding: 2px 8px; border-radius: 8px; }")
        self.score.setVisible(True)

    @Slot(QModelIndex)
    def _on_list_clicked(self, index: QModelIndex) -> None:
        problem = index.data(PROBLEM_ROLE)
        if problem is not None:
            self.sig_problem_activated.emit(problem)
