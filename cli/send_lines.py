"""What ``quarterdeck send`` prints for each step of its deliveries, and its ``--json`` fields: plain
formatting on anything with a delivery event's attributes (``DeliveryEvent``, a progress row, or a
step a running Quarterdeck streamed back over the hand-off), so the sending command's light path prints
exactly what its in-process path prints without loading the dispatcher."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, Protocol

ENDED = ("delivered", "failed", "cancelled", "uncertain", "expired")


class Step(Protocol):
    @property
    def delivery_id(self) -> int: ...
    @property
    def agent_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def attempt(self) -> int: ...
    @property
    def detail(self) -> str: ...
    @property
    def latency(self) -> float | None: ...
    @property
    def verdict(self) -> str | None: ...
    @property
    def evidence(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def confirmed(self) -> bool: ...


def report_progress(event: Step, finals: dict[int, Any], *, quiet: bool) -> None:
    """Keep ``event`` if it ends its delivery for this process, and print it unless ``quiet``."""
    if event.delivery_id in finals:
        return
    if event.state in ENDED or event.state == "paused":
        # paused: a person took the mouse; the delivery is queued again for the next process
        finals[event.delivery_id] = event
        if not quiet:
            print_final(event)
    elif event.state == "retrying" and not quiet:
        print(f"{event.agent_id:<16} retrying   attempt {event.attempt} failed: {event.detail}", file=sys.stderr)
    elif (event.state == "waiting" or (event.state == "queued" and event.detail)) and not quiet:
        # waiting for its agent to be idle, or queued for a reason (the broker a relay is reached by is down)
        print(f"{event.agent_id:<16} {event.detail}", file=sys.stderr)


def pending_line(what: str, agents: list[str], where: str) -> str:
    """The one line (stderr) of a send that stopped waiting with ``agents`` still without an outcome."""
    return f"quarterdeck: {what}; " + (f"{len(agents)} without an outcome yet ({', '.join(agents)}) {where}"
                                       if agents else "every delivery has its outcome")


def event_dict(e: Step) -> dict[str, Any]:
    return {"agent": e.agent_id, "state": e.state, "verdict": e.verdict, "evidence": e.evidence,
            "attempts": e.attempt, "detail": e.detail, "latency_s": e.latency, "confirmed": e.confirmed,
            "delivery_id": e.delivery_id}


def final_note(event: Step) -> str:
    """What a finished delivery rests on: its evidence, then whatever else happened."""
    return " · ".join(part for part in (event.evidence, event.detail) if part)


@dataclass
class Deadline:
    """``send --timeout``: when the command stops waiting (``at``, a ``time.monotonic()`` counted from
    its start), the duration as said back (``said``), and whether the wait ended there (``hit``)."""

    at: float
    said: str
    hit: bool = False

    def reached(self) -> bool:
        """Whether the time is up; once it is, ``hit`` says so."""
        self.hit = self.hit or time.monotonic() >= self.at
        return self.hit

    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())


def print_pending(step: Step) -> None:
    """A delivery the command stopped waiting for (``send --timeout``), as it stands."""
    print(f"{step.agent_id:<16} {step.state:<20} {'-':>7}  attempts {step.attempt}  no outcome yet"
          + (f" · {step.detail}" if step.detail else ""))


def print_final(event: Step) -> None:
    took = f"{event.latency:.2f}s" if event.latency is not None else "-"
    shown = event.outcome
    print(f"{event.agent_id:<16} {shown:<20} {took:>7}  attempts {event.attempt}  {final_note(event)}".rstrip())
