"""A headless Quarterdeck: a worker thread working the outbox, and the health it reports.

``DeliveryWorker`` runs ``Dispatcher.process_next`` in a loop on its own thread, so deliveries
queued by any Quarterdeck process get delivered. Stopping it is graceful: the delivery in flight
finishes (retries included), nothing queued is cancelled, and the next run picks up where this
one stopped. That is unlike ``Dispatcher.stop_all``, the captain's emergency stop, which cancels
the queue and interrupts waits. While the dispatcher is stopped that way the worker idles; a
stop-all made by any process on the same outbox stops it too, and a resume-all (``quarterdeck
resume``, the panel's Resume) lets it deliver again (the dispatcher's watch runs while it serves).

``service_health`` is the health tree of such a process (the panel's status bar and Health
panel show the same one)::

    {"status": ..., "score": 0-100 | null, "headline": "3/4 reachable · Agent-2 forced open by you",
     "reachable": 3, "enabled": 4, "window": "last 15 min",
     "components": {"dispatcher": {...}, "agents": {"status": ..., "components": {agent: ...}}}}

The agents come from the roster (enabled ones), each judged by whether a delivery can reach it
now (a stop-all, the worker, its breaker, a GUI pause: ``quarterdeck.core.monitor.reach``) and by its failure
rate over the monitor's figure window. The overall status and score are the fleet's
(``fleet_status``, ``fleet_score``), so they always agree with each other and with the headline:
while stopped nothing is reachable and health is OUT_OF_SERVICE, score 0, "stopped by the
captain"; while GUI delivery is paused its agents are out of service with that reason. Without
enabled agents the worker's own status stands. ``judged`` does the same for any tree with an
``agents`` composite (the history-based ``quarterdeck health``); ``scored`` is the older score,
kept for callers not moved yet.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quarterdeck.core.monitor.health import Health, Status, health_score
from quarterdeck.core.monitor.reach import agent_status, fleet_headline, fleet_score, fleet_status, reach_of

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent, Dispatcher
    from quarterdeck.core.models import Agent
    from quarterdeck.core.roster.roster import Roster

__all__ = ["DeliveryWorker", "judged", "scored", "service_health"]

log = logging.getLogger(__name__)

_MAX_ERROR_WAIT = 30.0


class DeliveryWorker:
    """Delivers from the outbox until ``request_stop``; see the module docstring.

    ``idle_wait`` is how long it sleeps when nothing is claimable (other processes cannot wake
    it, so this is also how soon their messages are picked up). ``notify()`` ends a wait early.
    An error outside a delivery (the database busy for too long) is logged and retried with a
    growing pause; the last one is kept in ``last_error``.

    ``lanes`` > 1: that many deliveries at once, to different agents (a claim never takes an agent
    with a delivery in flight, so each agent still gets its messages one at a time, in order), while
    one waits for the disk another is written. GUI agents stay on the first lane: one keyboard and
    one pointer type one message at a time. For a relay's inbox and tmux agents.
    """

    def __init__(self, dispatcher: Dispatcher, *, idle_wait: float = 0.25, lanes: int = 1) -> None:
        if idle_wait <= 0:
            raise ValueError("idle_wait must be positive")
        if lanes < 1:
            raise ValueError("lanes must be at least 1")
        self.dispatcher = dispatcher
        self.idle_wait = idle_wait
        self.lanes = lanes
        self.last_error: str | None = None
        self.delivered = 0
        self.failed = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._serving = False
        self._gui_of: tuple[object, frozenset[str]] = (None, frozenset())
        self._counts_lock = threading.Lock()
        dispatcher.add_listener(self._count)

    def _count(self, event: DeliveryEvent) -> None:
        with self._counts_lock:
            if event.state == "delivered":
                self.delivered += 1
            elif event.state == "failed":
                self.failed += 1

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the worker was already started")
        self._thread = threading.Thread(target=self.serve, name="quarterdeck-delivery", daemon=True)
        self._thread.start()

    def serve(self, on_serving: Callable[[], None] | None = None) -> None:
        """The delivery loop, on the calling thread, until ``request_stop`` (``start`` runs it on
        a thread of its own; the panel runs it in a QThread). ``on_serving`` is called once the
        worker counts as alive."""
        self._serving = True
        if on_serving is not None:
            on_serving()
        try:
            with self.dispatcher.watching():
                helpers = [threading.Thread(target=self._loop, args=(True,), name=f"quarterdeck-delivery-{n}",
                                            daemon=True) for n in range(2, self.lanes + 1)]
                for helper in helpers:
                    helper.start()
                try:
                    self._loop()
                finally:
                    if helpers:
                        self.request_stop()
                    for helper in helpers:
                        helper.join()
        finally:
            self._serving = False

    def _gui_agents(self) -> frozenset[str]:
        roster = self.dispatcher.roster
        if roster is not self._gui_of[0]:
            self._gui_of = (roster, frozenset(a.id for a in roster.agents if a.transport.kind == "gui"))
        return self._gui_of[1]

    def _loop(self, helper: bool = False) -> None:
        errors = 0
        while not self._stop.is_set():
            self._wake.clear()  # before looking: a notify while it looks ends the pause below at once
            try:
                event = self.dispatcher.process_next(also_skip=self._gui_agents()) if helper else \
                    self.dispatcher.process_next()
            except Exception as exc:
                errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("the delivery worker could not work the outbox")
                self._pause(min(self.idle_wait * 2 ** errors, _MAX_ERROR_WAIT))
                continue
            errors = 0
            if event is None:
                self._pause(self.idle_wait)

    def _pause(self, seconds: float) -> None:
        self._wake.wait(seconds)

    def notify(self) -> None:
        """Something was queued: look at the outbox now."""
        self._wake.set()

    def request_stop(self) -> None:
        """Stop after the delivery in flight; queued deliveries stay queued. Returns at once."""
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has (or never started)."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._serving or (self._thread is not None and self._thread.is_alive())

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def health(self) -> Health:
        with self._counts_lock:
            details: dict[str, Any] = {"delivered": self.delivered, "failed": self.failed}
        if self.last_error:
            details["last_error"] = self.last_error
        if self.dispatcher.stopped:
            return Health(Status.OUT_OF_SERVICE, {
                **details, "reason": "stopped by the captain: nothing is delivered until you resume"})
        if not self.alive:
            reason = "stopping" if self._stop.is_set() else "the delivery worker is not running"
            return Health(Status.DOWN, {**details, "reason": reason})
        if self.dispatcher.gui_paused:  # other transports go on; GUI agents wait for the captain
            return Health(Status.DEGRADED, {
                **details, "reason": f"GUI delivery paused: {self.dispatcher.gui_paused}"})
        return Health(Status.UP, details)


def scored(check: dict[str, Any]) -> dict[str, Any]:
    """``check`` with ``score``: the fleet score of its ``agents`` component (None without one)."""
    agents = check.get("components", {}).get("agents", {}).get("components")
    return {**check, "score": health_score(agents) if agents is not None else None}


def judged(check: dict[str, Any]) -> dict[str, Any]:
    """``check`` (a tree with an ``agents`` composite, e.g. judged from the history) with the
    fleet's status, score and headline, so the three agree as in ``service_health``."""
    agents = check.get("components", {}).get("agents", {}).get("components", {})
    statuses = [Status(part["status"]) for part in agents.values()]
    status = fleet_status(statuses) if agents else Status(check["status"])
    return {**check, "status": str(status), "score": fleet_score(statuses),
            "headline": fleet_headline(agents) if agents else "no enabled agents"}


