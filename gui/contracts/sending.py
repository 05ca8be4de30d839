""""Send to agent": a contract goes out as an ordinary message, through the composer's own path.

The message (:func:`quarterdeck.core.contracts.contract_message`) is validated by the active rules and queued
by ``ctx.submit``, delivered by the delivery thread and kept in the history like any other. This
object follows that message's delivery events and, once it is delivered, records on the contract
when and by which message it went out (``ContractStore.mark_sent``, in the background).
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from quarterdeck.core.contracts import Contract, ContractStore, contract_message
from quarterdeck.gui.composer.panel import SENDER_KEY

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.compose.submit import Submission
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.gui.context import AppContext

ENDED = ("failed", "cancelled", "uncertain")


class ContractSender(QObject):
    sig_outcome = Signal(str)  # a line saying how a send is going
    sig_marked = Signal(object)  # quarterdeck.core.contracts.Contract: its delivery was recorded

    def __init__(self, ctx: AppContext, store: ContractStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx: AppContext = ctx
        self.store = store
        self._pending: dict[str, Contract] = {}  # message id -> the contract it carries
        ctx.delivery.sig_delivery_event.connect(self._on_delivery_event)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def send(self, contract: Contract) -> str:
        """Queue the contract's message to its assignee; returns the message id."""
        sender = self.ctx.settings.get(SENDER_KEY, "Captain", str) or "Captain"
        message = contract_message(contract, sender=sender)
        # known before it is queued: its delivery events can arrive before ``submit`` calls back
        self._pending[message.id] = contract
        self.sig_outcome.emit(f"Sending contract #{contract.id} to {contract.assignee}…")
        self.ctx.submit(message, on_done=self._submitted, on_error=partial(self._refused, message.id))
        return message.id

    def _submitted(self, submission: Submission) -> None:
        contract = self._pending.get(submission.message.id)
        if contract is not None:
            self.sig_outcome.emit(f"Contract #{contract.id} queued for {contract.assignee}")

    def _refused(self, message_id: str, error: BaseException) -> None:
        contract = self._pending.pop(message_id, None)
        if contract is not None:
            self.sig_outcome.emit(f"Contract #{contract.id} was not sent: {error}")

    @Slot(object)
    def _on_delivery_event(self, event: DeliveryEvent) -> None:
        contract = self._pending.get(event.message_id)
        if contract is None:
            return
        who = f"contract #{contract.id} to {event.agent_id}"
        if event.state == "delivered":
            del self._pending[event.message_id]
            self.sig_outcome.emit(f"Delivered {who}")
            self.ctx.jobs.run(partial(self.store.mark_sent, contract.id, event.message_id), self._marked,
                              self._mark_failed, owner=self)
        elif event.state in ENDED:
            del self._pending[event.message_id]
            detail = f": {event.detail}" if event.detail else ""
            self.sig_outcome.emit(f"Could not deliver {who} ({event.state}{detail}); see the history")
        elif event.state == "retrying":
            self.sig_outcome.emit(f"Retrying {who} (attempt {event.attempt} failed: {event.detail})")

    def _marked(self, contract: Contract) -> None:
        self.sig_marked.emit(contract)

    def _mark_failed(self, error: BaseException) -> None:
        # delivered, but the contract has moved on meanwhile (cancelled from the command line)
        self.sig_outcome.emit(f"Delivered, but the contract could not record it: {error}")
