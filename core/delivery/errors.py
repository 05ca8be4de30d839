"""What can end a delivery attempt, and the verdict each failure carries.

``DeliveryError`` is a failed attempt; its ``retryable`` says whether another attempt could help
(``RetryableError``) or not (``PermanentError``). ``Cancelled`` is stop-all: the delivery was
abandoned and counts neither way. ``HumanActivity`` is a person at the desk (pointer or keyboard):
retryable, and the dispatcher turns it into ``Paused`` while nothing was typed. The verdict
errors (``NotTyped``, ``TypedNotSubmitted``) and ``MayHaveArrived`` carry their evidence.
"""
from __future__ import annotations

from typing import Literal

Point = tuple[int, int]

__all__ = [
    "CONFIRMED_BY_AGENT",
    "NOT_TYPED",
    "SUBMITTED",
    "TYPED_NOT_SUBMITTED",
    "UNVERIFIED",
    "VERDICTS",
    "Cancelled",
    "DeliveryError",
    "HumanActivity",
    "MayHaveArrived",
    "NotTyped",
    "Paused",
    "PermanentError",
    "RetryableError",
    "TypedNotSubmitted",
    "Verdict",
    "is_retryable",
    "verdict_of",
]

# confirmed_by_agent is never a transport's: the agent's own prompt-submitted hook reported the
# delivered text afterwards (quarterdeck.core.activity.confirm), so it is not in VERDICTS
Verdict = Literal["submitted", "typed_not_submitted", "not_typed", "unverified", "confirmed_by_agent"]
SUBMITTED: Verdict = "submitted"
TYPED_NOT_SUBMITTED: Verdict = "typed_not_submitted"
NOT_TYPED: Verdict = "not_typed"
UNVERIFIED: Verdict = "unverified"
CONFIRMED_BY_AGENT: Verdict = "confirmed_by_agent"
VERDICTS: tuple[Verdict, ...] = (SUBMITTED, TYPED_NOT_SUBMITTED, NOT_TYPED, UNVERIFIED)



class DeliveryError(Exception):
    """A failed attempt. ``retryable`` says whether another attempt could help."""

    retryable: bool = False

    def __init__(self, *args: object, retryable: bool | None = None) -> None:
        super().__init__(*args)
        if retryable is not None:
            self.retryable = retryable


class RetryableError(DeliveryError):
    retryable = True


class PermanentError(DeliveryError):
    retryable = False


class Cancelled(Exception):
    """Stop-all was signalled; the delivery was abandoned and counts neither way."""


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, DeliveryError) and error.retryable


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


class HumanActivity(RetryableError):
    """The pointer moved since Quarterdeck last placed it: a person is using the mouse.

    ``pasted`` is True when the text was already pasted into the input (but not submitted).
    """

    def __init__(self, expected: Point, actual: Point, *, pasted: bool = False) -> None:
        self.expected = expected
        self.actual = actual
        self.pasted = pasted
        self.retryable = not pasted
        what = "text pasted but not submitted" if pasted else "nothing typed"
        super().__init__(
            f"pointer is at {actual}, Quarterdeck left it at {expected}: someone is using the mouse; {what}"
        )


class Paused(Cancelled):
    """GUI delivery waits for the captain: a person took the mouse or keyboard before anything was typed."""
