"""Feeds the roster table from the app's real events, and nothing else.

Submissions mark deliveries queued, the delivery thread's events move them on, a stop-all empties
the queue, a resume ends a GUI pause, and breaker events update the breaker column at once. A
breaker's move from OPEN to HALF_OPEN happens lazily (at the next attempt) and its wait counts down
with time, so a one-second timer also re-reads every breaker's snapshot (in memory, one lock each)
and recomputes only the rows whose breaker changed. The monitor's per-agent statistics move only
with finished deliveries, so they are read when one is reported. The table repaints only the cells
that changed. The agents' activity (working, needs-you…) comes from the context's activity feed
(quarterdeck.gui.activity.feed), a few times a second when it changes.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Slot

from quarterdeck.core.activity.state import OFFLINE, Activity
from quarterdeck.core.compose.submit import Submission
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.resilience import BreakerEvent
from quarterdeck.core.roster.status import BreakerView, StatusBoard
from quarterdeck.gui.activity.feed import feed_for
from quarterdeck.gui.roster.model import RosterModel
from quarterdeck.gui.roster.placement import Shown, Where

if TYPE_CHECKING:
    from quarterdeck.gui.context import AppContext


class LiveStatus(QObject):
    """Owns the ``StatusBoard`` and the ``RosterModel`` showing it; see the module docstring."""

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *, tick_ms: int = 1000) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.shown: Shown = ctx.shown  # every machine's agents (this one's alone without a broker)
        ids = self.shown.roster.ids()
        self.board = StatusBoard(ids)
        self.board.recovered(getattr(ctx.session, "recovered", ()) or ())
        for agent_id in ids:
            self.board.breaker(agent_id, self.breaker_view(agent_id))
        self.model = RosterModel(self.shown.roster, self.board.get, self._stats, self, where=self._where)
        ctx.sig_submitted.connect(self._on_ctx_submitted)
        ctx.sig_fleet_changed.connect(self._on_ctx_fleet_changed)
        ctx.delivery.sig_delivery_event.connect(self._on_delivery_event)
        ctx.sig_confirmed.connect(self._on_ctx_confirmed)
        ctx.delivery.sig_breaker_event.connect(self._on_delivery_breaker_event)
        ctx.delivery.sig_stopped.connect(self._on_delivery_stopped)
        ctx.delivery.sig_resumed.connect(self._on_delivery_resumed)
        self.feed = feed_for(ctx)
        if self.feed.latest_at is not None or self.shown.offline:
            self.model.set_activities(self._with_offline(self.feed.latest), self.feed.latest_at or time.time())
        self.feed.sig_activities.connect(self._on_feed_activities)
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    def breaker_view(self, agent_id: str) -> BreakerView:
        """The breaker as it is now; an agent that never had a delivery has a closed one."""
        breakers = self._ctx.delivery.dispatcher.breakers
        if agent_id not in breakers:
            return BreakerView()
        return BreakerView.from_snapshot(breakers.get(agent_id).snapshot())

    def stop(self) -> None:
        self._timer.stop()
        self.feed.stop()
        self.model.flash.stop()

    def _stats(self, agent_id: str) -> dict[str, Any]:
        return self._ctx.monitor.delivery_stats(agent_id)

    def _where(self, agent_id: str) -> Where | None:
        return self.shown.where.get(agent_id)

    def _with_offline(self, activities: dict[str, Activity]) -> dict[str, Activity]:
        """The feed's activities, with the agents of a relay that stopped answering offline."""
        if not self.shown.offline:
            return activities
        merged = dict(activities)
        for agent_id, relay in self.shown.offline.items():
            merged[agent_id] = Activity(agent_id, OFFLINE, relay.seen_at, None, None,
                                        f"its relay {relay.name} on {relay.host} {relay.health}", source="relay")
        return merged

    # -- slots -------------------------------------------------------------------------------------
    @Slot(object, float)
    def _on_feed_activities(self, activities: dict[str, Activity], now: float) -> None:
        self.model.set_activities(self._with_offline(activities), now)

    @Slot(object)
    def _on_ctx_submitted(self, submission: Submission) -> None:
        self.model.refresh(self.board.submitted(submission.recipients, submission.delivery_ids))

    @Slot(object)
    def _on_delivery_event(self, event: DeliveryEvent) -> None:
        changed = self.board.delivery(event)
        changed |= self.board.breaker(event.agent_id, self.breaker_view(event.agent_id))
        if changed or event.state in ("delivered", "failed"):
            self.model.refresh({event.agent_id})  # the statistics moved too

    @Slot(object)
    def _on_ctx_confirmed(self, delivery_ids: set[int]) -> None:
        self.model.refresh(self.board.confirmed(delivery_ids))

    @Slot(object)
    def _on_delivery_breaker_event(self, event: BreakerEvent) -> None:
        if event.kind in ("state_transition", "reset"):
            self.model.refresh(self.board.breaker(event.breaker, self.breaker_view(event.breaker)))

    @Slot(int)
    def _on_delivery_stopped(self, _cancelled: int) -> None:
        self.model.refresh(self.board.queue_cancelled())

    @Slot()
    def _on_delivery_resumed(self) -> None:
        self.model.refresh(self.board.resumed())

    @Slot()
    def _on_ctx_fleet_changed(self) -> None:
        """This machine's roster was saved, or the relays read again: every machine's agents, each
        where it runs now (a relay's agents go offline when it stops answering)."""
        before, self.shown = self.shown, self._ctx.shown
        roster = self.shown.roster
        self.board.set_agents(roster.ids())
        for agent_id in roster.ids():
            self.board.breaker(agent_id, self.breaker_view(agent_id))
        self.model.set_roster(roster)
        if before.offline != self.shown.offline:  # (set_roster recomputed the Machine cells)
            self.model.set_activities(self._with_offline(self.feed.latest), time.time())

    @Slot()
    def _on_timer_timeout(self) -> None:
        """Breakers change with time alone; statistics only with deliveries (refreshed on those)."""
        changed: set[str] = set()
        for agent_id in self.model.ids():
            changed |= self.board.breaker(agent_id, self.breaker_view(agent_id))
        if changed:
            self.model.refresh(changed)
