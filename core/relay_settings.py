"""The transport settings of an agent on another machine (issue 14), kept out of ``models`` for its size.

Never written in agents.yaml: the captain's merged roster (``quarterdeck.core.roster.remote``)
gives each relay's agents this transport; ``relay`` is the relay's name, and ``via`` and
``target`` are what the relay announced (its own transport kind and target there), for display.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class RelayTransport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["relay"] = "relay"
    relay: str
    via: str = ""
    target: str = ""