def service_health(worker: DeliveryWorker, roster: Roster, *,
                   degraded_at: float = 0.25) -> Callable[[], dict[str, Any]]:
    """The ``/health`` function of a delivery process (see the module docstring)."""
    dispatcher = worker.dispatcher
    agents = list(roster.enabled())
    monitor = getattr(dispatcher, "monitor", None)

    def one(agent: Agent, alive: bool) -> dict[str, Any]:
        try:
            reach = reach_of(dispatcher, agent, worker_alive=alive)
            breaker = dispatcher.breakers.get(agent.id).state
            figures = monitor.delivery_stats(agent.id)["window"] if monitor is not None else {}
            return agent_status(reach, breaker, figures, degraded_at=degraded_at).to_dict()
        except Exception as exc:  # one broken check never hides the others
            log.exception("health of %s could not be checked", agent.id)
            return Health(Status.DOWN, {"reason": f"health check failed: {type(exc).__name__}: {exc}"}).to_dict()

    def check() -> dict[str, Any]:
        worker_part = worker.health().to_dict()
        alive = worker.alive and not worker.stopping
        parts = {agent.id: one(agent, alive) for agent in agents}
        statuses = [Status(part["status"]) for part in parts.values()]
        fleet = fleet_status(statuses)
        status = Status(worker_part["status"]) if not agents else fleet
        if status is Status.UNKNOWN and worker_part["status"] == Status.UP:
            status = Status.UP  # every agent reachable, none judged yet
        blocked = sum(s in (Status.DOWN, Status.OUT_OF_SERVICE) for s in statuses)
        window = monitor.delivery_stats()["window"]["name"] if monitor is not None else ""
        return {"status": str(status), "score": fleet_score(statuses),
                "headline": fleet_headline(parts) if agents else "no enabled agents",
                "reachable": len(agents) - blocked, "enabled": len(agents), "window": window,
                "components": {"dispatcher": worker_part,
                               "agents": {"status": str(fleet), "components": parts}}}

    return check
