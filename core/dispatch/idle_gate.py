"""The gate for messages sent "when idle": they reach an agent only while it is free.

A delivery sent that way is stored ``waiting`` (:mod:`quarterdeck.core.store.waiting`). Every
cycle of the dispatcher (at most every ``interval`` seconds) :meth:`IdleGate.tick` reads the
agents' activity (what their hooks and watchers recorded) and, for each waiting delivery in claim
order:

- past its ``expires_at``: it ends ``expired``, saying how long it waited and what the agent did
  ("expired after 30 min: Agent-3 stayed working");
- its agent is free: it is ``queued``, where its priority and age put it in the queue;
- else it keeps waiting, and its reason says why ("waiting: Agent-3 is working (...)").

An agent is free only when its activity is ``idle`` (``state.is_free``), or a usage limit whose
reset time has passed (by :data:`quarterdeck.core.activity.resume.GRACE_S`: it waits at its
prompt), and that was heard after the last message delivered to it (a message just typed starts
a turn its hook may not have reported yet). An agent whose activity is ``unknown`` is not free:
nothing says it is idle. The activity is read for the agents concerned only
(:mod:`quarterdeck.core.dispatch.recorded`), unless the dispatcher was given a lookup.

Every :data:`RESUME_EVERY_S` the gate also queues the "continue" that agents with
``continue_after_limit`` get once a usage limit has reset (:mod:`quarterdeck.core.activity.resume`).

Right before typing a when-idle delivery (:meth:`IdleGate.before_typing`, from the dispatcher's
typing mark) the agent is looked at again: busy again, the delivery waits once more (``sending``
-> ``waiting``; nothing was typed, so it is neither an attempt nor a failure).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quarterdeck.core.activity.resume import limit_over, queue_continues
from quarterdeck.core.activity.state import UNKNOWN, Activity, age, is_free, unknown
from quarterdeck.core.delivery.errors import Paused
from quarterdeck.core.dispatch.recorded import recorded_activities
from quarterdeck.core.store import waiting
from quarterdeck.core.store.waiting import Waiting as Waiting

if TYPE_CHECKING:
    from quarterdeck.core.models import Agent
    from quarterdeck.core.store.outbox import Store
    from quarterdeck.core.store.rows import DeliveryTask

log = logging.getLogger(__name__)

# agent ids, now (epoch seconds) -> each agent's activity
ActivityLookup = Callable[[Sequence[str], float], Mapping[str, Activity]]
Emit = Callable[..., object]  # the dispatcher's _emit(row, state, detail=...)
RESUME_EVERY_S = 5.0


class NotIdle(Paused):
    """Right before typing, the agent of a when-idle delivery was not free: it waits again."""


@dataclass(frozen=True)
class Freedom:
    """Whether an agent may be given a when-idle message now, and in words why not."""

    free: bool
    why: str = ""  # "Agent-3 is working (a prompt was submitted)"
    stayed: str = ""  # "Agent-3 stayed working": what an expiry says


def span(seconds: float | None) -> str:
    """``30 min``, ``2 h``, ``45 s``: how long a delivery was allowed to wait."""
    if seconds is None:
        return "its time"
    seconds = round(seconds)
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s" if seconds < 3600 else age(seconds)


def judge(activity: Activity, last_delivered: float | None, now: float) -> Freedom:
    """Whether ``activity``'s agent is free for a when-idle message at ``now`` (see the module docstring)."""
    agent = activity.agent_id
    if activity.state == UNKNOWN:
        return Freedom(False, f"{agent}'s activity is unknown — no hook or watcher reports it",
                       f"{agent}'s activity stayed unknown — no hook or watcher reports it")
    if not is_free(activity) and not limit_over(activity, now):
        return Freedom(False, f"{agent} is {activity.state} ({activity.why})", f"{agent} stayed {activity.state}")
    heard = activity.signal_at if activity.signal_at is not None else activity.since
    if last_delivered is not None and (heard is None or heard < last_delivered):
        return Freedom(False, f"{agent} was just sent another message; its turn has not been reported over",
                       f"{agent} stayed busy with an earlier message")
    return Freedom(True)


