"""Where each agent the roster panel shows runs, once relays on other machines join (issue 14).

Qt-free. :func:`shown` turns the session's merged roster (``quarterdeck.core.roster.remote.Machines``)
into what the panel shows: every agent once (this machine's first, then each relay's), its machine
(the MACHINE column and the tiles), whether it is remote (read-only here: it belongs to its
machine's agents.yaml), why it is offline (its relay not seen for 10 s), and an id found on two
machines marked as a conflict naming both, never a guess. :func:`relays_text` is the one line the
status bar and the Health panel add: ``3 relays · 1 last seen 40 s ago``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from quarterdeck.core.roster.remote import Machines, Placed, RelaySeen
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import AS_LAST_SEEN

__all__ = ["Shown", "Where", "relays_text", "shown"]


@dataclass(frozen=True)
class Where:
    """One agent's machine as the roster shows it; ``key``: here, relay, stale or conflict."""

    text: str
    tip: str
    key: str
    remote: bool = False


@dataclass(frozen=True)
class Shown:
    """What the roster panel shows; ``where`` is empty without a broker (one machine: no column)."""

    roster: Roster
    where: Mapping[str, Where] = field(default_factory=dict)
    offline: Mapping[str, RelaySeen] = field(default_factory=dict)  # agent id -> its relay, not answering
    relays: tuple[RelaySeen, ...] = ()
    problems: tuple[str, ...] = ()

    def remote(self, agent_id: str) -> bool:
        where = self.where.get(agent_id)
        return where is not None and where.remote

    def machine(self, agent_id: str) -> str:
        where = self.where.get(agent_id)
        return "" if where is None else where.text


def _where(first: Placed, all_places: list[Placed]) -> Where:
    agent_id = first.agent.id
    if len(all_places) > 1:
        names = [p.machine for p in all_places]
        return Where(" + ".join(names), f"{agent_id} is on {len(names)} machines ({', '.join(names)}): sends to "
                     "it are refused until one is renamed", "conflict", first.relay is not None)
    relay = first.relay
    if relay is None:
        return Where(first.machine, "This machine: its agents.yaml, edited here", "here")
    if relay.stale:
        return Where(f"{relay.name} · {relay.health}", f"Relay {relay.name} on {relay.host} {relay.health}: "
                     "its agents are offline until it answers again", "stale", True)
    return Where(relay.name, f"Relay {relay.name} on {relay.host} (seen {relay.age:.0f} s ago); edit this agent "
                 "in that machine's agents.yaml", "relay", True)


def shown(local: Roster, machines: Machines | None) -> Shown:
    """The panel's roster: ``local`` alone without relays, else every machine's agents once."""
    if machines is None:
        return Shown(local)
    places: dict[str, list[Placed]] = {}
    for placed in machines.placed:
        places.setdefault(placed.agent.id, []).append(placed)
    agents, where, offline = [], {}, {}
    for agent_id, found in places.items():
        first = found[0]
        agents.append(first.agent)
        where[agent_id] = _where(first, found)
        if first.offline and first.relay is not None:
            offline[agent_id] = first.relay
    groups = {name: members for name, members in local.groups.items()}
    return Shown(Roster(tuple(agents), groups, local.warnings), where, offline, machines.relays, machines.problems)


def unread(problems: Iterable[str]) -> bool:
    """Whether the broker could not be read (the relays are as last seen), by the merge's problems."""
    return any(p.endswith(AS_LAST_SEEN) for p in problems)


def relays_text(relays: Iterable[RelaySeen], *, as_last_seen: bool = False) -> str:
    """``2 relays up`` / ``3 relays · 1 last seen 40 s ago`` / ``no relay has announced itself``;
    ``as_last_seen`` (the broker cannot be read: ``unread``): ``2 relays as last seen``, never "up"."""
    seen = list(relays)
    if not seen:
        return "no relay has announced itself"
    stale = [r for r in seen if r.stale]
    head = f"{len(seen)} relay{'s' if len(seen) != 1 else ''}"
    if not stale:
        return f"{head} as last seen" if as_last_seen else f"{head} up"
    if len(stale) == 1:
        return f"{head} · {stale[0].name} {stale[0].health}"
    oldest = max(stale, key=lambda r: r.age)
    return f"{head} · {len(stale)} not answering (oldest {oldest.health})"
