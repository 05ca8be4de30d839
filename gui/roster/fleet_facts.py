"""What the fleet tiles show beyond the live status: each agent's last message (its first words,
when it was queued, and what became of it) and the contracts the agent holds.

Both are recorded facts. The last message per agent is read from the outbox (one newest-first
line per agent) and contracts from the contract table, always on ``ctx.jobs``, at start, when
the roster changes and every few seconds while the fleet is on screen, so a send from another
process (``quarterdeck send``) shows up too. Between reads the app's own events keep them
current at once: a submission makes its message the agent's last one (queued), and the delivery
thread's events move that delivery's outcome on. A read that fails is said once in
``sig_problem``; the facts already shown stay.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from quarterdeck.core.compose.submit import Submission
from quarterdeck.core.contracts.store import ContractStore
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.store import Store
from quarterdeck.core.store.paging import page
from quarterdeck.core.store.query import Filters
from quarterdeck.core.store.rows import outcome
from quarterdeck.core.validation.secrets import find_secrets, redact

if TYPE_CHECKING:
    from quarterdeck.gui.context import AppContext

EXCERPT = 160  # characters of a message a tile can show, at most
POLL_MS = 5000
FINAL = frozenset({"delivered", "failed", "cancelled", "uncertain", "expired"})


@dataclass(frozen=True)
class LastMessage:
    """The newest delivery queued for one agent."""

    delivery_id: int
    excerpt: str  # whitespace runs made one space; secrets already masked
    created: float  # UTC epoch seconds: when the message was queued
    state: str
    verdict: str | None = None

    @property
    def outcome(self) -> str:
        return outcome(self.state, self.verdict)


@dataclass(frozen=True)
class HeldContract:
    """An open or claimed contract assigned to an agent."""

    id: int
    title: str
    state: str

    def text(self) -> str:
        return f"#{self.id} {self.state}"


def age_text(seconds: float) -> str:
    """"now", "42 s", "5 min", "3 h", "2 d": how long ago, in the largest whole unit."""
    seconds = max(0.0, seconds)
    if seconds < 5:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def one_line(text: str, limit: int = EXCERPT) -> str:
    return " ".join(text[: limit * 2].split())[:limit]


def read_last_messages(store: Store, ids: Iterable[str]) -> dict[str, LastMessage]:
    """The newest delivery line of each agent (background thread only)."""
    found: dict[str, LastMessage] = {}
    for agent_id in ids:
        lines = page(store, Filters(agent=agent_id), limit=1, excerpt=EXCERPT)
        if lines:
            line = lines[0]
            found[agent_id] = LastMessage(line.delivery_id, one_line(line.excerpt), float(line.created),
                                          line.state, line.verdict)
    return found


def read_contracts(contracts: ContractStore) -> dict[str, list[HeldContract]]:
    """Open and claimed contracts by assignee (background thread only)."""
    held: dict[str, list[HeldContract]] = {}
    for contract in contracts.list(state="active"):
        if contract.assignee:
            held.setdefault(contract.assignee, []).append(
                HeldContract(contract.id, contract.title, str(contract.state)))
    return held


class FleetFacts(QObject):
    """See the module docstring. ``sig_changed`` carries the agent ids whose facts changed."""

    sig_changed = Signal(object)  # set[str]
    sig_problem = Signal(str)  # a read failed: one line, what and where

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._last: dict[str, LastMessage] = {}
        self._contracts: dict[str, list[HeldContract]] = {}
        self._contract_store = ContractStore(ctx.store.path)  # opened on first use, on the jobs thread
        self._reading = False
        self._problem = ""
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.reload)
        ctx.sig_submitted.connect(self._on_ctx_submitted)
        ctx.delivery.sig_delivery_event.connect(self._on_delivery_event)
        ctx.sig_roster_changed.connect(self._on_ctx_roster_changed)
        ctx.delivery.sig_stopped.connect(self._on_delivery_stopped)  # the queue was cancelled: no events

    # -- reading ---------------------------------------------------------------------------------
    def last_message(self, agent_id: str) -> LastMessage | None:
        return self._last.get(agent_id)

    def contracts(self, agent_id: str) -> list[HeldContract]:
        return self._contracts.get(agent_id, [])

    def set_polling(self, on: bool) -> None:
        """Poll while the fleet is on screen; a hidden fleet reads nothing."""
        if on and not self._timer.isActive():
            self._timer.start()
            self.reload()
        elif not on:
            self._timer.stop()

    @Slot()
    def reload(self) -> None:
        """Read every agent's last message and the open contracts in the background."""
        if self._reading:
            return
        self._reading = True
        store, contracts, ids = self._ctx.store, self._contract_store, list(self._ctx.roster.ids())
        self._ctx.jobs.run(lambda: (read_last_messages(store, ids), read_contracts(contracts)),
                           self._on_read, self._on_read_failed, owner=self)

    def shutdown(self) -> None:
        self._timer.stop()
        self._ctx.jobs.run(self._contract_store.close)  # after the reads queued before it

    def _on_read(self, result: tuple[dict[str, LastMessage], dict[str, list[HeldContract]]]) -> None:
        self._reading = False
        self._problem = ""
        read, contracts = result
        changed: set[str] = set()
        for agent_id, line in read.items():
            mine = self._last.get(agent_id)
            # what events told us since the read began is newer than the read
            newer = mine is None or line.delivery_id > mine.delivery_id or (
                line.delivery_id == mine.delivery_id and mine.state not in FINAL)
            if newer and mine != line:
                self._last[agent_id] = line
                changed.add(agent_id)
        for agent_id in set(self._contracts) | set(contracts):
            if self._contracts.get(agent_id, []) != contracts.get(agent_id, []):
                changed.add(agent_id)
        self._contracts = contracts
        if changed:
            self.sig_changed.emit(changed)

    def _on_read_failed(self, error: BaseException) -> None:
        self._reading = False
        text = (f"Fleet: could not read the last messages or contracts from {self._ctx.store.path}: "
                f"{error}. The tiles keep what they showed; check the file and its permissions.")
        if text != self._problem:
            self._problem = text
            self.sig_problem.emit(text)

    # -- events ----------------------------------------------------------------------------------
    @Slot(object)
    def _on_ctx_submitted(self, submission: Submission) -> None:
        content = submission.message.content
        if submission.redacted:
            content = redact(content, find_secrets(content))
        created = submission.message.created_at.timestamp()
        changed: set[str] = set()
        for agent_id, delivery_id in zip(submission.recipients, submission.delivery_ids, strict=False):
            mine = self._last.get(agent_id)
            if mine is None or delivery_id > mine.delivery_id:
                self._last[agent_id] = LastMessage(delivery_id, one_line(content), created, "queued")
                changed.add(agent_id)
        if changed:
            self.sig_changed.emit(changed)

    @Slot(object)
    def _on_delivery_event(self, event: DeliveryEvent) -> None:
        mine = self._last.get(event.agent_id)
        if mine is None or mine.delivery_id != event.delivery_id:
            return
        state = "queued" if event.state == "paused" else event.state
        new = replace(mine, state=state, verdict=getattr(event, "verdict", None))
        if new != mine:
            self._last[event.agent_id] = new
            self.sig_changed.emit({event.agent_id})

    @Slot(object)
    def _on_ctx_roster_changed(self, _roster: Roster) -> None:
        self.reload()

    @Slot(int)
    def _on_delivery_stopped(self, _cancelled: int) -> None:
        self.reload()
