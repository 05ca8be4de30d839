"""Each agent's live status, reduced from what really happened to its deliveries and breaker.

The roster panel shows, per agent, whether something is queued, being typed, just delivered or
failed, and whether its circuit breaker is letting deliveries through. Nothing here guesses: the
state moves only on

- a submission (its deliveries are *queued*),
- the dispatcher's ``DeliveryEvent``s (*sending*, *retrying*, then *submitted* or *unverified*
  (a delivery's verdict: only evidence makes it submitted), *failed* (or its verdict: *typed, not
  submitted*, *not typed*), *cancelled* or *uncertain*; or *paused*: a person was at the mouse,
  the delivery went back to the queue and GUI delivery waits until the captain resumes),
- a message sent "when idle": *waiting* until its agent is idle, then queued, or *expired*,
- a stop-all that cancelled the queue (no per-delivery events are sent for those),
- deliveries the session found interrupted by a crash (*uncertain*),
- the agent's breaker snapshot (closed, open with the wait left, half-open, forced open).

Events can arrive out of order: the submitting job and the delivery thread report through
different queues, so a delivery may be seen *sending* before its submission is. Started delivery
ids are remembered (a bounded set) so a late submission never brings back a queued entry.

Kept free of Qt so these rules are tested on their own; ``quarterdeck.gui.roster`` only shows the result.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field
from msgspec.structs import replace

from quarterdeck.core.store.rows import DeliveryRow, outcome

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.models import Agent
    from quarterdeck.core.resilience.breaker_types import BreakerSnapshot

ACTIVE = frozenset({"sending", "retrying"})
FINISHED = frozenset({"delivered", "failed", "cancelled", "uncertain", "expired"})
BREAKER_STATES = ("closed", "open", "half_open", "forced_open", "disabled")
STATUS_KEYS = ("idle", "disabled", "queued", "sending", "retrying", "paused", "submitted", "confirmed_by_agent",
               "unverified",
               "failed", "typed_not_submitted", "not_typed", "cancelled", "uncertain", "waiting", "expired",
               "breaker_open",
               "half_open", "forced_open")


class BreakerView(Struct, frozen=True):
    """What the panel shows of one breaker. ``remaining_wait``: seconds until a trial (OPEN only)."""

    state: str = "closed"
    remaining_wait: float = 0.0

    @classmethod
    def from_snapshot(cls, snapshot: BreakerSnapshot) -> BreakerView:
        state = snapshot.state.name.lower()
        wait = float(snapshot.remaining_wait) if state == "open" else 0.0
        return cls(state, wait)

    def text(self) -> str:
        if self.state == "open":
            seconds = int(self.remaining_wait + 0.999)
            return f"open · trial in {seconds} s" if seconds > 0 else "open · next send is a trial"
        return self.state.replace("_", "-").replace("forced-open", "forced open")


class AgentLive(Struct, frozen=True):
    """One agent's live state; ``queued`` holds the delivery ids known to be queued, ``waiting`` those
    sent "when idle" that wait for the agent to be idle."""

    queued: frozenset[int] = frozenset()
    waiting: frozenset[int] = frozenset()
    active: int | None = None
    active_state: str = ""
    attempt: int = 0
    last_state: str | None = None
    last_at: datetime | None = None
    last_detail: str = ""
    last_latency: float | None = None
    last_verdict: str | None = None
    last_evidence: str = ""
    last_delivery: int | None = None  # the delivery the last_* fields tell of
    paused: str = ""  # why its GUI delivery waits for the captain to resume, if it does
    breaker: BreakerView = field(default_factory=BreakerView)


def headline(live: AgentLive, *, enabled: bool = True) -> tuple[str, str]:
    """The one status a captain reads first, as (key from STATUS_KEYS, text).

    Work in flight comes first (the delivery being typed is the most current fact), then a breaker
    that is not closed (trouble that will fail whatever is queued), then the queue, then the last
    outcome.
    """
    if live.active is not None:
        if live.active_state == "retrying":
            return "retrying", f"retrying (attempt {live.attempt + 1})"
        return "sending", "sending"
    if live.paused:
        return "paused", "paused"
    breaker = live.breaker.state
    if breaker == "forced_open":
        return "forced_open", "forced open"
    if breaker == "open":
        return "breaker_open", "breaker open"
    if breaker == "half_open":
        return "half_open", "half-open"
    if live.queued:
        return "queued", f"queued ({len(live.queued)})" if len(live.queued) > 1 else "queued"
    if live.waiting:
        return "waiting", "waiting for idle" + (f" ({len(live.waiting)})" if len(live.waiting) > 1 else "")
    if live.last_state == "delivered":  # only evidence makes it "submitted"
        if live.last_verdict == "confirmed_by_agent":  # the agent's own hook reported the text
            return "confirmed_by_agent", outcome("delivered", live.last_verdict)
        key = "submitted" if live.last_verdict == "submitted" else "unverified"
        return key, key
    if live.last_state == "failed" and live.last_verdict in ("typed_not_submitted", "not_typed"):
        return live.last_verdict, outcome("failed", live.last_verdict)
    if live.last_state is not None:
        return live.last_state, live.last_state
    return ("idle", "idle") if enabled else ("disabled", "disabled")


def describe_target(agent: Agent) -> str:
    """Where the agent is reached: screen point "x, y", tmux target, inbox folder, a relay's agent
    ("tmux swarm:0.1 on box-2"), or dry run."""
    transport = agent.transport
    if transport.kind == "gui":
        return f"{transport.chat[0]}, {transport.chat[1]}"
    if transport.kind == "tmux":
        return transport.target
    if transport.kind == "inbox":
        return str(transport.path)
    if transport.kind == "relay":
        where = f"{transport.via} {transport.target}".strip()
        return f"{where} on {transport.relay}" if where else f"on {transport.relay}"
    return "nowhere (dry run)"


class StatusBoard:
    """The live state of every agent on the roster; each update returns the agent ids it changed."""

    def __init__(self, ids: Iterable[str] = (), *, clock: Callable[[], datetime] = datetime.now,
                 remember: int = 4096) -> None:
        self._clock = clock
        self._live: dict[str, AgentLive] = {agent_id: AgentLive() for agent_id in ids}
        self._started: set[int] = set()
        self._started_order: deque[int] = deque()
        self._remember = remember

    def get(self, agent_id: str) -> AgentLive:
        return self._live.get(agent_id, AgentLive())

    def set_agents(self, ids: Iterable[str]) -> None:
        """Follow a new roster: agents kept keep their state, new ones start idle."""
        self._live = {agent_id: self._live.get(agent_id, AgentLive()) for agent_id in ids}

    def submitted(self, recipients: Iterable[str], delivery_ids: Iterable[int]) -> set[str]:
        changed: set[str] = set()
        for agent_id, delivery_id in zip(recipients, delivery_ids, strict=False):
            live = self._live.get(agent_id)
            if live is None or delivery_id in self._started:
                continue
            self._live[agent_id] = replace(live, queued=live.queued | {delivery_id})
            changed.add(agent_id)
        return changed

    def delivery(self, event: DeliveryEvent) -> set[str]:
        """Apply one dispatcher ``DeliveryEvent``."""
        live = self._live.get(event.agent_id)
        self._mark_started(event.delivery_id)
        if live is None:
            return set()
        queued, waiting = live.queued - {event.delivery_id}, live.waiting - {event.delivery_id}
        mine = live.active == event.delivery_id
        if event.state in ACTIVE:
            new = replace(live, queued=queued, waiting=waiting, active=event.delivery_id, active_state=event.state,
                          attempt=event.attempt, paused="")
        elif event.state in ("waiting", "queued"):  # sent "when idle": held, or its agent is idle (not attempted)
            held = event.state == "waiting"
            new = replace(live, queued=queued if held else queued | {event.delivery_id},
                          waiting=waiting | {event.delivery_id} if held else waiting,
                          active=None if mine else live.active, active_state="" if mine else live.active_state,
                          attempt=0 if mine else live.attempt)
        elif event.state == "paused":  # back in the queue, not attempted
            new = replace(live, queued=queued | {event.delivery_id}, waiting=waiting,
                          active=None if mine else live.active,
                          active_state="" if mine else live.active_state, attempt=0 if mine else live.attempt,
                          paused=event.detail or "GUI delivery paused")
        elif event.state in FINISHED:
            still_active = live.active is not None and live.active != event.delivery_id
            new = replace(live, queued=queued, waiting=waiting, active=live.active if still_active else None,
                          active_state=live.active_state if still_active else "",
                          attempt=live.attempt if still_active else 0,
                          last_state=event.state, last_at=self._clock(), last_detail=event.detail,
                          last_latency=event.latency, last_verdict=getattr(event, "verdict", None),
                          last_evidence=getattr(event, "evidence", ""), last_delivery=event.delivery_id,
                          paused="")
        else:
            return set()
        self._live[event.agent_id] = new
        return {event.agent_id} if new != live else set()

    def queue_cancelled(self) -> set[str]:
        """Stop all cancelled every queued delivery (the store says so; no events follow)."""
        changed: set[str] = set()
        now = self._clock()
        for agent_id, live in self._live.items():
            if live.queued or live.waiting:
                self._live[agent_id] = replace(live, queued=frozenset(), waiting=frozenset(), last_state="cancelled",
                                               last_at=now, last_detail="cancelled by stop all",
                                               last_latency=None, last_verdict=None, last_evidence="")
                changed.add(agent_id)
        return changed

    def resumed(self) -> set[str]:
        """The captain resumed delivery: nothing waits for them any more."""
        changed = {agent_id for agent_id, live in self._live.items() if live.paused}
        for agent_id in changed:
            self._live[agent_id] = replace(self._live[agent_id], paused="")
        return changed

    def recovered(self, rows: Iterable[DeliveryRow]) -> set[str]:
        """Deliveries a crashed process left mid-way (now ``uncertain`` in the outbox)."""
        changed: set[str] = set()
        for row in rows:
            live = self._live.get(row.agent_id)
            if live is None:
                continue
            at = row.finished_at.astimezone() if row.finished_at is not None else self._clock()
            self._live[row.agent_id] = replace(live, last_state="uncertain", last_at=at,
                                               last_detail=row.reason or "interrupted")
            changed.add(row.agent_id)
        return changed

    def confirmed(self, delivery_ids: Iterable[int]) -> set[str]:
        """The agents' own hooks confirmed these deliveries (the outbox records it): an agent whose last
        delivery is one of them shows it confirmed."""
        ids = set(delivery_ids)
        changed: set[str] = set()
        for agent_id, live in self._live.items():
            if live.last_delivery in ids and live.last_verdict != "confirmed_by_agent":
                self._live[agent_id] = replace(live, last_state="delivered", last_verdict="confirmed_by_agent")
                changed.add(agent_id)
        return changed

    def breaker(self, agent_id: str, view: BreakerView) -> set[str]:
        live = self._live.get(agent_id)
        if live is None or live.breaker == view:
            return set()
        self._live[agent_id] = replace(live, breaker=view)
        return {agent_id}

    def _mark_started(self, delivery_id: int) -> None:
        if delivery_id in self._started:
            return
        self._started.add(delivery_id)
        self._started_order.append(delivery_id)
        if len(self._started_order) > self._remember:
            self._started.discard(self._started_order.popleft())


def success_text(stats: dict[str, Any]) -> tuple[str, str]:
    """("97 %", tooltip) over the figure window of ``Monitor.delivery_stats`` (``stats["window"]``,
    the one health and the charts' summary use); "–" without a finished delivery in it."""
    window = stats.get("window") or {}
    name = window.get("name", "figure window")
    ok, failed = int(window.get("ok") or 0), int(window.get("failed") or 0)
    unverified = int(window.get("unverified") or 0)
    total = ok + failed
    if not total:
        if unverified:
            return "–", f"{unverified} unverified (no evidence of arrival either way) in the {name}"
        return "–", f"no finished deliveries in the {name}"
    rate = 100.0 * ok / total
    shown = f"{rate:.0f} %" if rate in (0.0, 100.0) or 1 <= rate <= 99 else f"{rate:.1f} %"
    apart = f"; {unverified} unverified, counted apart" if unverified else ""
    return shown, f"{ok} submitted, {failed} failed in the {name}{apart}"


def latency_text(stats: dict[str, Any]) -> tuple[str, str]:
    """("120 ms", tooltip) for the p95 delivery time over the figure window, retries included;
    "–" without a delivery in it."""
    window = stats.get("window") or {}
    name = window.get("name", "figure window")
    p95 = window.get("p95")
    if p95 is None:
        return "–", f"no delivery times in the {name}"
    shown = f"{p95 * 1000:.0f} ms" if p95 < 10 else f"{p95:.1f} s"
    p50 = window.get("p50")
    median = f"; median {p50 * 1000:.0f} ms" if p50 is not None else ""
    return shown, f"95th percentile of the {window.get('finished', 0)} deliveries in the {name}{median}"
