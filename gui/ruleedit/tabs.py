"""One editor tab per rule file, each remembering the text last read from or written to disk.

"Modified" means the editor's text differs from that saved text, so undoing back to it clears
the mark. Reverting and reloading replace the text through a cursor edit, which keeps them on
the undo stack (Ctrl+Z brings the discarded edits back).
"""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtWidgets import QTabWidget, QWidget

from quarterdeck.core.validation.editing import RuleCheck
from quarterdeck.gui.ruleedit.editor import SEVERITY_COLOURS, RuleEditor

MODIFIED_MARK = " •"


class RuleTabs(QTabWidget):
    sig_text_edited = Signal()  # any editor's text changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rule-tabs")
        self.setDocumentMode(True)
        self.setUsesScrollButtons(True)
        self._editors: dict[str, RuleEditor] = {}
        self._saved: dict[str, str] = {}

    def set_files(self, texts: dict[str, str]) -> None:
        """Show one editor per file, in the given (load) order."""
        while self.count():
            widget = self.widget(0)
            self.removeTab(0)
            if widget is not None:
                widget.deleteLater()
        self._editors, self._saved = {}, {}
        for name, text in texts.items():
            editor = RuleEditor(name, self)
            editor.setPlainText(text)
            self._editors[name] = editor
            self._saved[name] = editor.toPlainText()
            editor.textChanged.connect(self._on_editor_text_changed)
            self.addTab(editor, name)
        self.refresh_titles(None)

    # -- reading -----------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self._editors)

    def editor(self, name: str) -> RuleEditor:
        return self._editors[name]

    def current_editor(self) -> RuleEditor | None:
        widget = self.currentWidget()
        return widget if isinstance(widget, RuleEditor) else None

    def texts(self) -> dict[str, str]:
        return {name: editor.toPlainText() for name, editor in self._editors.items()}

    def saved_text(self, name: str) -> str:
        return self._saved[name]

    def is_modified(self, name: str) -> bool:
        return self._editors[name].toPlainText() != self._saved[name]

    def modified_texts(self) -> dict[str, str]:
        return {name: text for name, text in self.texts().items() if text != self._saved[name]}

    # -- changing ----------------------------------------------------------------------------
    def mark_saved(self, texts: dict[str, str]) -> None:
        """``texts`` are now what the files hold on disk."""
        self._saved.update({name: text for name, text in texts.items() if name in self._editors})
        self.refresh_titles(None)

    def replace_text(self, name: str, text: str) -> None:
        """Replace the editor's whole text as one undoable edit."""
        editor = self._editors[name]
        if editor.toPlainText() == text:
            return
        cursor = QTextCursor(editor.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()

    def show_editor(self, name: str) -> RuleEditor:
        editor = self._editors[name]
        self.setCurrentWidget(editor)
        return editor

    def refresh_titles(self, check: RuleCheck | None) -> None:
        """Mark modified files with a dot, and files with errors in red with their count."""
        for index in range(self.count()):
            editor = self.widget(index)
            if not isinstance(editor, RuleEditor):
                continue
            name = editor.name
            problems = check.for_file(name) if check is not None else editor.diagnostics()
            errors = sum(1 for d in problems if d.is_error)
            warnings = len(problems) - errors
            title = name + (MODIFIED_MARK if self.is_modified(name) else "")
            if errors:
                title += f" ({errors})"
            self.setTabText(index, title)
            colour = SEVERITY_COLOURS["error"] if errors else SEVERITY_COLOURS["warning"] if warnings else None
            self.tabBar().setTabTextColor(index, QColor(colour) if colour else self.palette().windowText().color())
            state = "unsaved edits" if self.is_modified(name) else "saved"
            self.setTabToolTip(index, f"{name}: {state}; {errors} errors, {warnings} warnings")

    @Slot()
    def _on_editor_text_changed(self) -> None:
        self.sig_text_edited.emit()
