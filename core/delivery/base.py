"""The delivery contract every transport implements: a request in, a receipt or an error out.

A transport puts one message in front of one agent and ends in a **verdict** backed by the
evidence it had:

- ``submitted``: the text was seen in the agent's input before the submit keys and gone from it
  after them (or, for an inbox, written and fsynced). Only this counts as delivered.
- ``typed_not_submitted``: the text reached the input but stayed there after the submit keys were
  pressed twice. Raised as ``TypedNotSubmitted`` (permanent: pasting again would duplicate it).
- ``not_typed``: nothing reached the input. Raised as ``NotTyped`` (retryable: nothing was
  submitted, so another attempt cannot duplicate anything).
- ``unverified``: the keys were sent but this target gives no evidence either way; the receipt's
  ``evidence`` names why. Never shown or counted as delivered.

Sending keystrokes is not evidence. Failures are raised, never returned:

- ``RetryableError``: worth another attempt (text not seen yet, a lock timed out).
- ``PermanentError``: retrying cannot help (pane gone, folder not writable, tool missing).
- ``MayHaveArrived``: the text went out and may have arrived, but nothing tells: the delivery is
  ``uncertain``, never ``failed`` (a retry could send it twice).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

from core.resilience.retry import Cancelled, DeliveryError, PermanentError, RetryableError

__all__ = [
    "SUBMITTED",
    "TYPED_NOT_SUBMITTED",
    "NOT_TYPED",
    "UNVERIFIED",
    "VERDICTS",
    "Cancelled",
    "DeliveryError",
    "MayHaveArrived",
    "NotTyped",
    "TypedNotSubmitted",
    "Verdict",
    "verdict_of",
    "DeliveryRequest",
    "PermanentError",
    "Priority",
    "Receipt",
    "RetryableError",
    "Transport",
    "transport_for",
]

Priority = Literal["normal", "urgent"]
Verdict = Literal["submitted", "typed_not_submitted", "not_typed", "unverified"]
SUBMITTED: Verdict = "submitted"
TYPED_NOT_SUBMITTED: Verdict = "typed_not_submitted"
NOT_TYPED: Verdict = "not_typed"
UNVERIFIED: Verdict = "unverified"
VERDICTS: tuple[Verdict, ...] = (SUBMITTED, TYPED_NOT_SUBMITTED, NOT_TYPED, UNVERIFIED)


class NotTyped(RetryableError):
    """Nothing reached the agent's input: safe to try again (nothing was submitted)."""

    verdict: Verdict = NOT_TYPED

    def __init__(self, message: str, *, evidence: str = "") -> None:
        super().__init__(message)
        self.evidence = evidence


class TypedNotSubmitted(PermanentError):
    """The text is in the agent's input but the submit keys did not send it: never paste again."""

    verdict: Verdict = TYPED_NOT_SUBMITTED

    def __init__(self, message: str, *, evidence: str = "") -> None:
        super().__init__(message)
        self.evidence = evidence


class MayHaveArrived(PermanentError):
    """The text went out (a paste tmux took) but what became of it cannot be told (the pane is
    gone): ``uncertain``, never ``failed``, because another attempt could send it twice."""

    uncertain = True

    def __init__(self, message: str, *, evidence: str = "") -> None:
        super().__init__(message)
        self.evidence = evidence


def verdict_of(error: BaseException | None) -> Verdict | None:
    """The verdict a failed delivery's last error carries, if it carries one."""
    return getattr(error, "verdict", None) if error is not None else None


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
    force: bool = False  # the captain chose to send over a draft found in the agent's input (it is cleared)
    # called by a transport with ``marks_typing = True`` right before it types anything (once is
    # enough); for other transports the dispatcher counts typing as begun when an attempt starts
    typing: Callable[[], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Receipt:
    """What a transport can vouch for after a delivery that did not raise.

    ``verdict`` is ``submitted`` or ``unverified``; ``evidence`` says what it rests on ("input read
    back by accessibility") or, for ``unverified``, why there was none. ``detail`` is the rest of
    what happened, for the history.
    """

    transport: str
    verdict: Verdict
    evidence: str = ""
    detail: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in (SUBMITTED, UNVERIFIED):
            raise ValueError(f"a receipt's verdict is submitted or unverified, not {self.verdict!r}")

    @property
    def confirmed(self) -> bool:
        """True only when there is evidence the agent received the message."""
        return self.verdict == SUBMITTED


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

        submit = getattr(settings, "submit", None)
        if submit is not None and not isinstance(submit, dict):
            submit = submit.model_dump()
        return TmuxDelivery(settings.target, agent=getattr(settings, "agent", None), submit=submit)
    if kind == "inbox":
        from core.delivery.inbox import InboxDelivery

        return InboxDelivery(settings.path)
    if kind == "dryrun":
        from core.delivery.dryrun import DryRunDelivery

        return DryRunDelivery()
    if kind == "gui":
        from core.delivery.gui import GuiDelivery

        return GuiDelivery.from_settings(settings, agent=str(getattr(agent, "id", "") or ""))
    raise ValueError(f"unknown transport kind {kind!r} for agent {getattr(agent, 'id', agent)!r}")
