"""The text editor for one rule file: line numbers, problem marks in the gutter, wave underlines.

Problems are drawn as ExtraSelections rather than merged into the highlighter's formats, so
marking them never touches the document or its undo stack. The checker counts columns in code
points while Qt counts UTF-16 units; ``position_at`` converts (an emoji earlier on the line
shifts the underline by two units, not one).
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, Qt, Slot
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QHelpEvent,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from quarterdeck.core.validation import Diagnostic
from quarterdeck.core.validation.editing import underline_span, utf16_column, utf16_len
from quarterdeck.gui.ruleedit.highlighter import YamlHighlighter

#: problem colours, chosen to read on light and dark bases alike
SEVERITY_COLOURS = {"error": "#e53935", "warning": "#fb8c00"}
INDENT = "  "  # YAML forbids tabs: Tab inserts spaces


class _Gutter(QWidget):
    """Line numbers and problem dots; hovering a dot shows the problems of that line."""

    def __init__(self, editor: RuleEditor) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.editor.paint_gutter(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.editor.problems_on_line(self.editor.line_at_y(event.pos().y()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)


class RuleEditor(QPlainTextEdit):
    """Edits one rule file called ``name``; ``set_diagnostics`` shows the checker's problems."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setObjectName(f"rule-editor-{name}")
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setPlaceholderText("rules:\n  my-rule:\n    severity: error\n    given: content\n"
                                "    then: {function: required}")
        self._marks: list[tuple[QTextCursor, Diagnostic]] = []
        self._line_marks: dict[int, str] = {}
        self.gutter = _Gutter(self)
        self.highlighter = YamlHighlighter(self.document(), self.palette())
        self.blockCountChanged.connect(self._on_self_block_count_changed)
        self.updateRequest.connect(self._on_self_update_requested)
        self.cursorPositionChanged.connect(self._on_self_cursor_moved)
        self._on_self_block_count_changed(0)
        self._refresh_selections()

    # -- problems ----------------------------------------------------------------------------
    def position_at(self, line: int, col: int) -> int:
        """The document position (UTF-16) of a 1-based line and code-point column, clamped."""
        document = self.document()
        block = document.findBlockByNumber(max(0, line - 1))
        if not block.isValid():
            return document.characterCount() - 1
        text = block.text()
        return block.position() + min(utf16_column(text, max(0, col - 1)), utf16_len(text))

    def set_diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        """Underline each problem on its first line and mark its line in the gutter."""
        self._marks = []
        self._line_marks = {}
        document = self.document()
        for diagnostic in sorted(diagnostics, key=lambda d: d.is_error):  # errors drawn last, on top
            block = document.findBlockByNumber(diagnostic.line0)
            if not block.isValid():
                block = document.lastBlock()
            text = block.text()
            end_col0 = None
            if diagnostic.end_line == diagnostic.line and diagnostic.end_col is not None:
                end_col0 = diagnostic.end_col - 1
            elif diagnostic.end_line is not None and diagnostic.end_line > diagnostic.line:
                end_col0 = len(text)
            first, last = underline_span(text, diagnostic.col0, end_col0)
            cursor = QTextCursor(document)
            cursor.setPosition(block.position() + utf16_column(text, first))
            cursor.setPosition(block.position() + utf16_column(text, last), QTextCursor.MoveMode.KeepAnchor)
            self._marks.append((cursor, diagnostic))
            number = block.blockNumber()
            if self._line_marks.get(number) != "error":
                self._line_marks[number] = diagnostic.severity
        self._refresh_selections()
        self.gutter.update()

    def diagnostics(self) -> list[Diagnostic]:
        return [diagnostic for _, diagnostic in self._marks]

    def problems_on_line(self, number: int) -> str:
        """The messages of the problems marked on block ``number`` (0-based), one per line."""
        found = [d for c, d in self._marks if self.document().findBlock(c.selectionStart()).blockNumber() == number]
        return "\n".join(f"{d.severity}: {d.message}" for d in found)

    def move_to(self, line: int, col: int) -> None:
        """Put the cursor at a 1-based line and code-point column and show it."""
        cursor = self.textCursor()
        cursor.setPosition(self.position_at(line, col))
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def _refresh_selections(self) -> None:
        current = QTextEdit.ExtraSelection()
        shade = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        shade.setAlpha(28)
        current.format.setBackground(shade)
        current.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        current.cursor = self.textCursor()
        current.cursor.clearSelection()
        selections = [current]
        for cursor, diagnostic in self._marks:
            selection = QTextEdit.ExtraSelection()
            selection.format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            selection.format.setUnderlineColor(QColor(SEVERITY_COLOURS[diagnostic.severity]))
            selection.cursor = cursor
            selections.append(selection)
        self.setExtraSelections(selections)

    # -- events ------------------------------------------------------------------------------
    def viewportEvent(self, event: QEvent) -> bool:
        """Hovering an underlined problem shows its message (tooltips arrive at the viewport)."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            position = self.cursorForPosition(event.pos()).position()
            found = [f"{d.severity}: {d.message}" for c, d in self._marks
                     if c.selectionStart() <= position <= c.selectionEnd()]
            if found:
                QToolTip.showText(event.globalPos(), "\n".join(found), self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Tab and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.insertPlainText(INDENT)
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.highlighter.set_palette(self.palette())
            self._refresh_selections()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        rect = self.contentsRect()
        self.gutter.setGeometry(QRect(rect.left(), rect.top(), self.gutter_width(), rect.height()))

    # -- gutter ------------------------------------------------------------------------------
    def gutter_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        return 18 + self.fontMetrics().horizontalAdvance("9") * max(2, digits) + 6

    def line_at_y(self, y: int) -> int:
        """The block number shown at gutter height ``y`` (-1 below the last line)."""
        block = self.firstVisibleBlock()
        top = self.blockBoundingGeometry(block).translated(self.contentOffset()).top()
        while block.isValid():
            bottom = top + self.blockBoundingRect(block).height()
            if top <= y < bottom:
                return block.blockNumber()
            block, top = block.next(), bottom
        return -1

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self.gutter)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.AlternateBase))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        current = self.textCursor().blockNumber()
        dot = max(6, min(9, height - 6))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            number = block.blockNumber()
            if block.isVisible() and bottom >= event.rect().top():
                severity = self._line_marks.get(number)
                if severity is not None:
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.setBrush(QColor(SEVERITY_COLOURS[severity]))
                    painter.drawEllipse(4, top + (height - dot) // 2, dot, dot)
                role = QPalette.ColorRole.Text if number == current else QPalette.ColorRole.PlaceholderText
                painter.setPen(palette.color(role))
                painter.drawText(0, top, self.gutter.width() - 6, height, Qt.AlignmentFlag.AlignRight,
                                 str(number + 1))
            block, top = block.next(), bottom
        painter.end()

    @Slot(int)
    def _on_self_block_count_changed(self, _count: int) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    @Slot(QRect, int)
    def _on_self_update_requested(self, rect: QRect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    @Slot()
    def _on_self_cursor_moved(self) -> None:
        self._refresh_selections()
        self.gutter.update()
