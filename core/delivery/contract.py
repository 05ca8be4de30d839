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
from collections.abc import Callable
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from msgspec import Struct
from msgspec.structs import astuple

from quarterdeck.core.delivery.errors import SUBMITTED, UNVERIFIED, Verdict

__all__ = ["SUBMITTED", "UNVERIFIED", "DeliveryRequest", "Priority", "Receipt", "Transport", "Verdict"]

Priority = Literal["normal", "urgent"]


class DeliveryRequest(Struct, frozen=True):
    """One message for one agent. ``text`` is final and must arrive byte-exact.

    ``typing`` is a callback, not part of what is delivered: two requests that differ only in it are
    equal, hash alike, and its repr leaves it out."""

    agent_id: str
    text: str
    priority: Priority = "normal"
    onboarding: bool = False
    message_id: str = ""
    sender: str = ""
    recipients: tuple[str, ...] = ()
    created_at: datetime | None = None
    force: bool = False  # the captain chose to send over a draft found in the agent's input (it is cleared)
    # called by a transport with ``marks_typing = True`` right before it types anything (once is
    # enough); for other transports the dispatcher counts typing as begun when an attempt starts
    typing: Callable[[], None] | None = None

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return astuple(self)[:-1] == astuple(other)[:-1]

    def __hash__(self) -> int:
        return hash(astuple(self)[:-1])

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__struct_fields__[:-1])
        return f"{type(self).__name__}({shown})"


class Receipt(Struct, frozen=True):
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

