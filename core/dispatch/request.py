"""What a claimed delivery becomes on its way out: the message (for a relay, which renders the
header itself) and the ``DeliveryRequest`` a local transport types, header line first."""
from __future__ import annotations

from collections.abc import Callable

from quarterdeck.core.delivery.contract import DeliveryRequest
from quarterdeck.core.delivery.prefix import format_for_delivery
from quarterdeck.core.models import Message
from quarterdeck.core.store.rows import DeliveryTask

__all__ = ["message_of", "request_for"]


def message_of(task: DeliveryTask, content: str) -> Message:
    """``task``'s message with ``content`` (the text to deliver: unredacted where this process has it)."""
    return Message(id=task.message_id, sender=task.sender, sender_kind=task.sender_kind,
                   recipients=list(task.recipients), type=task.type, priority=task.priority,
                   tags=list(task.tags), content=content, created_at=task.message_created_at)


def request_for(task: DeliveryTask, agent_id: str, content: str, *, force: bool,
                typing: Callable[[], None]) -> DeliveryRequest:
    message = message_of(task, content)
    return DeliveryRequest(
        agent_id=agent_id, text=format_for_delivery(message, agent_id, resent=task.retry_of is not None),
        priority=message.priority, onboarding=task.type == "onboarding", message_id=task.message_id,
        sender=task.sender, recipients=tuple(task.recipients), created_at=task.message_created_at,
        force=force, typing=typing)
