"""The dialogs behind the panel's actions: new contract, assign or claim, complete or cancel.

Each dialog checks what was typed with the core's own checks, then hands its values to the panel
(``sig_confirmed``) and stays open, saying so, until the panel's background write is done: a
refused move (another agent claimed the contract a moment ago) is shown at the top of the dialog,
which the captain can then correct or close. Ctrl+Enter confirms from any field.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.contracts import Contract, ContractError, contract_text, points_text
from quarterdeck.core.contracts.model import MAX_POINTS, check_description, check_title

ERROR_STYLE = "color: #c62828;"
HINT_STYLE = "color: #666;"
ANYONE = "Anyone: the first agent to claim it"


class ActionDialog(QDialog):
    """A form with an error line on top and OK/Close below; subclasses add fields and ``values``."""

    sig_confirmed = Signal(object)  # dict: what the panel needs to make the change

    def __init__(self, action: str, title: str, ok_text: str, parent: QWidget | None = None, *,
                 close_text: str = "Close") -> None:
        super().__init__(parent)
        self.action = action
        self.contract_id: int | None = None
        self.setObjectName(f"contracts-{action}-dialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("contracts-dialog-error")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setToolTip(f"{ok_text} (Ctrl+Enter)")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(close_text)
        self.buttons.accepted.connect(self.confirm)
        self.buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.confirm)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(10)
        layout.addWidget(self.error_label)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)

    def values(self) -> dict[str, Any]:
        return {}

    def problem(self) -> str:
        """What is wrong with the form, or ""."""
        return ""

    @Slot()
    def confirm(self) -> None:
        if not self.ok_button.isEnabled():
            return
        problem = self.problem()
        if problem:
            self.show_error(problem)
            return
        self.error_label.hide()
        self.ok_button.setEnabled(False)
        self.ok_button.setText("Saving…")
        self.sig_confirmed.emit(self.values())

    def show_error(self, text: str) -> None:
        """The change was refused (or the form is wrong): say why, and let the captain try again."""
        self.error_label.setText(text)
        self.error_label.show()
        self.ok_button.setEnabled(True)
        self.ok_button.setText(self.ok_button.toolTip().removesuffix(" (Ctrl+Enter)"))

    def _headline(self, contract: Contract) -> None:
        self.contract_id = contract.id
        label = QLabel(contract_text(contract).splitlines()[0], self)
        label.setObjectName("contracts-dialog-headline")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form.addRow(label)


class NewContractDialog(ActionDialog):
    def __init__(self, agents: list[str], parent: QWidget | None = None) -> None:
        super().__init__("create", "New contract", "Create", parent)
        self.title_edit = QLineEdit(self)
        self.title_edit.setPlaceholderText("What needs doing, in one line")
        self.description_edit = QPlainTextEdit(self)
        self.description_edit.setPlaceholderText("Details the agent needs: where, why, how to know it is done "
                                                 "(optional)")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setMinimumHeight(110)
        self.points_spin = QSpinBox(self)
        self.points_spin.setRange(0, MAX_POINTS)
        self.points_spin.setValue(1)
        self.points_spin.setToolTip("How big the task is; status sums the points each agent completed")
        self.assignee_combo = agent_combo(self, agents, anyone=True)
        self.form.addRow("&Title", self.title_edit)
        self.form.addRow("&Description", self.description_edit)
        self.form.addRow("&Points", self.points_spin)
        self.form.addRow("&Assign to", self.assignee_combo)
        self.title_edit.textChanged.connect(self._on_title_edit_text_changed)
        self._on_title_edit_text_changed(self.title_edit.text())

    @Slot(str)
    def _on_title_edit_text_changed(self, text: str) -> None:
        if self.ok_button.text() != "Saving…":
            self.ok_button.setEnabled(bool(text.strip()))

    def problem(self) -> str:
        try:
            check_title(self.title_edit.text())
            check_description(self.description_edit.toPlainText())
        except ContractError as exc:
            return str(exc)
        return ""

    def values(self) -> dict[str, Any]:
        return {"title": self.title_edit.text(), "description": self.description_edit.toPlainText(),
                "points": self.points_spin.value(), "assignee": self.assignee_combo.currentData()}


class AgentDialog(ActionDialog):
    """Assign a contract to an agent (or to anyone), or claim it on an agent's behalf."""

    def __init__(self, action: str, contract: Contract, agents: list[str], parent: QWidget | None = None) -> None:
        claim = action == "claim"
        super().__init__(action, f"{'Claim' if claim else 'Assign'} contract #{contract.id}",
                         "Claim" if claim else "Assign", parent)
        self._headline(contract)
        choices = [contract.assignee] if claim and contract.assignee else agents
        if contract.assignee and contract.assignee not in choices:
            choices = [contract.assignee, *choices]  # assigned from the command line to an agent not listed
        self.agent_combo = agent_combo(self, choices, anyone=not claim)
        if contract.assignee:
            self.agent_combo.setCurrentIndex(self.agent_combo.findData(contract.assignee))
        self.form.addRow("&Agent", self.agent_combo)
        hint = ("Agents usually claim for themselves (quarterdeck contracts claim); this claims on the "
                "agent's behalf." if claim else "Only the agent it is assigned to can claim it.")
        if claim and contract.assignee:
            hint = f"Assigned to {contract.assignee}: only {contract.assignee} can claim it."
        note = QLabel(hint, self)
        note.setWordWrap(True)
        note.setStyleSheet(HINT_STYLE)
        self.form.addRow(note)
        self.ok_button.setEnabled(self.agent_combo.count() > 0)

    def values(self) -> dict[str, Any]:
        return {"agent": self.agent_combo.currentData()}


class NoteDialog(ActionDialog):
    """Complete a claimed contract, or cancel an active one, with an optional note."""

    def __init__(self, action: str, contract: Contract, parent: QWidget | None = None) -> None:
        complete = action == "complete"
        super().__init__(action, f"{'Complete' if complete else 'Cancel'} contract #{contract.id}",
                         "Mark done" if complete else "Cancel contract", parent,
                         close_text="Close" if complete else "Keep it")
        self._headline(contract)
        who = QLabel(f"{'Done by' if complete else 'Held by'} {contract.assignee or 'nobody yet'} · "
                     f"{points_text(contract.points)}", self)
        who.setStyleSheet(HINT_STYLE)
        self.form.addRow(who)
        self.note_edit = QPlainTextEdit(self)
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setMaximumHeight(110)
        self.note_edit.setPlaceholderText("What was done: a commit, a pull request, a summary (optional)"
                                          if complete else "Why it is dropped (optional)")
        self.form.addRow("&Note", self.note_edit)

    def values(self) -> dict[str, Any]:
        return {"note": self.note_edit.toPlainText()}


def agent_combo(parent: QWidget, agents: list[str], *, anyone: bool) -> QComboBox:
    combo = QComboBox(parent)
    combo.setObjectName("contracts-agent-combo")
    if anyone:
        combo.addItem(ANYONE, None)
    for agent in agents:
        combo.addItem(agent, agent)
    return combo
