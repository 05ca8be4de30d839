"""Resend a message to the recipients it did not reach, and say plainly what was done.

Every ``failed`` or ``uncertain`` delivery of the message is handed to :meth:`Store.requeue`,
which queues a fresh delivery for each one not retried before and skips the rest. So pressing
"resend" twice never sends twice, and the answer tells the captain which happened.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from quarterdeck.core.store.history import message_detail
from quarterdeck.core.store.outbox import Store
from quarterdeck.core.store.rows import RETRYABLE, MessageDetail


@dataclass(frozen=True)
class ResendOutcome:
    """What resending one or more messages did."""

    candidates: tuple[int, ...]
    """Failed or uncertain deliveries found (retries of earlier ones included)."""
    requeued: tuple[int, ...]
    """The new, queued deliveries."""
    agents: tuple[str, ...]
    """Who the new deliveries go to, in the order queued."""

    @property
    def skipped(self) -> int:
        """Candidates not queued again because they were already resent once."""
        return len(self.candidates) - len(self.requeued)

    def summary(self) -> str:
        if not self.candidates:
            return "Nothing to resend: no failed or uncertain deliveries."
        parts = []
        if self.requeued:
            parts.append(f"{len(self.requeued)} requeued ({', '.join(self.agents)})")
        else:
            parts.append("nothing requeued")
        if self.skipped == 1:
            parts.append("1 was already resent once")
        elif self.skipped:
            parts.append(f"{self.skipped} were already resent once")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."


def resendable(detail: MessageDetail) -> list[int]:
    """The deliveries of ``detail`` a resend would queue again: failed or uncertain, not yet retried."""
    retried = {item.delivery.retry_of for item in detail.deliveries}
    return [item.delivery.id for item in detail.deliveries
            if item.delivery.state in RETRYABLE and item.delivery.id not in retried]


def resend_failed(store: Store, message_ids: Iterable[str]) -> ResendOutcome:
    """Requeue the failed and uncertain deliveries of each message (see the module docstring).

    Raises :class:`quarterdeck.core.store.rows.UnknownMessage` for an id that is not stored.
    """
    candidates: list[int] = []
    for message_id in dict.fromkeys(message_ids):
        for item in message_detail(store, message_id).deliveries:
            if item.delivery.state in RETRYABLE:
                candidates.append(item.delivery.id)
    requeued = store.requeue(candidates) if candidates else []
    agents = tuple(store.delivery(new_id).agent_id for new_id in requeued)
    return ResendOutcome(candidates=tuple(candidates), requeued=tuple(requeued), agents=agents)
