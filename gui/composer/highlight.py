"""Showing the live rule check: wavy underlines in the text, the problem list, the score.

Rule spans count Python code points; a ``QTextCursor`` counts UTF-16 units, where an astral
character such as 🚀 takes two. ``utf16_offset`` converts, so an underline after an emoji still
sits under the right characters. Underlines are ``ExtraSelection``s: they leave the document and
its undo history alone; a plain text box shows no tooltip for them, so ``UnderlineTips`` answers
the hover itself: the rule id, its severity and message.

Each problem in the list offers "Open rule" (the Rules panel, at that rule) and "Allow here" (a
warning or info accepted for this send only; never an error, which blocks, and so never a
blocked secret), by button and by context menu. ``flash`` makes a blocked send impossible to miss.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer, Signal, SignalInstance, Slot
from PySide6.QtGui import QColor, QHelpEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QTextEdit,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.compose.draft import Check, Problem

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
        fmt.setToolTip(problem_tip(problem))
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        selection.format = fmt
        selections.append(selection)
    edit.setExtraSelections(selections)
    return selections


def problem_tip(problem: Problem) -> str:
    return f"{problem.rule_id} ({problem.severity}): {problem.message}"


def problems_at(text: str, problems: Sequence[Problem], index: int) -> list[Problem]:
    """The problems whose span covers code point ``index`` (or ends right before it)."""
    return [p for p in problems if p.span is not None and p.span[0] <= index < max(p.span[1], p.span[0] + 1)]


class UnderlineTips(QObject):
    """Hovering an underline shows its problems' rule ids and messages (see the module docstring)."""

    def __init__(self, edit: QPlainTextEdit) -> None:
        super().__init__(edit)
        self._edit = edit
        self.problems: Sequence[Problem] = ()
        edit.viewport().installEventFilter(self)

    def tip_at(self, pos: QPoint) -> str:
        cursor = self._edit.cursorForPosition(pos)
        text = self._edit.toPlainText()
        utf16 = cursor.position()
        index, units = 0, 0
        while index < len(text) and units < utf16:
            units += 2 if ord(text[index]) > 0xFFFF else 1
            index += 1
        found = problems_at(text, self.problems, index)
        rect = self._edit.cursorRect(cursor)
        if not found and index > 0 and pos.x() < rect.left():  # the pointer is on the character before
            found = problems_at(text, self.problems, index - 1)
        return "\n".join(problem_tip(p) for p in found)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tip = self.tip_at(event.pos())
            if tip:
                QToolTip.showText(event.globalPos(), tip, self._edit.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return False


class ChecksView(QWidget):
    """The score (coloured by status) over the list of problems, worst first."""

    sig_problem_activated = Signal(object)  # quarterdeck.core.compose.draft.Problem: go to it in the text
    sig_open_rule = Signal(object)  # quarterdeck.core.compose.draft.Problem: show its rule in the Rules panel
    sig_allow = Signal(object)  # quarterdeck.core.compose.draft.Problem: accept it for this send

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
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._on_list_menu)
        self.list.currentRowChanged.connect(self._update_actions)
        self.known_rules: frozenset[str] = frozenset()  # ids the Rules panel can show
        self.open_rule_button = QPushButton("Open &rule")
        self.open_rule_button.setObjectName("composer-open-rule")
        self.open_rule_button.setToolTip("Show the selected problem's rule in the Rules panel")
        self.open_rule_button.clicked.connect(lambda: self._emit_current(self.sig_open_rule))
        self.allow_button = QPushButton("&Allow here")
        self.allow_button.setObjectName("composer-allow")
        self.allow_button.setToolTip("Accept this warning for this send only (errors can never be allowed)")
        self.allow_button.clicked.connect(lambda: self._emit_current(self.sig_allow))
        self._flashes = 0
        self._flash_timer = QTimer(self, interval=220)
        self._flash_timer.timeout.connect(self._flash_step)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.score)
        top.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.list)
        self.actions_row = QWidget()
        row = QHBoxLayout(self.actions_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.open_rule_button)
        row.addWidget(self.allow_button)
        layout.addWidget(self.actions_row)
        self.show_idle("Type a message; the rules check it as you type.")

    def show_idle(self, note: str) -> None:
        self._set_score(None, None)
        self.summary.setText(note)
        self.list.clear()
        self.list.setVisible(False)
        self._update_actions()

    def show_check(self, result: Check, *, validation_on: bool) -> None:
        self._set_score(result.score, result.status)
        self.list.setStyleSheet("")
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
        if self.list.count():
            self.list.setCurrentRow(0)
        self._update_actions()

    def current_problem(self) -> Problem | None:
        item = self.list.currentItem()
        return item.data(PROBLEM_ROLE) if item is not None else None

    def can_allow(self, problem: Problem | None) -> bool:
        return problem is not None and not problem.blocks

    def can_open(self, problem: Problem | None) -> bool:
        return problem is not None and problem.rule_id in self.known_rules

    def flash(self) -> None:
        """A send was blocked: select the first blocking problem and blink the list's border."""
        for row in range(self.list.count()):
            if self.list.item(row).data(PROBLEM_ROLE).blocks:
                self.list.setCurrentRow(row)
                break
        self.list.setVisible(self.list.count() > 0)
        self._flashes = 6
        self.setProperty("flashing", True)
        self._flash_step()
        self._flash_timer.start()

    def _flash_step(self) -> None:
        self._flashes -= 1
        on = self._flashes % 2 == 1
        style = "2px solid #c62828" if on else "2px solid transparent"
        self.list.setStyleSheet(f"QListWidget#composer-problems {{ border: {style}; }}")
        self.score.setProperty("blink", on)
        if self._flashes <= 0:
            self._flash_timer.stop()
            self.setProperty("flashing", False)
            self.list.setStyleSheet("QListWidget#composer-problems { border: 2px solid #c62828; }")

    @Slot()
    def _update_actions(self, *_: object) -> None:
        problem = self.current_problem()
        self.open_rule_button.setEnabled(self.can_open(problem))
        self.allow_button.setEnabled(self.can_allow(problem))
        self.actions_row.setVisible(self.list.isVisibleTo(self) and self.list.count() > 0)

    def _emit_current(self, signal: SignalInstance) -> None:
        problem = self.current_problem()
        if problem is not None:
            signal.emit(problem)

    @Slot(QPoint)
    def _on_list_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        self.list.setCurrentItem(item)
        problem = item.data(PROBLEM_ROLE)
        menu = QMenu(self.list)
        menu.setObjectName("composer-problem-menu")
        open_rule = menu.addAction("Open rule", lambda: self.sig_open_rule.emit(problem))
        open_rule.setEnabled(self.can_open(problem))
        allow = menu.addAction("Allow here", lambda: self.sig_allow.emit(problem))
        allow.setEnabled(self.can_allow(problem))
        if problem.blocks:
            allow.setToolTip("An error blocks sending; it cannot be allowed")
        menu.popup(self.list.viewport().mapToGlobal(pos))

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
