"""The preview: each recipient's final text exactly as it will be delivered (header line included).

The texts come from ``quarterdeck.core.compose.draft.preview``, which formats them with the same
``format_for_delivery`` the dispatcher uses, so what the captain reads here is what gets typed,
with one exception: a text holding what looks like a secret is shown redacted
(``[REDACTED:github_token]``) under a red warning, so the preview never puts it on screen.
"""
from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.validation.secrets import find_secrets, redact


class PreviewDialog(QDialog):
    def __init__(self, texts: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer-preview")
        self.setWindowTitle("Preview: what each agent receives")
        found = {agent: find_secrets(text) for agent, text in texts}
        self.secrets = {agent: sorted({f.kind.replace("_", " ") for f in hits})
                        for agent, hits in found.items() if hits}
        self.texts = [(agent, redact(text, found[agent]) if found[agent] else text) for agent, text in texts]
        distinct = len({text.split("\n", 1)[-1] for _, text in self.texts})
        same = "the same text" if distinct == 1 else f"{distinct} different texts"
        self.note = QLabel(f"{len(self.texts)} recipient{'s' if len(self.texts) != 1 else ''}, {same}. "
                           "The first line is the header every delivery starts with.")
        self.note.setWordWrap(True)
        self.warning = QLabel()
        self.warning.setObjectName("composer-preview-warning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("QLabel { background: #ffebee; color: #b71c1c; border-left: 4px solid #c62828;"
                                   " padding: 4px 8px; font-weight: bold; }")
        if self.secrets:
            kinds = sorted({kind for kinds in self.secrets.values() for kind in kinds})
            who = ", ".join(self.secrets)
            self.warning.setText(f"⚠ This text contains what looks like a secret ({', '.join(kinds)}), for {who}: "
                                 "shown redacted here. Remove it before sending; if it was real, rotate it.")
        self.warning.setVisible(bool(self.secrets))
        self.agents = QListWidget()
        self.agents.setObjectName("composer-preview-agents")
        self.agents.addItems([agent_id for agent_id, _ in self.texts])
        self.text = QPlainTextEdit()
        self.text.setObjectName("composer-preview-text")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # line breaks exactly as sent
        split = QSplitter()
        split.addWidget(self.agents)
        split.addWidget(self.text)
        split.setStretchFactor(1, 1)
        split.setSizes([140, 480])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.warning)
        layout.addWidget(self.note)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.agents.currentRowChanged.connect(self._on_agents_current_row_changed)
        if self.texts:
            self.agents.setCurrentRow(0)
        self.agents.setFocus()
        self.resize(780, 420)

    def shown_text(self) -> str:
        return self.text.toPlainText()

    @Slot(int)
    def _on_agents_current_row_changed(self, row: int) -> None:
        self.text.setPlainText(self.texts[row][1] if 0 <= row < len(self.texts) else "")
