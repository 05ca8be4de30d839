"""What a contract is, the states it moves through, and the errors a wrong move raises.

Life of a contract::

    open --claim(agent)--> claimed --complete(note)--> done
      |                      |
      +------cancel----------+-----> cancelled

``assign`` names who a contract is meant for; it is allowed while the contract is open (it stays
open). While a contract has an assignee only that agent may claim it; an unassigned one goes to
whichever agent claims it first. ``done`` and ``cancelled`` are final: a finished contract is a
record, so nothing edits it afterwards.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from quarterdeck.core.models import AGENT_ID_PATTERN

MAX_TITLE = 200
MAX_DESCRIPTION = 6000  # the contract is pasted into a chat pane: the message rules cap content at 8000
MAX_POINTS = 1000
_AGENT_ID = re.compile(AGENT_ID_PATTERN)


class ContractState(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    CANCELLED = "cancelled"


ACTIVE = (ContractState.OPEN, ContractState.CLAIMED)
FINAL = (ContractState.DONE, ContractState.CANCELLED)

# action -> the states it may start from; every other state is an InvalidTransition
ALLOWED_FROM: dict[str, tuple[ContractState, ...]] = {
    "assign": (ContractState.OPEN,),
    "claim": (ContractState.OPEN,),
    "complete": (ContractState.CLAIMED,),
    "cancel": ACTIVE,
    "points": ACTIVE,
    "send": ACTIVE,
}
_DOING = {"points": "change its points"}


class ContractError(Exception):
    """Something the captain or an agent asked for cannot be done; the text says why and what to do."""


class UnknownContract(ContractError, LookupError):
    def __init__(self, contract_id: int) -> None:
        self.contract_id = contract_id
        super().__init__(f"there is no contract #{contract_id}")


class InvalidTransition(ContractError):
    """The contract's state does not allow this action (completing an open one, cancelling a done one)."""

    def __init__(self, contract: Contract, action: str, text: str | None = None) -> None:
        self.contract = contract
        self.action = action
        if text is None:
            allowed = " or ".join(str(s) for s in ALLOWED_FROM.get(action, ()))
            article = "an" if allowed.startswith("open") else "a"
            text = (f"contract #{contract.id} is {contract.state}{contract.holder_text()}: cannot "
                    f"{_DOING.get(action, action + ' it')} (only {article} {allowed} contract can be)")
        super().__init__(text)


class ClaimConflict(InvalidTransition):
    """Someone else claimed the contract first, or it is assigned to another agent."""


@dataclass(frozen=True)
class Contract:
    """One task as stored. Times are UTC; ``sent_message_id`` is the last message that carried it."""

    id: int
    title: str
    description: str
    points: int
    state: ContractState
    assignee: str | None
    note: str
    created_at: datetime
    updated_at: datetime
    claimed_at: datetime | None = None
    finished_at: datetime | None = None
    sent_at: datetime | None = None
    sent_message_id: str | None = None
    # what the change that returned this contract masked ("github_token in the description"); not stored
    redacted: tuple[str, ...] = field(default=(), compare=False)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def holder_text(self) -> str:
        """`` by Agent-2`` (claimed), `` (assigned to Agent-2)`` (open) and so on, for error messages."""
        if self.assignee is None:
            return ""
        return {ContractState.OPEN: f" (assigned to {self.assignee})",
                ContractState.CLAIMED: f" by {self.assignee}",
                ContractState.DONE: f" (completed by {self.assignee})",
                ContractState.CANCELLED: f" (was assigned to {self.assignee})"}[self.state]

    def to_json(self) -> dict[str, Any]:
        """Plain values for ``--json`` output (times as ISO 8601 strings)."""
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {"id": self.id, "title": self.title, "description": self.description, "points": self.points,
                "state": str(self.state), "assignee": self.assignee, "note": self.note,
                "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
                "claimed_at": iso(self.claimed_at), "finished_at": iso(self.finished_at),
                "sent_at": iso(self.sent_at), "sent_message_id": self.sent_message_id,
                "redacted": list(self.redacted)}


@dataclass(frozen=True)
class AgentStatus:
    """One agent's contracts by state; ``agent`` is None for the open contracts nobody is assigned."""

    agent: str | None
    open: int = 0
    claimed: int = 0
    done: int = 0
    points_done: int = 0
    points_pending: int = 0  # points of its open and claimed contracts

    def to_json(self) -> dict[str, Any]:
        return {"agent": self.agent, "open": self.open, "claimed": self.claimed, "done": self.done,
                "points_done": self.points_done, "points_pending": self.points_pending}


@dataclass(frozen=True)
class Board:
    """One consistent read for the panel: the contracts a filter selects, and everyone's status."""

    contracts: list[Contract]
    status: list[AgentStatus]

    def summary(self) -> str:
        """``3 contracts shown · 2 active · 8 of 21 points done`` (status totals, whatever the filter)."""
        shown = len(self.contracts)
        if not shown and not self.status:
            return "No contracts yet"
        active = sum(s.open + s.claimed for s in self.status)
        done = sum(s.points_done for s in self.status)
        total = done + sum(s.points_pending for s in self.status)
        return (f"{shown} contract{'' if shown == 1 else 's'} shown · {active} active · "
                f"{done} of {total} points done")


def allowed(contract: Contract, action: str) -> bool:
    """Whether ``action`` (a key of :data:`ALLOWED_FROM`) may start from the contract's state;
    ``send`` also needs an assignee. The panel enables its buttons by this."""
    if contract.state not in ALLOWED_FROM[action]:
        return False
    return action != "send" or contract.assignee is not None


# -- checking what comes in --------------------------------------------------------------------
def check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise ContractError("a contract needs a title that is not blank")
    if len(title) > MAX_TITLE:
        raise ContractError(f"the title has {len(title)} characters; keep it to {MAX_TITLE} and put the "
                            "rest in the description")
    return title


def check_description(description: str) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise ContractError(f"the description has {len(description)} characters; the limit is "
                            f"{MAX_DESCRIPTION} (it is pasted into the agent's chat): link a file instead")
    return description


def check_points(points: int) -> int:
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= MAX_POINTS:
        raise ContractError(f"points are a whole number from 0 to {MAX_POINTS}, not {points!r}")
    return points


def check_agent(agent: str) -> str:
    agent = agent.strip()
    if not _AGENT_ID.fullmatch(agent):
        raise ContractError(f"{agent!r} is not an agent id (a letter, then letters, digits, '_', '.' or '-'; "
                            "64 at most), for example Agent-3")
    return agent


def parse_id(text: str | int) -> int:
    """``7``, ``"7"`` or ``"#7"`` -> 7; anything else is a ContractError."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        digits = str(text).strip().removeprefix("#")
        if not (digits.isascii() and digits.isdigit()):
            raise ContractError(f"{text!r} is not a contract number (write 7 or #7)")
        value = int(digits)
    if value < 1:
        raise ContractError(f"contract numbers start at 1, not {value}")
    return value
