"""Helpers the panel tests import by name (conftest modules share one name across folders)."""
from __future__ import annotations

from core.models import Agent, DryRunTransport
from core.roster import Roster


def dry_roster(*ids: str, roles: dict[str, str] | None = None) -> Roster:
    roles = roles or {}
    return Roster(tuple(Agent(id=i, role=roles.get(i, ""), transport=DryRunTransport()) for i in ids))
