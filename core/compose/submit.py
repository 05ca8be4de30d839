"""From a composed message to queued deliveries: recipients, the rule gate, redaction, the outbox.

Nothing is typed here. A message that fails an ``error`` rule is refused before it is stored;
a message in which a secret was detected is stored redacted (the raw text stays in memory only).
A message sent ``when_idle`` (a time to live, in seconds) waits for each recipient to be idle
(:mod:`quarterdeck.core.dispatch.idle_gate`) and expires when that does not happen in time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quarterdeck.core.models import Agent, Message
from quarterdeck.core.validation.secrets import find_secrets, redact

if TYPE_CHECKING:
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.store.outbox import Store
    from quarterdeck.core.validation.engine import MessageValidator
    from quarterdeck.core.validation.report import Report


class SubmitRefused(Exception):
    """The message broke an ``error`` rule; ``report`` says which and where."""

    def __init__(self, report: Report) -> None:
        self.report = report
        rules = ", ".join(sorted({v.rule_id for v in report.violations if v.severity == "error"}))
        super().__init__(f"the message fails the rules ({rules}); fix it before sending")


class UnknownRecipient(LookupError):
    """A named recipient is not on the roster (or is disabled)."""


@dataclass(frozen=True)
class Submission:
    message: Message
    recipients: tuple[str, ...]
    delivery_ids: tuple[int, ...]
    report: Report | None
    redacted: bool


def resolve_recipients(message: Message, roster: Roster, *, captain_last: bool = False) -> list[Agent]:
    """The agents a message goes to: a broadcast without names reaches every enabled agent.

    With ``captain_last`` the agents whose role is ``captain`` come after everyone else.
    """
    if message.type == "broadcast" and not message.recipients:
        agents = list(roster.enabled())
    else:
        agents = []
        for agent_id in message.recipients:
            if agent_id not in roster:
                raise UnknownRecipient(f"{agent_id!r} is not on the roster ({', '.join(roster.ids())})")
            agent = roster.get(agent_id)
            if not agent.enabled:
                raise UnknownRecipient(f"{agent_id!r} is disabled in the roster")
            agents.append(agent)
    if not agents:
        raise UnknownRecipient("no recipients: name agents, or broadcast to an enabled roster")
    if captain_last:
        agents.sort(key=lambda a: a.role.strip().lower() == "captain")
    return agents


def submit(store: Store, roster: Roster, message: Message, *, validator: MessageValidator | None = None,
           captain_last: bool = False, when_idle: float | None = None) -> Submission:
    """Validate ``message``, then record it and one queued delivery per recipient (``when_idle``:
    one waiting delivery each, for at most that many seconds)."""
    if when_idle is not None and not when_idle > 0:
        raise ValueError(f"a when-idle message needs a positive time to wait, not {when_idle!r}")
    agents = resolve_recipients(message, roster, captain_last=captain_last)
    report = validator.validate(message.rule_fields()) if validator is not None else None
    if report is not None and report.status == "FAIL":
        raise SubmitRefused(report)
    findings = find_secrets(message.content)
    stored = redact(message.content, findings) if findings else None
    ids = store.enqueue(message, [(a.id, a.transport.kind) for a in agents],
                        content_to_store=stored, redacted=bool(findings),
                        expires_at=None if when_idle is None else time.time() + when_idle)
    return Submission(message, tuple(a.id for a in agents), tuple(ids), report, bool(findings))

