"""The relay wire protocol over Redis Streams (issue 14, version 2): key names and entry fields.

Everything lives under one key prefix (``qd:``). Every stream entry carries ``v`` = ``"2"``;
times are epoch seconds as decimal strings; JSON fields are compact UTF-8 JSON.

- ``qd:relay:<name>:in``: deliveries for relay <name> (``DeliveryEntry``), written by the captain;
  consumer group ``relay``, consumer name = the relay's name.
- ``qd:receipts:<captain>``: every state change of a delivery the captain <captain> relayed
  (``Receipt``), written by relays; consumer group ``captain``. <captain> is the id of the captain's
  outbox: every process on one outbox is one captain, and two outboxes on one broker, whose
  delivery ids are numbered each on its own, never meet (``qd:receipts`` for a captain without one).
- ``qd:events:<captain>``: agent activity events from relays (``event_entry``) for each captain of
  ``qd:captains`` (a hash, captain -> when it last read them, broker clock; ``captains``); group
  ``captain``. ``qd:events`` while no captain is known.
- ``qd:relays``: a hash, relay name -> ``Announcement`` JSON, rewritten by each relay every 2 s (with
  why its GUI delivery is paused, when it is).
- ``qd:control``: stop-all / resume from the captain (``ControlEntry``); relays XREAD it, no group.

Redis hands fields back as bytes (or str with ``decode_responses``); ``from_fields`` takes
either. A malformed entry raises ``MalformedEntry`` (a ``ValueError``) naming what is wrong.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from quarterdeck.core.model_check import Invalid, decoded, encoded, where
from quarterdeck.core.models import Message
from quarterdeck.core.relay.fields import VERSION, Fields, check_version, decode, field_of, number_of, stamp, time_of
from quarterdeck.core.relay.fields import MalformedEntry as MalformedEntry  # part of this module's interface

PREFIX = "qd:"
RELAY_GROUP = "relay"
CAPTAIN_GROUP = "captain"
STREAM_MAXLEN = 100_000  # XADD MAXLEN ~ for every stream
RECEIPT_STATES = frozenset({"sending", "delivered", "failed", "uncertain", "cancelled", "queued"})
CONTROL_KINDS = frozenset({"stop", "resume"})
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"

def _named(text: str, what: str) -> str:
    if not re.fullmatch(NAME_PATTERN, text):
        raise ValueError(f"{text[:70]!r} is not {what}: use up to 64 letters, digits, '.', '_' and '-', "
                         "starting with a letter or digit")
    return text


def check_name(name: str) -> str:
    """A relay name: letters, digits, ``.``, ``_``, ``-`` (no ``:``, which separates key parts)."""
    return _named(name, "a relay name")


def check_captain(captain: str) -> str:
    """A captain's id (an outbox's: ``quarterdeck.core.store.control.outbox_id``), as a relay name is."""
    return _named(captain, "a captain's id")


@dataclass(frozen=True)
class Keys:
    """The key names under one prefix."""

    prefix: str = PREFIX

    def relay_in(self, name: str) -> str:
        return f"{self.prefix}relay:{check_name(name)}:in"

    @property
    def receipts(self) -> str:
        return f"{self.prefix}receipts"

    def receipts_of(self, captain: str) -> str:
        """The stream of the receipts for ``captain`` (an outbox id; "": none given)."""
        return f"{self.receipts}:{check_captain(captain)}" if captain else self.receipts

    @property
    def events(self) -> str:
        return f"{self.prefix}events"

    def events_of(self, captain: str) -> str:
        """The stream of the activity events for ``captain`` ("": for whichever captain reads first)."""
        return f"{self.events}:{check_captain(captain)}" if captain else self.events

    @property
    def captains(self) -> str:
        return f"{self.prefix}captains"

    @property
    def relays(self) -> str:
        return f"{self.prefix}relays"

    @property
    def control(self) -> str:
        return f"{self.prefix}control"


KEYS = Keys()


@dataclass(frozen=True)
class DeliveryEntry:
    """Captain -> relay: deliver ``message`` to ``agent``; ``delivery`` is the delivery id in the outbox
    of ``captain`` (its id)."""

    delivery: int
    agent: str
    message: Message
    sent_at: float
    captain: str = ""

    def to_fields(self) -> dict[str, str]:
        return {"v": VERSION, "captain": self.captain, "delivery": str(self.delivery), "agent": self.agent,
                "message": encoded(self.message).decode(), "sent_at": stamp(self.sent_at)}

    @classmethod
    def from_fields(cls, raw: Fields) -> DeliveryEntry:
        what = "a delivery entry"
        fields = decode(raw)
        check_version(fields, what)
        agent = field_of(fields, "agent", what)
        if not agent:
            raise MalformedEntry(f"{what} names no agent")
        try:
            message = decoded(Message, field_of(fields, "message", what))
        except Invalid as exc:
            first = exc.errors()[0]
            at = where(first) or "message"
            raise MalformedEntry(f"{what}: its message is invalid at {at}: {first['msg']}") from None
        return cls(number_of(fields, "delivery", what), agent, message, time_of(fields, "sent_at", what),
                   captain_of(fields, what))


@dataclass(frozen=True)
class Receipt:
    """Relay -> captain: the delivery ``delivery`` (its id in the outbox of ``captain``) to ``agent`` is
    now ``state``."""

    relay: str
    delivery: int
    agent: str
    state: str
    verdict: str = ""
    evidence: str = ""
    reason: str = ""
    attempts: int = 0
    at: float = 0.0
    captain: str = ""

    def __post_init__(self) -> None:
        if self.state not in RECEIPT_STATES:
            raise MalformedEntry(f"a receipt's state {self.state!r} is not one of {sorted(RECEIPT_STATES)}")

    def to_fields(self) -> dict[str, str]:
        return {"v": VERSION, "relay": self.relay, "delivery": str(self.delivery), "agent": self.agent,
                "state": self.state, "verdict": self.verdict, "evidence": self.evidence, "reason": self.reason,
                "attempts": str(self.attempts), "at": stamp(self.at), "captain": self.captain}

    @classmethod
    def from_fields(cls, raw: Fields) -> Receipt:
        what = "a receipt"
        fields = decode(raw)
        check_version(fields, what)
        return cls(relay=field_of(fields, "relay", what), delivery=number_of(fields, "delivery", what),
                   agent=field_of(fields, "agent", what), state=field_of(fields, "state", what),
                   verdict=fields.get("verdict", ""), evidence=fields.get("evidence", ""),
                   reason=fields.get("reason", ""), attempts=number_of(fields, "attempts", what),
                   at=time_of(fields, "at", what), captain=captain_of(fields, what))


def captain_of(fields: Mapping[str, str], what: str) -> str:
    """An entry's captain (an outbox id; "" when it names none)."""
    captain = fields.get("captain", "")
    try:
        return check_captain(captain) if captain else ""
    except ValueError:
        raise MalformedEntry(f"{what}: field 'captain' is not a captain's id: {captain[:40]!r}") from None


