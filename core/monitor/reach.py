"""Who can be delivered to right now, and one fleet health whose status, score and headline agree.

A captain asks two things of health: can my message reach them, and is anything going wrong.
``reach_of`` answers the first per agent, from facts the delivery process holds: a stop-all
(nothing is delivered), a delivery worker that does not run, a breaker forced open by the captain
or opened by failures, GUI delivery paused (a person at the mouse, a draft) for agents typed into
on screen, a relay not seen lately for its agents (``Companions.unreachable``).
``unreachable_agents`` is the same as a mapping, for a confirmation that warns about recipients
who will not get a message.

``agent_status`` judges one agent: unreachable on purpose (stopped, paused, forced open) is
OUT_OF_SERVICE, unreachable by trouble (worker down, breaker open, a relay not seen) is DOWN, a
half-open breaker or a failure rate at ``degraded_at`` or more over the figure window is DEGRADED,
no finished delivery in the window is UNKNOWN, else UP.

The fleet (``fleet_status``) is DOWN or OUT_OF_SERVICE only when no agent can take a delivery,
DEGRADED when some agent is not UP (and not UNKNOWN), else UP (UNKNOWN when nothing is known).
``fleet_score`` weighs each agent 1 when UP or UNKNOWN, 0.5 DEGRADED, 0 otherwise, so by
construction UP (and UNKNOWN: every agent reachable, none judged yet) is 100, DEGRADED lies
between 1 and 99, DOWN and OUT_OF_SERVICE are 0; no agents, no score. The two never contradict
each other.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from quarterdeck.core.monitor.health import STATUS_ORDER, Health, Status, aggregate
from quarterdeck.core.resilience.breaker_types import State

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import Dispatcher
    from quarterdeck.core.models import Agent

__all__ = ["Reach", "agent_status", "fleet_headline", "fleet_score", "fleet_status", "reach_of",
           "unreachable_agents"]

STOPPED = "stopped by the captain"
WORKER_DOWN = "the delivery worker is not running"
FORCED = "forced open by you"
_ON_PURPOSE = ("stopped", "paused", "forced")
_WEIGHT = {Status.UP: 1.0, Status.UNKNOWN: 1.0, Status.DEGRADED: 0.5}


@dataclass(frozen=True)
class Reach:
    """Whether a delivery to ``agent_id`` can go out now; if not, why, and whether on purpose."""

    agent_id: str
    reachable: bool
    reason: str = ""
    kind: str = ""  # stopped | worker | forced | open | paused | relay, when not reachable


def reach_of(dispatcher: Dispatcher, agent: Agent, *, worker_alive: bool = True) -> Reach:
    """``agent`` (a roster agent) as ``dispatcher`` would treat a delivery to it now."""
    if dispatcher.stopped:
        return Reach(agent.id, False, STOPPED, "stopped")
    if not worker_alive:
        return Reach(agent.id, False, WORKER_DOWN, "worker")
    snap = dispatcher.breakers.get(agent.id).snapshot()
    if snap.state is State.FORCED_OPEN:
        return Reach(agent.id, False, FORCED, "forced")
    if snap.state is State.OPEN:
        wait = math.ceil(snap.remaining_wait)
        when = f"trial in {wait} s" if wait > 0 else "the next send is a trial"
        return Reach(agent.id, False, f"breaker open after repeated failures ({when})", "open")
    paused = getattr(dispatcher, "gui_paused", None)
    if paused and agent.transport.kind == "gui":
        return Reach(agent.id, False, f"GUI delivery paused: {paused}", "paused")
    away = dispatcher.companions.unreachable.get(agent.id)
    if away:
        return Reach(agent.id, False, away, "relay")
    return Reach(agent.id, True)


def unreachable_agents(dispatcher: Dispatcher, agents: Iterable[Agent], *,
                       worker_alive: bool = True) -> dict[str, str]:
    """``{agent id: why no delivery reaches it now}`` for those of ``agents`` that cannot take one
    (a disabled agent: "disabled on the roster"). Cheap and in-memory: fine on the UI thread."""
    out: dict[str, str] = {}
    for agent in agents:
        if not agent.enabled:
            out[agent.id] = "disabled on the roster"
            continue
        reach = reach_of(dispatcher, agent, worker_alive=worker_alive)
        if not reach.reachable:
            out[agent.id] = reach.reason
    return out


def agent_status(reach: Reach, breaker: State, figures: Mapping[str, Any], *,
                 degraded_at: float = 0.25) -> Health:
    """One agent's health (see the module docstring); ``figures``: its ``delivery_stats()["window"]``."""
    name = figures.get("name", "the figure window")
    details: dict[str, Any] = {"breaker": breaker.name, "failure_rate": figures.get("failure_rate"),
                               "delivered": figures.get("ok", 0), "failed": figures.get("failed", 0),
                               "unverified": figures.get("unverified", 0), "window": name}
    if not reach.reachable:
        status = Status.OUT_OF_SERVICE if reach.kind in _ON_PURPOSE else Status.DOWN
        return Health(status, {**details, "reason": reach.reason})
    if breaker is State.HALF_OPEN:
        return Health(Status.DEGRADED, {**details, "reason": "trial deliveries in progress"})
    rate = figures.get("failure_rate")
    if rate is None:
        unverified = figures.get("unverified", 0)
        why = (f"{unverified} unverified in the {name} (no evidence either way)" if unverified
               else f"no finished deliveries in the {name}")
        return Health(Status.UNKNOWN, {**details, "reason": why})
    if rate >= degraded_at:
        failed, decided = figures.get("failed", 0), figures.get("failed", 0) + figures.get("ok", 0)
        return Health(Status.DEGRADED, {**details, "reason": f"{failed} of {decided} failed in the {name}"})
    return Health(Status.UP, details)


