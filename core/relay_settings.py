"""The transport settings of an agent on another machine (issue 14), kept out of ``models`` for its size.

Never written in agents.yaml: the captain's merged roster (``quarterdeck.core.roster.remote``)
gives each relay's agents this transport; ``relay`` is the relay's name, and ``via`` and
``target`` are what the relay announced (its own transport kind and target there), for display.
"""
from __future__ import annotations

from typing import ClassVar, Literal

import msgspec


class TransportBase(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind"):
    """The transports: a union told apart by ``kind`` (the tag msgspec reads and writes; ``kind`` on an
    instance is the class's tag, a ClassVar, since a tag cannot also be a field)."""


class RelayTransport(TransportBase, tag="relay", frozen=True):
    kind: ClassVar[Literal["relay"]] = "relay"
    relay: str
    via: str = ""
    target: str = ""
