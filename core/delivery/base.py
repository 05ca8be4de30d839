"""The delivery contract every transport implements: a request in, a receipt or an error out.

A transport puts one message in front of one agent. It reports ``confirmed=True`` only when it
observed the text arrive (read back from a tmux pane, an inbox file written and fsynced); sending
keystrokes is not evidence. Failures are raised, never returned:

- ``RetryableError``: worth another attempt (text not seen yet, a lock timed out).
- ``PermanentError``: retrying cannot help (pane gone, folder not writable, tool missing).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from core.resilience.retry import Cancelled, DeliveryError, PermanentError, RetryableError

__all__ = [
    "Cancelled",
    "DeliveryError",
    "DeliveryRequest",
    "PermanentError",
    "Priority",
    "Receipt",
    "RetryableError",
    "Transport",
    "transport_for",
]

Priority = Literal["normal", "urgent"]


@dataclass(frozen=True)
class DeliveryRequest:
    """One message for one agent. ``text`` is final and must arrive byte-exact."""

    agent_id: str
    text: str
    priority: Priority = "normal"
    onboarding: bool = False
    message_id: str = ""
    sender: str = ""
    recipients: tuple[str, ...] = field(default_factory=tuple)
    created_at: datetime | None = None


@dataclass(frozen=True)
class Receipt:
    """What a transport can vouch for after a delivery that did not raise."""

    transport: str
    confirmed: bool
    detail: str = ""


@runtime_checkable
class Transport(Protocol):
    kind: str

    def deliver(self, request: DeliveryRequest, stop: threading.Event) -> Receipt:
        """Deliver ``request``; raise ``RetryableError``/``PermanentError`` on failure.

        ``stop`` is the stop-all signal: every wait inside a delivery must end promptly once it is set.
        """
        ...

    def check(self) -> str | None:
        """None when the target looks reachable now, else a short human-readable reason."""
        ...


def transport_for(agent: Any) -> Transport:
    """Build the transport an agent's settings describe.

    Accepts an ``Agent`` (its ``transport`` attribute) or the transport settings themselves; the
    settings carry ``kind`` plus that kind's fields (``target`` for tmux, ``path`` for inbox).
    """
    settings = getattr(agent, "transport", agent)
    kind = getattr(settings, "kind", None)
    if kind == "tmux":
        from core.delivery.tmux import TmuxDelivery

        return TmuxDelivery(settings.target)
    if kind == "inbox":
        from core.delivery.inbox import InboxDelivery

        return InboxDelivery(settings.path)
    if kind == "dryrun":
        from core.delivery.dryrun import DryRunDelivery

        return DryRunDelivery()
    if kind == "gui":
        from core.delivery.gui import GuiDelivery

        return GuiDelivery.from_settings(settings)
    raise ValueError(f"unknown transport kind {kind!r} for agent {getattr(agent, 'id', agent)!r}")
