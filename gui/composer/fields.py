"""The message's compact settings row: type, priority (an Urgent check) and the standard tags."""
from __future__ import annotations

from typing import get_args

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from quarterdeck.core.models import STANDARD_TAGS, MessageType

TYPE_TIPS = {"text": "A direct message to the checked agents",
             "broadcast": "One text to everyone (no recipients) or to two or more agents; marked BROADCAST",
             "onboarding": "Starts a new chat where the agent has one (gui agents); marked ONBOARDING"}


class MessageFields(QWidget):
    sig_changed = Signal()  # any of the fields changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.type_box = QComboBox()
        self.type_box.setObjectName("composer-type")
        for i, kind in enumerate(get_args(MessageType)):
            self.type_box.addItem(kind, kind)
            self.type_box.setItemData(i, TYPE_TIPS[kind], Qt.ItemDataRole.ToolTipRole)
        self.type_box.setToolTip("Message type (shown in the header line the agent reads)")
        self.urgent = QCheckBox("&Urgent")
        self.urgent.setObjectName("composer-urgent")
        self.urgent.setToolTip("Priority urgent: marked URGENT and submitted with the agent's urgent keys")
        self.tag_buttons: dict[str, QToolButton] = {}
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        type_label = QLabel("T&ype")
        type_label.setBuddy(self.type_box)
        row.addWidget(type_label)
        row.addWidget(self.type_box)
        row.addWidget(self.urgent)
        row.addSpacing(6)
        for tag in STANDARD_TAGS:
            button = QToolButton()
            button.setObjectName(f"composer-tag-{tag}")
            button.setText(f"#{tag}")
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolTip(f"Tag the message {tag!r}")
            button.setStyleSheet("QToolButton:checked { background: #e3f2fd; color: #0d47a1;"
                                 " border: 1px solid #90caf9; border-radius: 8px; }"
                                 " QToolButton { padding: 1px 6px; }")
            button.toggled.connect(self.sig_changed)
            self.tag_buttons[tag] = button
            row.addWidget(button)
        row.addStretch(1)
        self.type_box.currentIndexChanged.connect(self.sig_changed)
        self.urgent.toggled.connect(self.sig_changed)

    # -- values ------------------------------------------------------------------------------------
    @property
    def message_type(self) -> str:
        return str(self.type_box.currentData())

    def set_type(self, kind: str) -> None:
        index = self.type_box.findData(kind)
        if index >= 0:
            self.type_box.setCurrentIndex(index)

    @property
    def priority(self) -> str:
        return "urgent" if self.urgent.isChecked() else "normal"

    def tags(self) -> tuple[str, ...]:
        return tuple(tag for tag, button in self.tag_buttons.items() if button.isChecked())

    def set_tags(self, tags: tuple[str, ...]) -> None:
        for tag, button in self.tag_buttons.items():
            button.setChecked(tag in tags)
