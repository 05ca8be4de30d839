"""What a delivery's state and verdict say to people: ``submitted``, ``unverified``, ``confirmed by agent``,
``typed, not submitted``, ``not typed``, else the state (rows, events, progress rows and the history's rows
share it through :class:`Verdicted`). Named from :mod:`quarterdeck.core.store.rows` as well."""
from __future__ import annotations

__all__ = ["CONFIRMED_LABEL", "FAILURE_LABELS", "Verdicted", "outcome"]

FAILURE_LABELS = {"typed_not_submitted": "typed, not submitted", "not_typed": "not typed"}


CONFIRMED_LABEL = "confirmed by agent"  # the agent's own hook reported the delivered text


def outcome(state: str, verdict: str | None) -> str:
    """What a delivery's state means to a person. A delivery that ended without error is
    ``submitted`` (with evidence), ``confirmed by agent`` (its hook reported the text) or
    ``unverified``, never plain "delivered"; a failure that carries a verdict is ``typed, not
    submitted`` or ``not typed``; anything else is its state."""
    state = str(state)
    if state == "delivered":
        if verdict == "confirmed_by_agent":
            return CONFIRMED_LABEL
        return "submitted" if verdict == "submitted" else "unverified"
    if state == "failed" and verdict in FAILURE_LABELS:
        return FAILURE_LABELS[verdict]
    return state


class Verdicted:
    """What a delivery with a ``state`` and a ``verdict`` says to people (rows, events, progress)."""

    __slots__ = ()  # a mixin: the Structs that take it (events, progress rows) keep no instance dict
    state: str  # a State for outbox rows (a StrEnum), the plain text in events and progress rows
    verdict: str | None

    @property
    def confirmed(self) -> bool:
        """True only for a delivery submitted with evidence, or confirmed by the agent's own hook."""
        return self.verdict in ("submitted", "confirmed_by_agent")

    @property
    def outcome(self) -> str:
        """``submitted`` / ``unverified`` for a delivered one, the failure's verdict, else the state."""
        return outcome(self.state, self.verdict)
