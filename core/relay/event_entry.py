"""Relay -> captain activity events on ``qd:events:<captain>`` (the relay wire protocol: ``protocol``;
to which captains: ``captains``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from quarterdeck.core.relay.fields import (
    VERSION,
    Fields,
    MalformedEntry,
    check_version,
    decode,
    field_of,
    stamp,
    time_of,
)


@dataclass(frozen=True)
class EventEntry:
    """Relay -> captain (``qd:events``): one activity event of an agent on the relay's machine; ``key``
    is its unique key there (seen twice, stored once); ``at`` is in the broker's clock (Redis ``TIME``:
    a relay whose clock is off does not age its events); empty optional fields are ""."""

    relay: str
    key: str
    agent: str
    source: str
    kind: str
    name: str
    at: float
    waits_for: str = ""
    detail: str = ""
    text: str = ""
    session: str = ""

    def to_fields(self) -> dict[str, str]:
        return {**{k: str(v) for k, v in asdict(self).items()}, "v": VERSION, "at": stamp(self.at)}

    @classmethod
    def from_fields(cls, raw: Fields) -> EventEntry:
        what, fields = "an event entry", decode(raw)
        check_version(fields, what)
        given = {k: field_of(fields, k, what) for k in ("relay", "key", "agent", "source", "kind", "name")}
        if empty := [k for k in ("key", "agent", "source", "kind") if not given[k]]:
            raise MalformedEntry(f"{what}: field {empty[0]!r} is empty")
        return cls(**given, at=time_of(fields, "at", what), **{k: fields.get(k, "") for k in _EVENT_OPTIONAL})


_EVENT_OPTIONAL = ("waits_for", "detail", "text", "session")
