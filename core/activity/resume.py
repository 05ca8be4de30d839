"""Continue after a usage limit: one "continue" to an agent whose limit has reset.

An agent whose roster entry says ``continue_after_limit: true`` and that is seen ``rate-limited``
with a known reset time (``Activity.resets_at``, read off its pane or window) is sent one message,
``continue``, from Quarterdeck, once :data:`GRACE_S` seconds after the reset have passed. It goes
"when idle" (:mod:`quarterdeck.core.dispatch.idle_gate`): typed only while the agent waits at its
prompt, ending ``expired`` if that does not happen within :data:`TTL_S`.

Once per limit episode: the message's id is made of the agent and the reset time, and the outbox
stores a message id once, so however many processes look, and however often, an episode gets one
"continue" (a new limit, with a new reset time, is a new episode). Queued only once the reset is
past, so a stop-all before then leaves nothing behind to cancel.

The dispatcher's idle gate calls :func:`queue_continues` every few seconds with the roster's agents
and their activity.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from quarterdeck.core.activity.state import RATE_LIMITED, Activity
from quarterdeck.core.models import Agent, Message
from quarterdeck.core.store.rows import StoreError

if TYPE_CHECKING:
    from quarterdeck.core.store.outbox import Store

log = logging.getLogger(__name__)

GRACE_S = 30.0  # after the reset time: the tool's clock and ours may differ a little
TTL_S = 30 * 60.0  # how long the "continue" may wait for the agent to be at its prompt
TEXT = "continue"
SENDER = "Quarterdeck"


def episode_id(agent_id: str, resets_at: float) -> str:
    """The id of the one "continue" message of the limit that resets at ``resets_at``."""
    return f"continue-after-limit-{agent_id}-{int(resets_at)}"


def limit_over(activity: Activity, now: float) -> bool:
    """True when ``activity`` is a usage limit whose reset (plus :data:`GRACE_S`) is past."""
    return activity.state == RATE_LIMITED and activity.resets_at is not None and now >= activity.resets_at + GRACE_S


def queue_continues(store: Store, agents: Iterable[Agent], activities: Mapping[str, Activity], now: float,
                    ttl: float = TTL_S) -> list[int]:
    """Queue the "continue" each opted-in agent's ended limit calls for (see the module
    docstring); the new delivery ids (none for an episode already served)."""
    queued: list[int] = []
    for agent in agents:
        activity = activities.get(agent.id)
        if not (agent.enabled and agent.continue_after_limit) or activity is None or not limit_over(activity, now):
            continue
        message_id = episode_id(agent.id, activity.resets_at or 0.0)
        if store.connection().execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone():
            continue  # served already: a read, not the write lock, on each look
        message = Message(id=message_id, sender=SENDER, sender_kind="system", recipients=[agent.id], content=TEXT)
        try:
            ids = store.enqueue(message, [(agent.id, agent.transport.kind)], expires_at=now + ttl)
        except StoreError:  # this episode's "continue" is stored already (by this process or another)
            continue
        log.info("%s's usage limit reset; 'continue' queued for when it is idle (delivery %s)", agent.id, ids[0])
        queued.extend(ids)
    return queued
