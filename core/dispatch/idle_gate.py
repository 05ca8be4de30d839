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
(:mod:`quarterdeck.core.dispatch.recorded`), unless the dispatcher was given a lookup; that judgement
is :mod:`quarterdeck.core.dispatch.idle_judge`, loaded only once something waits (or an agent takes
a "continue"), so a plain send loads no activity code.

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
from typing import TYPE_CHECKING

from quarterdeck.core.delivery.errors import Paused
from quarterdeck.core.store import waiting
from quarterdeck.core.store.waiting import Waiting as Waiting

if TYPE_CHECKING:
    from quarterdeck.core.activity.state import Activity
    from quarterdeck.core.dispatch.idle_judge import Freedom
    from quarterdeck.core.models import Agent
    from quarterdeck.core.store.outbox import Store
    from quarterdeck.core.store.rows import DeliveryTask

log = logging.getLogger(__name__)

# agent ids, now (epoch seconds) -> each agent's activity
ActivityLookup = Callable[[Sequence[str], float], Mapping[str, "Activity"]]
Emit = Callable[..., object]  # the dispatcher's _emit(row, state, detail=...)
RESUME_EVERY_S = 5.0


class NotIdle(Paused):
    """Right before typing, the agent of a when-idle delivery was not free: it waits again."""


class IdleGate:
    """Moves the waiting deliveries of ``store`` (see the module docstring); ``emit(row, state,
    detail=...)`` tells the dispatcher's listeners."""

    def __init__(self, store: Store, emit: Emit, lookup: ActivityLookup | None = None, *,
                 agents: Callable[[], Iterable[Agent]] = tuple, interval: float = 0.5,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._emit = emit
        self._lookup = lookup  # None: what the agents' hooks and watchers recorded beside the store
        self._agents = agents  # the roster's, for continue_after_limit
        self.interval = interval
        self.clock = clock
        self._next = 0.0  # time.monotonic() of the next look
        self._next_resume = 0.0

    def freedom(self, agent_ids: Iterable[str], now: float) -> dict[str, Freedom]:
        from quarterdeck.core.dispatch import idle_judge  # the agents' activity: read only once something waits

        return idle_judge.freedom(self.store, self._lookup, agent_ids, now)

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
                why = verdict.expiry(row.agent_id, row.ttl)
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
        from quarterdeck.core.dispatch import idle_judge  # the agents' activity: read only once one opted in

        return idle_judge.continue_after_limits(self.store, self._lookup, opted, self.clock())

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