def _late(agent: str) -> str:
    return f"{agent} was not found idle while it waited"


class IdleGate:
    """Moves the waiting deliveries of ``store`` (see the module docstring); ``emit(row, state,
    detail=...)`` tells the dispatcher's listeners."""

    def __init__(self, store: Store, emit: Emit, lookup: ActivityLookup | None = None, *,
                 agents: Callable[[], Iterable[Agent]] = tuple, interval: float = 0.5,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._emit = emit
        self._lookup: ActivityLookup = lookup or (lambda ids, now: recorded_activities(store, ids, now))
        self._agents = agents  # the roster's, for continue_after_limit
        self.interval = interval
        self.clock = clock
        self._next = 0.0  # time.monotonic() of the next look
        self._next_resume = 0.0

    def freedom(self, agent_ids: Iterable[str], now: float) -> dict[str, Freedom]:
        agents = sorted(set(agent_ids))
        found = self._lookup(agents, now)
        return {agent: judge(found.get(agent) or unknown(agent), waiting.last_delivered(self.store, agent), now)
                for agent in agents}

    def tick(self, *, force: bool = False) -> int:
        """Look at the waiting deliveries (at most every ``interval`` s unless ``force``); how many
        were queued."""
        moment = time.monotonic()
        if not force and moment < self._next:
            return 0
        self._next = moment + self.interval
        if moment >= self._next_resume:
            self._next_resume = moment + RESUME_EVERY_S
            self.resume_after_limits()
        rows = waiting.waiting(self.store)
        if not rows:
            return 0
        now = self.clock()
        verdicts = self.freedom((row.agent_id for row in rows), now)
        ready: list[Waiting] = []
        for row in rows:
            verdict = verdicts[row.agent_id]
            if row.expires_at is not None and row.expires_at <= now:
                why = f"expired after {span(row.ttl)}: {verdict.stayed or _late(row.agent_id)}"
                if waiting.expire(self.store, row.delivery_id, why):
                    self._emit(row, "expired", detail=why)
            elif verdict.free:
                ready.append(row)
            elif waiting.note(self.store, row.delivery_id, f"waiting: {verdict.why}"):
                self._emit(row, "waiting", detail=f"waiting: {verdict.why}")
        moved = set(waiting.queue(self.store, [row.delivery_id for row in ready]))
        for row in ready:
            if row.delivery_id in moved:
                self._emit(row, "queued", detail=f"{row.agent_id} is idle")
        return len(moved)

    def resume_after_limits(self) -> list[int]:
        """Queue the "continue" of each opted-in agent whose usage limit has reset (see
        :mod:`quarterdeck.core.activity.resume`); the new deliveries."""
        opted = [agent for agent in self._agents() if agent.continue_after_limit and agent.enabled]
        if not opted:
            return []
        now = self.clock()
        return queue_continues(self.store, opted, self._lookup([a.id for a in opted], now), now)

    def before_typing(self, task: DeliveryTask) -> None:
        """Raise ``NotIdle`` when ``task`` waits for its agent to be idle and the agent is not."""
        if not waiting.is_when_idle(self.store, task.delivery_id):
            return
        verdict = self.freedom([task.agent_id], self.clock())[task.agent_id]
        if not verdict.free:
            raise NotIdle(f"waiting: {verdict.why}")

    def put_back(self, task: DeliveryTask, why: str) -> bool:
        """``task`` was claimed but its agent was busy again: it waits once more (no attempt).
        False when it was no longer claimed and untyped (nothing changed)."""
        self._next = 0.0  # look again at the next cycle
        if waiting.put_back(self.store, task.delivery_id, why):
            return True
        log.warning("delivery %s could not wait again: it is no longer claimed and untyped", task.delivery_id)
        return False
