"""Helpers the panel tests import by name (conftest modules share one name across folders)."""
from __future__ import annotations

from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.roster.roster import Roster


def dry_roster(*ids: str, roles: dict[str, str] | None = None) -> Roster:
    roles = roles or {}
    return Roster(tuple(Agent(id=i, role=roles.get(i, ""), transport=DryRunTransport()) for i in ids))


def shots_dir():
    """Where panel screenshots go as test artifacts: $QUARTERDECK_SCREENSHOTS, else
    artifacts/screenshots in the repository (git-ignored)."""
    import os
    from pathlib import Path

    folder = Path(os.environ.get("QUARTERDECK_SCREENSHOTS")
                  or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
