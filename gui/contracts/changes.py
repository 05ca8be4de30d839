"""Turning a confirmed dialog into one store call on the background runner, and saying how it went.

One dialog is open at a time. Its values become the matching :class:`ContractStore` call
(:data:`CHANGES`); on success the dialog closes and ``sig_changed`` carries the contract as it
now is; a refusal (another agent claimed it a moment ago, it was cancelled from the command
line) stays in the dialog so the captain sees why, and the panel re-reads to show the new state.
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from quarterdeck.core.contracts import Contract, ContractError, ContractStore, redaction_text
from quarterdeck.gui.contracts.dialogs import ActionDialog

if TYPE_CHECKING:  # annotations only
    from quarterdeck.gui.jobs import Jobs

CHANGES = {
    "create": lambda s, _id, v: s.create(v["title"], description=v["description"], points=v["points"],
                                         assignee=v["assignee"]),
    "assign": lambda s, cid, v: s.assign(cid, v["agent"]),
    "claim": lambda s, cid, v: s.claim(cid, v["agent"]),
    "complete": lambda s, cid, v: s.complete(cid, v["note"]),
    "cancel": lambda s, cid, v: s.cancel(cid, v["note"]),
}
DONE_TEXT = {"create": "created", "assign": "assigned", "claim": "claimed", "complete": "done",
             "cancel": "cancelled"}


class ContractChanges(QObject):
    sig_changed = Signal(object)  # quarterdeck.core.contracts.Contract, as the change left it
    sig_refused = Signal(str)  # why a change was not made (also shown in its dialog while open)
    sig_outcome = Signal(str)  # a line saying what was done

    def __init__(self, jobs: Jobs, store: ContractStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.store = store
        self.dialog: ActionDialog | None = None

    def open(self, dialog: ActionDialog) -> None:
        """Show ``dialog`` (closing one still open) and make its change when it is confirmed."""
        self.close()
        self.dialog = dialog
        dialog.sig_confirmed.connect(self._on_dialog_confirmed)
        dialog.finished.connect(self._on_dialog_finished)
        dialog.open()

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog = None

    @Slot(object)
    def _on_dialog_confirmed(self, values: dict) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        change = partial(CHANGES[dialog.action], self.store, dialog.contract_id, values)
        self.jobs.run(change, partial(self._changed, dialog), partial(self._failed, dialog), owner=self)

    def _changed(self, dialog: ActionDialog, contract: Contract) -> None:
        if dialog is self.dialog:
            dialog.accept()
        holder = f" ({contract.assignee})" if contract.assignee else ""
        masked = f" · {redaction_text(contract.redacted)}" if contract.redacted else ""
        done = DONE_TEXT[dialog.action]
        self.sig_outcome.emit(f"Contract #{contract.id} {done}{holder}: {contract.title}{masked}")
        self.sig_changed.emit(contract)

    def _failed(self, dialog: ActionDialog, error: BaseException) -> None:
        text = str(error) if isinstance(error, ContractError) else f"{type(error).__name__}: {error}"
        text = text[:1].upper() + text[1:]
        if dialog is self.dialog and dialog.isVisible():
            dialog.show_error(text)
        self.sig_refused.emit(text)

    @Slot(int)
    def _on_dialog_finished(self, _result: int) -> None:
        self.dialog = None
