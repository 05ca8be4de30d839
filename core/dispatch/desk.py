"""The desk around a batch of deliveries, as the dispatcher sees it: three moments, nothing more.

The dispatcher tells the desk when it claimed a delivery (of which transport kind), when the
outbox has nothing more for it (the batch is over) and when the captain resumed after a pause.
What the desk does then (accept the pointer where it is, give focus and pointer back to the
captain) belongs to the GUI transport (``quarterdeck.core.transports.gui.desk_return.DeskReturn``), which
the composition root passes in; without one nothing on the desktop is touched.
"""
from __future__ import annotations

from typing import Protocol

__all__ = ["Desk", "NoDesk"]


class Desk(Protocol):
    def claimed(self, transport_kind: str) -> None:
        """A delivery of ``transport_kind`` was claimed."""

    def idle(self) -> None:
        """The outbox has nothing for this process: a batch, if one ran, is over."""

    def resumed(self) -> None:
        """The captain resumed after a pause: the pointer is theirs to have left anywhere."""


class NoDesk:
    """A desk nobody sits at: a dispatcher of terminal, inbox or dry-run deliveries only."""

    def claimed(self, transport_kind: str) -> None:
        return None

    def idle(self) -> None:
        return None

    def resumed(self) -> None:
        return None
