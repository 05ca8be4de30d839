"""Never open a new chat on an agent whose wrap-up did not land.

The outbox delivers each agent's messages in queue order, so a wrap-up queued before its
onboarding (same priority) is typed first. What order alone cannot give: if the wrap-up fails
(after its retries) or is cancelled, the onboarding would still press the new-chat keys and leave
the old chat without its wrap-up. The gate prevents that.

It is a dispatcher listener, so it runs on the delivery thread right after the wrap-up's final
state is stored and before the dispatcher claims anything else: it cancels the agent's queued
onboarding there and then, and reports that as a ``cancelled`` ``DeliveryEvent`` to its own
listeners. When the wrap-up fails before the onboarding is even queued (the GUI queues while the
dispatcher runs), ``queue_onboarding`` sees that under the same lock and queues nothing.
One gate per dispatcher (``gate_for``).
"""
from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quarterdeck.core.dispatch.dispatcher import DeliveryEvent, Dispatcher
from quarterdeck.core.store.rows import StoreError

if TYPE_CHECKING:
    from quarterdeck.core.compose.submit import Submission
    from quarterdeck.core.store.outbox import Store

log = logging.getLogger(__name__)

_GATES: weakref.WeakKeyDictionary[Dispatcher, OnboardingGate] = weakref.WeakKeyDictionary()
_GATES_LOCK = threading.Lock()
GIVE_UP = frozenset({"failed", "cancelled", "uncertain", "expired"})
_WHAT = {"failed": "failed", "cancelled": "was cancelled", "uncertain": "may not have arrived",
         "expired": "expired waiting for the agent to be idle"}


@dataclass
class _Pair:
    agent_id: str
    onboarding: tuple[str, int] | None = None  # message id, delivery id once queued
    failed: str | None = None  # why the wrap-up did not land, when it did not


class OnboardingGate:
    """Pairs each wrap-up with its agent's onboarding (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._pairs: dict[str, _Pair] = {}  # by the wrap-up's message id
        self._listeners: list[Callable[[DeliveryEvent], None]] = []

    def add_listener(self, listener: Callable[[DeliveryEvent], None]) -> None:
        """``listener`` hears of each onboarding the gate cancelled (on the delivery thread); once."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._pairs)

    def expect(self, wrapup_id: str, agent_id: str) -> None:
        """Watch this wrap-up: call before queuing it, so no outcome can be missed."""
        with self._lock:
            self._pairs[wrapup_id] = _Pair(agent_id)

    def forget(self, wrapup_id: str) -> None:
        with self._lock:
            self._pairs.pop(wrapup_id, None)

    def queue_onboarding(self, wrapup_id: str, submit: Callable[[], Submission]) -> Submission | str:
        """``submit()`` (queue the onboarding) unless the wrap-up already gave up; then its reason (str)."""
        with self._lock:
            pair = self._pairs.get(wrapup_id)
            if pair is not None and pair.failed is not None:
                del self._pairs[wrapup_id]
                return pair.failed
            submission = submit()
            if pair is not None:
                pair.onboarding = (submission.message.id, submission.delivery_ids[0])
            return submission

    def __call__(self, event: DeliveryEvent) -> None:
        """The dispatcher's listener: act on a watched wrap-up's final state."""
        if event.state not in GIVE_UP and event.state != "delivered":
            return
        with self._lock:
            pair = self._pairs.get(event.message_id)
            if pair is None:
                return
            if event.state == "delivered":
                del self._pairs[event.message_id]
                return
            reason = f"not sent, its wrap-up {_WHAT[event.state]}"
            reason += f": {event.detail}" if event.detail else ""
            if pair.onboarding is None:
                pair.failed = reason
                return
            del self._pairs[event.message_id]
            message_id, delivery_id = pair.onboarding
            try:
                self._store.mark_cancelled(delivery_id, reason)
            except StoreError:  # already cancelled by stop-all, or taken by another process
                return
        cancelled = DeliveryEvent(delivery_id, message_id, pair.agent_id, "cancelled", detail=reason)
        for listener in list(self._listeners):
            try:
                listener(cancelled)
            except Exception:
                log.exception("onboarding gate listener failed on %s", cancelled)


def gate_for(dispatcher: Dispatcher, store: Store) -> OnboardingGate:
    """The gate listening to ``dispatcher`` (made and registered on first use)."""
    with _GATES_LOCK:
        gate = _GATES.get(dispatcher)
        if gate is None:
            gate = OnboardingGate(store)
            dispatcher.add_listener(gate)
            _GATES[dispatcher] = gate
        return gate