def fleet_status(statuses: Iterable[Status]) -> Status:
    """The fleet's status from its agents' (see the module docstring)."""
    present = [Status(s) for s in statuses]
    if not present:
        return Status.UNKNOWN
    if all(_WEIGHT.get(s, 0.0) == 0.0 for s in present):
        return aggregate(present, STATUS_ORDER)  # DOWN if any is down, else OUT_OF_SERVICE
    if any(s not in (Status.UP, Status.UNKNOWN) for s in present):
        return Status.DEGRADED
    return aggregate(present, STATUS_ORDER)


def fleet_score(statuses: Iterable[Status]) -> int | None:
    """0-100 from the agents' statuses (see the module docstring); None without agents."""
    present = [Status(s) for s in statuses]
    if not present:
        return None
    status = fleet_status(present)
    score = 100 * sum(_WEIGHT.get(s, 0.0) for s in present) / len(present)
    if status is Status.DEGRADED:  # rounding never turns a partial fleet into 0 or 100
        return min(99, max(1, math.floor(score + 0.5)))
    return math.floor(score + 0.5)


def _brief(reason: str, longest: int = 60) -> str:
    """A long reason kept to its kind and its last clause: "GUI delivery paused: pointer is at …:
    someone is using the mouse" -> "GUI delivery paused: someone is using the mouse"."""
    if len(reason) <= longest or reason.count(": ") < 2:
        return reason
    return f"{reason.split(': ', 1)[0]}: {reason.rsplit(': ', 1)[-1]}"


def _names(ids: list[str], shown: int = 3) -> str:
    more = len(ids) - shown
    return ", ".join(ids[:shown]) + (f" +{more} more" if more > 0 else "")


def fleet_headline(agents: Mapping[str, Mapping[str, Any]]) -> str:
    """"3/4 reachable · Agent-2 forced open by you" from the ``agents`` components of a health
    tree: who cannot take a delivery and why (one reason shared by all is said once), then
    who is degraded."""
    if not agents:
        return "no enabled agents"
    blocked: dict[str, list[str]] = {}
    degraded: list[str] = []
    for agent_id, part in agents.items():
        status = Status(part["status"])
        reason = str(part.get("details", {}).get("reason", ""))
        if status in (Status.DOWN, Status.OUT_OF_SERVICE):
            blocked.setdefault(reason, []).append(agent_id)
        elif status is Status.DEGRADED:
            degraded.append(f"{agent_id} {reason}" if len(degraded) < 2 else "")
    reachable = len(agents) - sum(len(ids) for ids in blocked.values())
    parts = [f"{reachable}/{len(agents)} reachable"]
    for reason, ids in blocked.items():
        reason = _brief(reason)
        parts.append(reason if len(ids) == len(agents) and len(agents) > 1 else f"{_names(ids)} {reason}")
    shown = [text for text in degraded if text]
    if shown:
        extra = len(degraded) - len(shown)
        parts.append("degraded: " + "; ".join(shown) + (f" +{extra} more" if extra else ""))
    return " · ".join(parts)
