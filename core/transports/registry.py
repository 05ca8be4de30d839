"""From an agent's transport settings to the transport that delivers to it, by ``kind``.

Each kind's module is imported only when an agent of that kind needs it: a roster of tmux
agents never loads the GUI transport (PyAutoGUI, X11). An agent on another machine (``relay``)
is reached through the broker: the composition root passes ``relays`` (relay name -> its
transport) when a broker is configured.
"""
from __future__ import annotations

from collections.abc import Callable

from msgspec.structs import asdict

from quarterdeck.core.delivery.contract import Transport
from quarterdeck.core.models import (
    Agent,
    DryRunTransport,
    GuiTransport,
    InboxTransport,
    TmuxTransport,
    TransportSettings,
)
from quarterdeck.core.relay_settings import RelayTransport

__all__ = ["transport_for"]


def transport_for(agent: Agent | TransportSettings, *, relays: Callable[[str], Transport] | None = None) -> Transport:
    """Build the transport an agent's settings describe.

    Accepts an ``Agent`` (its ``transport`` attribute) or the transport settings themselves; the
    settings carry ``kind`` plus that kind's fields (``target`` for tmux, ``path`` for inbox).
    """
    settings = agent.transport if isinstance(agent, Agent) else agent
    if isinstance(settings, TmuxTransport):
        from quarterdeck.core.transports.tmux.transport import TmuxDelivery

        submit = None if settings.submit is None else asdict(settings.submit)
        return TmuxDelivery(settings.target, agent=settings.agent, submit=submit)
    if isinstance(settings, InboxTransport):
        from quarterdeck.core.transports.inbox import InboxDelivery

        return InboxDelivery(settings.path)
    if isinstance(settings, DryRunTransport):
        from quarterdeck.core.transports.dryrun import DryRunDelivery

        return DryRunDelivery()
    if isinstance(settings, GuiTransport):
        from quarterdeck.core.transports.gui.transport import GuiDelivery

        return GuiDelivery.from_settings(settings, agent=agent.id if isinstance(agent, Agent) else "")
    if isinstance(settings, RelayTransport):
        if relays is None:
            raise ValueError(f"{getattr(agent, 'id', 'the agent')} is on relay {settings.relay}: no broker is "
                             "configured (--broker URL or COORDINATION_BROKER_URL)")
        return relays(settings.relay)
    kind = getattr(settings, "kind", None)
    raise ValueError(f"unknown transport kind {kind!r} for agent {getattr(agent, 'id', agent)!r}")
