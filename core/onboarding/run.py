"""Queuing a checked plan, and following it to the end: shared by the CLI and the panel.

``queue_plan`` queues, agent by agent in plan order, the wrap-up and then (through the gate) the
onboarding, all at the plan's one priority: the outbox claims by priority then queue order, so
each wrap-up is typed before its agent's new chat, and captains come last. It runs on whatever
thread may touch the store (the CLI's, the panel's background runner).

``OnboardingProgress`` turns ``DeliveryEvent``s into each agent's two states; it builds on the
composer's ``SendProgress`` (events that overtake their submission are kept and replayed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from quarterdeck.core.compose.progress import FINAL, ProgressRow, SendProgress
from quarterdeck.core.compose.submit import Submission, SubmitRefused, UnknownRecipient
from quarterdeck.core.onboarding.gate import OnboardingGate
from quarterdeck.core.onboarding.plan import ContractFor, Plan

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.session import Session

STEPS: tuple[str, ...] = ("wrap-up", "onboarding")


@dataclass
class Queued:
    """What ``queue_plan`` did: the submissions in queue order and what it could not queue."""

    plan: Plan
    submissions: list[Submission] = field(default_factory=list)
    not_queued: dict[tuple[str, str], str] = field(default_factory=dict)  # (agent, step) -> why

    @property
    def delivery_ids(self) -> list[int]:
        return [i for s in self.submissions for i in s.delivery_ids]


def queue_plan(session: Session, plan: Plan, gate: OnboardingGate) -> Queued:
    """Queue ``plan`` (see the module docstring); a refusal skips that agent and goes on."""
    queued = Queued(plan)
    for step in plan.steps:
        gate.expect(step.wrapup.id, step.agent_id)
        try:
            queued.submissions.append(session.submit(step.wrapup))
        except (SubmitRefused, UnknownRecipient) as exc:  # the roster or rules changed since the check
            gate.forget(step.wrapup.id)
            queued.not_queued[(step.agent_id, "wrap-up")] = f"not queued: {exc}"
            queued.not_queued[(step.agent_id, "onboarding")] = "not queued: its wrap-up was not queued"
            continue
        try:
            outcome = gate.queue_onboarding(step.wrapup.id, partial(session.submit, step.onboarding))
        except (SubmitRefused, UnknownRecipient) as exc:
            gate.forget(step.wrapup.id)
            outcome = f"not queued: {exc}"
        if isinstance(outcome, str):
            queued.not_queued[(step.agent_id, "onboarding")] = outcome
        else:
            queued.submissions.append(outcome)
    return queued


def store_contracts(db_path: Path) -> ContractFor:
    """``contract_for`` reading the contracts kept next to the outbox: an agent's open and claimed
    ones, as the ``{contract}`` text (several are separated by a blank line), else None."""
    from quarterdeck.core.contracts import ContractStore, contract_text

    def contract_for(agent_id: str) -> str | None:
        with ContractStore(db_path) as contracts:
            mine = contracts.list(agent=agent_id, state="active")
        return "\n\n".join(contract_text(c) for c in mine) or None

    return contract_for


class OnboardingProgress:
    """Each agent's wrap-up and onboarding state, moved only by real delivery events."""

    def __init__(self) -> None:
        self._send = SendProgress()
        self._where: dict[str, tuple[str, str]] = {}  # message id -> (agent, step)
        self._skipped: dict[tuple[str, str], str] = {}
        self.agents: tuple[str, ...] = ()

    def start(self, plan: Plan) -> None:
        self._where = {}
        for step in plan.steps:
            self._where[step.wrapup.id] = (step.agent_id, "wrap-up")
            self._where[step.onboarding.id] = (step.agent_id, "onboarding")
        self._skipped = {}
        self.agents = plan.agent_ids
        self._send.start(self._where)

    def queued(self, queued: Queued) -> set[str]:
        """The submissions came back; the agents whose states changed."""
        changed = set()
        for submission in queued.submissions:
            self._send.submitted(submission.message.id, submission.recipients, submission.delivery_ids)
            changed.add(submission.recipients[0])
        for (agent_id, step_name), why in queued.not_queued.items():
            self.skip(agent_id, step_name, why)
            changed.add(agent_id)
        return changed

    def skip(self, agent_id: str, step_name: str, why: str) -> None:
        self._skipped[(agent_id, step_name)] = why
        message_id = next((m for m, where in self._where.items() if where == (agent_id, step_name)), None)
        if message_id is not None:
            self._send.refused(message_id)

    def event(self, event: DeliveryEvent) -> str | None:
        """Apply a ``DeliveryEvent``; the agent whose state changed, or None when not ours (yet)."""
        row = self._send.event(event)
        return None if row is None else self._send.rows[row].agent_id

    def stopped(self) -> set[str]:
        """Stop all cancelled what was still queued."""
        return {self._send.rows[i].agent_id for i in self._send.queue_cancelled()}

    # -- reading ---------------------------------------------------------------------------------
    def where(self, message_id: str) -> tuple[str, str] | None:
        """``(agent, step)`` of one of this run's messages."""
        return self._where.get(message_id)

    def row(self, agent_id: str, step_name: str) -> ProgressRow | None:
        return next((r for r in self._send.rows if self._where.get(r.message_id) == (agent_id, step_name)),
                    None)

    def state(self, agent_id: str, step_name: str) -> str:
        """``waiting`` (not queued yet), ``skipped``, or the delivery's state."""
        if (agent_id, step_name) in self._skipped:
            return "skipped"
        row = self.row(agent_id, step_name)
        return "waiting" if row is None else row.state

    def text(self, agent_id: str, step_name: str) -> str:
        if (agent_id, step_name) in self._skipped:
            return self._skipped[(agent_id, step_name)]
        row = self.row(agent_id, step_name)
        return "waiting" if row is None else row.text()

    @property
    def finished(self) -> bool:
        """Every step of every agent has a final state (or was skipped)."""
        return bool(self.agents) and all(self.state(a, s) in FINAL | {"skipped"}
                                         for a in self.agents for s in STEPS)

    @property
    def active(self) -> bool:
        """Some queued delivery of this run has not ended yet."""
        return any(r.state not in FINAL for r in self._send.rows)

    @property
    def paused(self) -> bool:
        return any(r.state == "paused" for r in self._send.rows)

    @property
    def succeeded(self) -> bool:
        return self.finished and all(self.state(a, s) == "delivered" for a in self.agents for s in STEPS)

    def summary(self) -> str:
        """``3 of 4 agents onboarded, 1 failed`` (so far)."""
        if not self.agents:
            return ""
        done = sum(all(self.state(a, s) == "delivered" for s in STEPS) for a in self.agents)
        bad = sum(any(self.state(a, s) in FINAL - {"delivered"} | {"skipped"} for s in STEPS)
                  for a in self.agents)
        text = f"{done} of {len(self.agents)} agent{'s' if len(self.agents) != 1 else ''} onboarded"
        if bad:
            text += f", {bad} not"
        if not self.finished:
            text += " (in progress)"
        return text
