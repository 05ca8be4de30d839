"""The composer's template row: pick a template, fill placeholders per agent, save your own.

Listing, reading and writing template files is file I/O, so all of it runs through ``ctx.jobs``;
the chosen template's text comes back to the panel by ``sig_template_loaded``. "Fill placeholders"
decides whether ``{agent_id}``-style slots are filled per recipient (on when a template is loaded).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QInputDialog, QToolButton, QWidget

from quarterdeck.core.compose import templates
from quarterdeck.core.compose.templates import TemplateInfo

if TYPE_CHECKING:
    from quarterdeck.gui.context import AppContext


def ask_template_name(parent: QWidget, suggestion: str) -> str | None:
    name, ok = QInputDialog.getText(parent, "Save as template", "Template name:", text=suggestion)
    return name.strip() if ok and name.strip() else None


class TemplateBar(QWidget):
    sig_template_loaded = Signal(str, str)  # name, text
    sig_reported = Signal(str, bool)  # text, is an error

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.ask_name: Callable[[QWidget, str], str | None] = ask_template_name  # tests replace it
        self.templates: list[TemplateInfo] = []
        self.combo = QComboBox()
        self.combo.setObjectName("composer-templates")
        self.combo.setToolTip("Load a template into the text box (Ctrl+Z puts the old text back)")
        self.combo.setMinimumContentsLength(12)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.fill = QCheckBox("Fill {placeholders}")
        self.fill.setObjectName("composer-fill")
        self.fill.setToolTip(f"Fill {templates.known_list()} for each recipient: everyone gets a text "
                             "of their own. Off: braces are sent as typed.")
        self.save_button = QToolButton()
        self.save_button.setObjectName("composer-save-template")
        self.save_button.setText("Save as template…")
        self.save_button.setToolTip("Save the text box as one of your templates "
                                    f"(in {templates.user_templates_dir()})")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.fill)
        row.addWidget(self.save_button)
        self.combo.activated.connect(self._on_combo_activated)
        self._fill_combo()
        self.refresh()

    # -- listing ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._ctx.jobs.run(templates.list_templates, self._listed, self._failed, owner=self)

    def _listed(self, found: list[TemplateInfo]) -> None:
        self.templates = list(found)
        self._fill_combo()

    def _fill_combo(self) -> None:
        self.combo.clear()
        self.combo.addItem("Template…" if self.templates else "No templates found", None)
        for info in self.templates:
            self.combo.addItem(info.label, info.name)
            self.combo.setItemData(self.combo.count() - 1, str(info.path), Qt.ItemDataRole.ToolTipRole)
        self.combo.setEnabled(bool(self.templates))

    def info(self, name: str) -> TemplateInfo | None:
        return next((t for t in self.templates if t.name == name), None)

    # -- loading ---------------------------------------------------------------------------------
    def load(self, name: str) -> None:
        info = self.info(name)
        if info is None:
            self.sig_reported.emit(f"No template named {name!r}.", True)
            return

        def loaded(text: str) -> None:
            self.sig_template_loaded.emit(info.name, text)

        self._ctx.jobs.run(lambda: templates.load_template(info), loaded, self._failed, owner=self)

    @Slot(int)
    def _on_combo_activated(self, index: int) -> None:
        name = self.combo.itemData(index)
        self.combo.setCurrentIndex(0)
        if name:
            self.load(name)

    # -- saving ----------------------------------------------------------------------------------
    def save(self, text: str) -> None:
        """Ask for a name, then write ``text`` as a user template (refused if it does not parse)."""
        if not text.strip():
            self.sig_reported.emit("The text box is empty: nothing to save as a template.", True)
            return
        name = self.ask_name(self, "")
        if not name:
            return
        try:
            name = templates.check_template_name(name)
            templates.parse(text)
        except ValueError as exc:
            self.sig_reported.emit(f"Not saved: {exc}", True)
            return

        existing = self.info(name)
        verb = "replaced" if existing is not None and not existing.bundled else "saved"

        def saved(info: TemplateInfo) -> None:
            self.sig_reported.emit(f"Template {info.name!r} {verb} ({info.path}).", False)
            self.refresh()

        self._ctx.jobs.run(lambda: templates.save_template(name, text), saved, self._failed, owner=self)

    def _failed(self, error: BaseException) -> None:
        self.sig_reported.emit(f"Templates: {error}", True)