@dataclass(frozen=True)
class ControlEntry:
    """Captain -> every relay: ``stop`` (stop all) or ``resume``; ``generation`` counts them."""

    kind: str
    generation: int
    at: float

    def __post_init__(self) -> None:
        if self.kind not in CONTROL_KINDS:
            raise MalformedEntry(f"a control entry's kind {self.kind!r} is not one of {sorted(CONTROL_KINDS)}")

    def to_fields(self) -> dict[str, str]:
        return {"v": VERSION, "kind": self.kind, "generation": str(self.generation), "at": stamp(self.at)}

    @classmethod
    def from_fields(cls, raw: Fields) -> ControlEntry:
        what = "a control entry"
        fields = decode(raw)
        check_version(fields, what)
        return cls(field_of(fields, "kind", what), number_of(fields, "generation", what), time_of(fields, "at", what))


@dataclass(frozen=True)
class AnnouncedAgent:
    id: str
    display_name: str
    role: str
    transport: str
    target: str


@dataclass(frozen=True)
class Announcement:
    """A relay's field in the ``qd:relays`` hash: who it is, its agents, when it was last seen, and why
    its GUI delivery is paused (a person at its screen: a draft in an agent's input), if it is."""

    name: str
    host: str
    pid: int
    started_at: float
    seen_at: float
    agents: list[AnnouncedAgent] = field(default_factory=list)
    paused: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Announcement:
        what = "a relay announcement"
        try:
            data: Any = json.loads(raw)
            agents = [AnnouncedAgent(**{k: str(a[k]) for k in ("id", "display_name", "role", "transport",
                                                                "target")}) for a in data["agents"]]
            return cls(str(data["name"]), str(data["host"]), int(data["pid"]), float(data["started_at"]),
                       float(data["seen_at"]), agents, str(data.get("paused") or ""))
        except (ValueError, TypeError, KeyError) as exc:
            raise MalformedEntry(f"{what} is not valid: {type(exc).__name__}: {exc}"[:200]) from None
