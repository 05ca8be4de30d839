"""How a delivery's end is recorded: delivered (with its verdict), failed, uncertain, cancelled by
a stop, handed back (its process is ending, nothing was typed), put back by a GUI pause, or left
waiting again (a when-idle delivery whose agent was busy again right before typing).

``uncertain`` is for an error that says the text may have arrived (``MayHaveArrived``: a paste
tmux took before its pane vanished), and for a crash of the code after typing began: such a
delivery is never recorded ``failed``, because "Retry failed" would then send it twice.
``dispatcher`` is the ``Dispatcher`` whose store, monitor and listeners hear of it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from quarterdeck.core.delivery.contract import UNVERIFIED, Receipt
from quarterdeck.core.delivery.errors import Paused, is_retryable, verdict_of
from quarterdeck.core.dispatch.idle_gate import NotIdle
from quarterdeck.core.resilience import CallNotPermitted
from quarterdeck.core.resilience.retry import DeliveryOutcome
from quarterdeck.core.store.rows import DeliveryTask

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent, Dispatcher

log = logging.getLogger(__name__)
PAUSED = "GUI delivery paused until you resume: "  # the detail of a delivery a GUI pause put back

REDACTED = "stored redacted (it held a secret); compose it again"


def attempted(dispatcher: Dispatcher, task: DeliveryTask,
              attempts: list[datetime]) -> Callable[[int, BaseException | None], None]:
    """What records try ``n`` of ``task`` when it ends (``error`` None: it worked); ``attempts``: when each began."""

    def on_attempt(n: int, error: BaseException | None) -> None:
        if isinstance(error, Paused):
            attempts.pop()
            return
        started = attempts[-1] if attempts else datetime.now(UTC)
        dispatcher.store.record_attempt(task.delivery_id, n, error is None,
                                        None if error is None else str(error), started, datetime.now(UTC))
        if error is not None and n < dispatcher.policy.max_attempts and is_retryable(error):
            dispatcher._emit(task, "retrying", attempt=n, detail=str(error))

    return on_attempt


def record(dispatcher: Dispatcher, task: DeliveryTask, result: DeliveryOutcome[Receipt]) -> DeliveryEvent:
    """Record ``result`` (a ``DeliveryOutcome``) for ``task``; return the final event."""
    if result.ok:
        receipt = result.value
        verdict = getattr(receipt, "verdict", UNVERIFIED)
        evidence = getattr(receipt, "evidence", "")
        dispatcher.store.mark_delivered(task.delivery_id, result.elapsed * 1000.0, verdict=verdict,
                                        evidence=evidence or None)
        if dispatcher.monitor is not None:
            dispatcher.monitor.record_delivery(task.agent_id, True, result.elapsed, verified=verdict == "submitted")
        return dispatcher._emit(task, "delivered", attempt=result.attempts, latency=result.elapsed,
                                detail=getattr(receipt, "detail", ""), verdict=verdict, evidence=evidence)
    error = result.error
    if getattr(error, "stops_everything", False):
        dispatcher.stop_all()
    if getattr(error, "uncertain", False):
        return uncertain(dispatcher, task, str(error), result.attempts,
                         evidence=getattr(error, "evidence", ""))
    reason = f"breaker open: {error}" if isinstance(error, CallNotPermitted) else str(error)
    return failed(dispatcher, task, reason or type(error).__name__, result.attempts, result.elapsed,
                  verdict=verdict_of(error), evidence=getattr(error, "evidence", ""))


def failed(dispatcher: Dispatcher, task: DeliveryTask, reason: str, attempts: int, elapsed: float = 0.0, *,
           verdict: str | None = None, evidence: str = "") -> DeliveryEvent:
    dispatcher.store.mark_failed(task.delivery_id, reason, verdict=verdict, evidence=evidence or None)
    if dispatcher.monitor is not None and attempts:
        dispatcher.monitor.record_delivery(task.agent_id, False, elapsed)
    return dispatcher._emit(task, "failed", attempt=attempts, detail=reason, verdict=verdict, evidence=evidence)


def uncertain(dispatcher: Dispatcher, task: DeliveryTask, reason: str, attempts: int, *,
              evidence: str = "") -> DeliveryEvent:
    """Neither a success nor a failure: the monitor counts nothing."""
    dispatcher.store.mark_uncertain(task.delivery_id, reason, evidence=evidence or None)
    return dispatcher._emit(task, "uncertain", attempt=attempts, detail=reason, evidence=evidence)


def stopped(dispatcher: Dispatcher, task: DeliveryTask, why: BaseException, attempts: int, *,
            interrupted: bool) -> DeliveryEvent:
    """A stop ended the delivery: cancelled, unless this process is ending and nothing was typed,
    which hands it back to the queue for the next process."""
    if interrupted and dispatcher.store.release_unstarted([task.delivery_id]):
        return dispatcher._emit(task, "queued", detail="released: this process is ending; nothing was typed")
    dispatcher.store.mark_cancelled(task.delivery_id, f"stopped: {why}")
    return dispatcher._emit(task, "cancelled", attempt=attempts, detail=str(why))


def paused(dispatcher: Dispatcher, task: DeliveryTask, pause: Paused) -> DeliveryEvent:
    """Someone is at the mouse: put the delivery back and hold every GUI delivery until resume.
    A when-idle delivery whose agent was busy again right before typing waits again instead."""
    reason = str(pause)
    if isinstance(pause, NotIdle):
        dispatcher.idle_gate.put_back(task, reason)
        return dispatcher._emit(task, "waiting", detail=reason)
    dispatcher.store.release(task.delivery_id)
    with dispatcher._roster_lock:  # the pause and its count in one step: a send's late lift sees both
        dispatcher.gui_paused = reason
        dispatcher.pauses += 1
        dispatcher.set_roster(dispatcher.roster)
    log.warning("GUI delivery paused: %s", reason)
    return dispatcher._emit(task, "paused", detail=f"{PAUSED}{reason}")


def relayed(dispatcher: Dispatcher, event: DeliveryEvent) -> DeliveryEvent:
    """A relay ended ``event``'s delivery (recorded already, by the captain's forwarder): count it as a
    local one is counted (delivered with its verdict; failed after a try; uncertain and cancelled
    not at all) and tell the listeners."""
    if dispatcher.monitor is not None:
        if event.state == "delivered":
            dispatcher.monitor.record_delivery(event.agent_id, True, event.latency or 0.0,
                                               verified=event.verdict in ("submitted", "confirmed_by_agent"))
        elif event.state == "failed" and event.attempt:
            dispatcher.monitor.record_delivery(event.agent_id, False, event.latency or 0.0)
    return dispatcher.tell(event)
