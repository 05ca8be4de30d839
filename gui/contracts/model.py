"""The two tables of the Contracts panel: the contracts themselves, and each agent's tally.

Both are :class:`quarterdeck.gui.contracts.rows.KeyedRowsModel` adapters: the panel hands them what the
latest query returned and they merge it in (changed cells only), so the two-second poll is cheap.
"""
from __future__ import annotations

from datetime import datetime

from quarterdeck.core.contracts import AgentStatus, Contract, ContractState, contract_text, points_text
from quarterdeck.gui.contracts.rows import MUTED, Cell, KeyedRowsModel

STATE_COLOURS = {ContractState.OPEN: "#1565c0", ContractState.CLAIMED: "#b25e00",
                 ContractState.DONE: "#2e7d32", ContractState.CANCELLED: MUTED}
STATE_LABELS = {ContractState.OPEN: "Open", ContractState.CLAIMED: "Claimed", ContractState.DONE: "Done",
                ContractState.CANCELLED: "Cancelled"}


def when(moment: datetime | None, now: datetime | None = None) -> str:
    """Local time: ``14:03`` today, ``24 Nov 14:03`` before; ``–`` for never."""
    if moment is None:
        return "–"
    local = moment.astimezone()
    today = (now or datetime.now().astimezone()).date()
    return f"{local:%H:%M}" if local.date() == today else f"{local:%d %b %H:%M}"


def state_tip(c: Contract) -> str:
    if c.state == ContractState.OPEN:
        return (f"Assigned to {c.assignee}; not claimed yet" if c.assignee
                else "Not assigned: the first agent to claim it gets it")
    if c.state == ContractState.CLAIMED:
        return f"Claimed by {c.assignee} at {when(c.claimed_at)}; being worked on"
    if c.state == ContractState.DONE:
        return f"Completed by {c.assignee} at {when(c.finished_at)}"
    return f"Cancelled at {when(c.finished_at)}"


class ContractsModel(KeyedRowsModel[Contract]):
    COLUMNS = ("#", "Title", "State", "Agent", "Points", "Sent", "Note")
    NUMBER, TITLE, STATE, AGENT, POINTS, SENT, NOTE = range(7)
    RIGHT_ALIGNED = frozenset({NUMBER, POINTS})
    HEADER_TIPS = {
        NUMBER: "The contract's number: agents use it to claim and complete (quarterdeck contracts claim N AGENT)",
        SENT: "When the contract was last delivered to its agent (Send to agent)",
        NOTE: "What the agent reported on completing it, or why it was cancelled",
    }

    def key(self, record: Contract) -> int:
        return record.id

    def cells(self, c: Contract) -> tuple[Cell, ...]:
        finished = not c.active
        muted = MUTED if finished else ""
        if c.sent_at is not None:
            sent_tip = f"Delivered to {c.assignee or 'its agent'} at {when(c.sent_at)} (message {c.sent_message_id})"
        else:
            sent_tip = "Not sent yet" + ("" if finished else ": select it and press Send to agent")
        return (
            Cell(f"#{c.id}", colour=muted),
            Cell(c.title, contract_text(c), colour=muted),
            Cell(STATE_LABELS[c.state], state_tip(c), STATE_COLOURS[c.state], bold=c.state == ContractState.CLAIMED),
            Cell(c.assignee or "anyone", "" if c.assignee else "Whoever claims it first",
                 colour=muted or ("" if c.assignee else MUTED)),
            Cell(str(c.points), points_text(c.points), colour=muted),
            Cell(when(c.sent_at), sent_tip, colour=muted),
            Cell(c.note.splitlines()[0] if c.note else "", c.note, colour=muted),
        )

    def contract(self, row: int) -> Contract | None:
        return self.record(row)


class StatusModel(KeyedRowsModel[AgentStatus]):
    """One row per agent with contracts, then the unassigned open ones (cancelled ones never count)."""

    COLUMNS = ("Agent", "Open", "Claimed", "Done", "Points done", "To do")
    AGENT, OPEN, CLAIMED, DONE, POINTS_DONE, TO_DO = range(6)
    RIGHT_ALIGNED = frozenset({OPEN, CLAIMED, DONE, POINTS_DONE, TO_DO})
    HEADER_TIPS = {TO_DO: "Points of the agent's open and claimed contracts",
                   POINTS_DONE: "Points of the contracts the agent completed"}

    def key(self, record: AgentStatus) -> str | None:
        return record.agent

    def cells(self, s: AgentStatus) -> tuple[Cell, ...]:
        def count(n: int, colour: str = "") -> Cell:
            return Cell(str(n), colour=colour if n else MUTED)

        agent = Cell(s.agent) if s.agent else Cell("unassigned", "Open contracts nobody is assigned", MUTED)
        return (agent, count(s.open), count(s.claimed, STATE_COLOURS[ContractState.CLAIMED]),
                count(s.done), count(s.points_done, STATE_COLOURS[ContractState.DONE]), count(s.points_pending))
