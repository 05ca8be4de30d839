"""One roster across machines: this machine's agents and every relay's, each with its machine.

Relays announce themselves in the broker's ``qd:relays`` hash (relay name -> JSON with its agents
and ``seen_at``, rewritten every 2 s: ``quarterdeck.core.relay.protocol.Announcement``).
:func:`merge` puts them next to the local roster:

- every agent gets its machine: the relay's name, or :func:`this_machine` for local agents;
- a relay not seen for :data:`STALE_S` seconds is stale ("last seen 40 s ago") and its agents'
  activity is ``offline``;
- the same agent id on two machines (two relays, or a relay and this machine) is a problem shown
  with the roster, never a guess: that id leaves the roster deliveries use, and a send to it is
  refused (:meth:`Machines.refusal`).

Liveness is judged in the broker's clock: a relay writes ``seen_at`` from Redis ``TIME`` and the
captain passes :func:`broker_now` (``TIME`` again) as ``merge``'s ``now``, so a relay (or a captain)
whose clock is off looks neither stale while it runs nor fresh once it has died.

Remote agents carry a ``RelayTransport`` (``kind: relay``), so the dispatcher hands their
deliveries to the relay transport. Qt-free, and no broker I/O here beyond :func:`read_relays` and
:func:`broker_now`.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from msgspec import Struct, field

from quarterdeck.core.model_check import checked
from quarterdeck.core.models import Agent
from quarterdeck.core.relay.protocol import KEYS, Announcement, MalformedEntry
from quarterdeck.core.relay_settings import RelayTransport
from quarterdeck.core.roster.roster import Roster

__all__ = ["STALE_S", "Machines", "Placed", "RelaySeen", "broker_now", "merge", "read_relays", "seen_text",
           "this_machine"]

STALE_S = 10.0


class HashReader(Protocol):
    def hgetall(self, name: str) -> Any: ...


class Clock(Protocol):
    def time(self) -> Any: ...


def broker_now(client: Clock) -> float:
    """The broker's clock (Redis ``TIME``: seconds and microseconds) as epoch seconds: one round trip.
    Relays stamp ``seen_at`` with it and the captain measures ages against it. An ACL user denied
    ``TIME`` (``NOPERM``) gets this machine's clock; an unreachable broker raises as any command does."""
    import redis  # here: the roster module is read without a broker too (the panel's first paint)

    try:
        seconds, micros = client.time()
    except redis.ResponseError as exc:
        if not str(exc).startswith("NOPERM"):
            raise
        return time.time()
    return int(seconds) + int(micros) / 1_000_000


def this_machine() -> str:
    return socket.gethostname() or "this machine"


def seen_text(age: float) -> str:
    """``last seen 40 s ago`` / ``last seen 3 min ago``."""
    seconds = max(0, round(age))
    return f"last seen {seconds} s ago" if seconds < 120 else f"last seen {seconds // 60} min ago"


class RelaySeen(Struct, frozen=True):
    """One relay as the captain sees it."""

    name: str
    host: str
    seen_at: float
    age: float  # seconds since it was last seen (now - seen_at, never negative)
    agents: tuple[str, ...]
    paused: str = ""  # why its GUI delivery is paused (a person at its screen), as it announced

    @property
    def stale(self) -> bool:
        return self.age > STALE_S

    @property
    def health(self) -> str:
        return seen_text(self.age) if self.stale else "ok"


class Placed(Struct, frozen=True):
    """One agent of the merged roster and where it runs."""

    agent: Agent
    machine: str
    relay: RelaySeen | None = None  # None: this machine
    conflict: bool = False

    @property
    def offline(self) -> bool:
        """Its relay stopped answering: whatever it was doing, it is offline to the captain."""
        return self.relay is not None and self.relay.stale


class Machines(Struct, frozen=True):
    """The merged roster: ``roster`` is what deliveries use (conflicting ids left out)."""

    roster: Roster
    placed: tuple[Placed, ...]
    relays: tuple[RelaySeen, ...] = ()
    problems: tuple[str, ...] = ()
    conflicts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # agent id -> its machines

    def machine_of(self, agent_id: str) -> str | None:
        for placed in self.placed:
            if placed.agent.id == agent_id:
                return placed.machine
        return None

    def refusal(self, agent_ids: Iterable[str]) -> str | None:
        """Why a send to these agents is refused (an id on two machines), or None."""
        for agent_id in agent_ids:
            if agent_id in self.conflicts:
                where = " and ".join(self.conflicts[agent_id])
                return (f"{agent_id} is on more than one machine ({where}): not sent; give one of them "
                        "another id")
        return None


def read_relays(client: HashReader, *, problems: list[str] | None = None) -> list[Announcement]:
    """Every relay's announcement in ``qd:relays``; a malformed one is skipped (noted in ``problems``)."""
    found: list[Announcement] = []
    for name, raw in sorted((client.hgetall(KEYS.relays) or {}).items()):
        label = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        try:
            found.append(Announcement.from_json(raw))
        except MalformedEntry as exc:
            if problems is not None:
                problems.append(f"relay {label}: {exc}")
    return found


def _remote(agent: Any, relay: str) -> Agent:
    # the announcement is another machine's word: its id is checked as any roster entry's
    return checked(Agent, {"id": agent.id, "display_name": agent.display_name or None, "role": agent.role,
                           "transport": RelayTransport(relay=relay, via=agent.transport, target=agent.target)})


def merge(local: Roster, relays: Iterable[Announcement], *, now: float, machine: str | None = None,
          notes: Iterable[str] = ()) -> Machines:
    """This machine's roster and the relays' agents as one, with every conflict found."""
    here = machine or this_machine()
    placed: list[Placed] = [Placed(a, here) for a in local.agents]
    seen: list[RelaySeen] = []
    problems = list(notes)
    for ann in relays:
        relay = RelaySeen(ann.name, ann.host, ann.seen_at, max(0.0, now - ann.seen_at),
                          tuple(a.id for a in ann.agents), ann.paused)
        seen.append(relay)
        for agent in ann.agents:
            try:
                placed.append(Placed(_remote(agent, ann.name), ann.name, relay))
            except ValueError as exc:
                problems.append(f"relay {ann.name}: agent {agent.id!r} is not valid here: "
                                f"{str(exc).splitlines()[0]}")
    machines: dict[str, list[str]] = {}
    for p in placed:
        machines.setdefault(p.agent.id, []).append(p.machine)
    conflicts = {aid: tuple(where) for aid, where in machines.items() if len(where) > 1}
    for aid, where in conflicts.items():
        problems.append(f"agent id {aid} is on {len(where)} machines ({', '.join(where)}): "
                        "sends to it are refused until one is renamed")
    placed = [Placed(p.agent, p.machine, p.relay, p.agent.id in conflicts) for p in placed]
    for relay in seen:
        if relay.stale:
            problems.append(f"relay {relay.name} {relay.health}: its agents are offline")
    usable = tuple(p.agent for p in placed if not p.conflict)
    groups = {name: tuple(m for m in members if m not in conflicts) for name, members in local.groups.items()}
    roster = Roster(usable, groups, local.warnings)
    return Machines(roster, tuple(placed), tuple(seen), tuple(problems), conflicts)
