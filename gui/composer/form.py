"""The Composer panel's widgets and their layout (the panel wires them; see ``quarterdeck.gui.composer.panel``).

Three resizable parts: who (recipients), what (fields, template row, text box, the live chips
of the last send right under it, rule check, send row) and the per-recipient table of the last
send. Every control has a mnemonic or a shortcut.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.gui.composer.chips import ProgressChips
from quarterdeck.gui.composer.fields import MessageFields
from quarterdeck.gui.composer.highlight import ChecksView
from quarterdeck.gui.composer.progress import ProgressPane
from quarterdeck.gui.composer.recipients import RecipientsBox
from quarterdeck.gui.composer.sending import Notice
from quarterdeck.gui.composer.templates_ui import TemplateBar
from quarterdeck.gui.composer.when_idle import WhenIdleBox

if TYPE_CHECKING:
    from quarterdeck.gui.composer.gate import SendGate


def build_form(panel: SendGate) -> None:
    """Create the panel's widgets as its attributes and lay them out."""
    panel.notice = Notice(panel)
    panel.recipients = RecipientsBox(panel.ctx.settings, panel)
    panel.fields = MessageFields(panel)
    panel.templates = TemplateBar(panel.ctx, panel)
    panel.editor = QPlainTextEdit()
    panel.editor.setObjectName("composer-text")
    panel.editor.setPlaceholderText("Write to the checked agents…  Ctrl+Enter sends, Ctrl+Shift+Enter "
                                    "broadcasts, Ctrl+P previews")
    panel.editor.setTabChangesFocus(True)
    # three lines at the least (Qt's default is taller): on a 1366x768 screen a send's chips take the rest
    panel.editor.setMinimumHeight(3 * panel.editor.fontMetrics().lineSpacing()
                                  + 2 * int(panel.editor.document().documentMargin() + panel.editor.frameWidth()))
    panel.checks = ChecksView(panel)
    panel.captain_last = QCheckBox("Captain &last")
    panel.captain_last.setObjectName("composer-captain-last")
    panel.captain_last.setToolTip("Deliver to agents whose role is 'captain' after everyone else")
    panel.when_idle = WhenIdleBox(panel)
    panel.restore_button = QPushButton("Restore last")
    panel.restore_button.setObjectName("composer-restore")
    panel.restore_button.setToolTip("Put the last sent text back in the text box")
    panel.restore_button.setEnabled(False)
    panel.preview_button = QPushButton("Pre&view")
    panel.broadcast_button = QPushButton("&Broadcast")
    panel.send_button = QPushButton("&Send")
    panel.send_button.setObjectName("composer-send")
    panel.send_button.setDefault(True)
    panel.send_button.setStyleSheet("QPushButton:enabled { font-weight: bold; }")
    panel.broadcast_button.setObjectName("composer-broadcast")
    panel.preview_button.setObjectName("composer-preview-button")
    panel.progress = ProgressPane(panel.ctx, panel)
    panel.chips = ProgressChips(panel.progress.progress, panel)
    to_label = QLabel("&To")
    to_label.setBuddy(panel.recipients.list)
    text_label = QLabel("&Message")
    text_label.setBuddy(panel.editor)
    to_label.setMinimumWidth(to_label.fontMetrics().horizontalAdvance("To") + 6)
    panel.recipients.row.insertWidget(0, to_label)  # beside the filter, not a line of its own: room on small screens
    panel.recipients.row.insertSpacing(1, 4)
    middle = QWidget()
    mid = QVBoxLayout(middle)
    mid.setContentsMargins(0, 0, 0, 0)
    mid.setSpacing(6)
    mid.addWidget(panel.fields)
    mid.addWidget(panel.templates)
    mid.addWidget(text_label)
    mid.addWidget(panel.editor, 1)
    mid.addWidget(panel.chips)
    mid.addWidget(panel.checks)
    options = QHBoxLayout()  # a row of its own: beside the buttons they outgrow a 1366-wide screen's dock
    options.addWidget(panel.captain_last)
    options.addWidget(panel.when_idle)
    options.addStretch(1)
    mid.addLayout(options)
    buttons = QHBoxLayout()
    buttons.addStretch(1)
    for button in (panel.restore_button, panel.preview_button, panel.broadcast_button, panel.send_button):
        buttons.addWidget(button)
    mid.addLayout(buttons)
    split = QSplitter(Qt.Orientation.Vertical)
    split.setObjectName("composer-split")
    split.setChildrenCollapsible(False)
    for widget, stretch in ((panel.recipients, 2), (middle, 4), (panel.progress, 2)):
        split.addWidget(widget)
        split.setStretchFactor(split.count() - 1, stretch)
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.setSpacing(6)
    layout.addWidget(panel.notice)
    layout.addWidget(split, 1)
