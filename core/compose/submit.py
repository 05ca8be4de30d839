"""From a composed message to queued deliveries: recipients, the rule gate, redaction, the outbox.

Nothing is typed here. A message that fails an ``error`` rule is refused before it is stored;
a message in which a secret was detected is stored redacted (the raw text stays in memory only).
A message sent ``when_idle`` (a time to live, in seconds) waits for each recipient to be idle
(:mod:`quarterdeck.core.dispatch.idle_gate`) and expires when that does not happen in time.

:func:`submit_many` queues many messages in one transaction (one fsync: a program that sends a
thousand a second). All or nothing: every message is checked first exactly as :func:`submit` checks
one (recipients, the rules, secrets redacted); the first that would be refused raises
:class:`BatchRefused` naming it (its index and id, and the refusal as ``cause``) and nothing of
the batch is stored.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from msgspec import Struct

from quarterdeck.core.models import Agent, Message
from quarterdeck.core.store.rows import StoreError
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


class BatchRefused(ValueError):
    """One message of a :func:`submit_many` batch would be refused: nothing of the batch was queued.
    ``index`` is its place in the batch (from 0), ``cause`` the refusal (``SubmitRefused``,
    ``UnknownRecipient`` or ``ValueError``)."""

    def __init__(self, index: int, count: int, message: Message, cause: Exception) -> None:
        self.index = index
        self.cause = cause
        super().__init__(f"message {index + 1} of {count} ({message.id}) refused: {cause}; "
                         "nothing of the batch was queued")


class Submission(Struct, frozen=True):
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


def _checked(roster: Roster, message: Message, validator: MessageValidator | None,
             captain_last: bool) -> tuple[list[Agent], Report | None, str | None]:
    """What :func:`submit` checks before storing: the recipients, the rules, the redacted text."""
    agents = resolve_recipients(message, roster, captain_last=captain_last)
    if len({a.id for a in agents}) != len(agents):
        raise ValueError(f"a recipient appears twice: {[a.id for a in agents]}")
    report = validator.validate(message.rule_fields()) if validator is not None else None
    if report is not None and report.status == "FAIL":
        raise SubmitRefused(report)
    findings = find_secrets(message.content)
    return agents, report, redact(message.content, findings) if findings else None


def _ttl(when_idle: float | None) -> float | None:
    if when_idle is not None and not when_idle > 0:
        raise ValueError(f"a when-idle message needs a positive time to wait, not {when_idle!r}")
    return None if when_idle is None else time.time() + when_idle


def submit(store: Store, roster: Roster, message: Message, *, validator: MessageValidator | None = None,
           captain_last: bool = False, when_idle: float | None = None) -> Submission:
    """Validate ``message``, then record it and one queued delivery per recipient (``when_idle``:
    one waiting delivery each, for at most that many seconds)."""
    expires_at = _ttl(when_idle)
    agents, report, stored = _checked(roster, message, validator, captain_last)
    ids = store.enqueue(message, [(a.id, a.transport.kind) for a in agents],
                        content_to_store=stored, redacted=stored is not None, expires_at=expires_at)
    return Submission(message, tuple(a.id for a in agents), tuple(ids), report, stored is not None)


def submit_many(store: Store, roster: Roster, messages: Sequence[Message], *,
                validator: MessageValidator | None = None, captain_last: bool = False,
                when_idle: float | None = None) -> list[Submission]:
    """Validate every message as :func:`submit` does, then record them all and their deliveries in one
    transaction; one :class:`Submission` per message, in order. All or nothing (:class:`BatchRefused`)."""
    from quarterdeck.core.store.queueing import enqueue_each

    expires_at = _ttl(when_idle)
    checked, ids_seen = [], set()
    for index, message in enumerate(messages):
        try:
            if message.id in ids_seen:
                raise ValueError(f"message id {message.id} appears twice in the batch")
            ids_seen.add(message.id)
            checked.append(_checked(roster, message, validator, captain_last))
        except (SubmitRefused, UnknownRecipient, ValueError) as exc:
            raise BatchRefused(index, len(messages), message, exc) from exc
    try:
        ids = enqueue_each(store, [(m, [(a.id, a.transport.kind) for a in agents], stored, expires_at)
                                   for m, (agents, _, stored) in zip(messages, checked, strict=True)])
    except StoreError as exc:  # a message id stored already: the transaction rolled back
        index = next((i for i, m in enumerate(messages) if str(m.id) in str(exc)), 0)
        raise BatchRefused(index, len(messages), messages[index], exc) from exc
    return [Submission(m, tuple(a.id for a in agents), tuple(got), report, stored is not None)
            for m, (agents, report, stored), got in zip(messages, checked, ids, strict=True)]
