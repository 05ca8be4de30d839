"""From an agent's transport settings to the transport that delivers to it, by ``kind``.

Each kind's module is imported only when an agent of that kind needs it: a roster of tmux
agents never loads the GUI transport (PyAutoGUI, X11).
"""
from __future__ import annotations

from typing import Any

from quarterdeck.core.delivery.contract import Transport

__all__ = ["transport_for"]


def transport_for(agent: Any) -> Transport:
    """Build the transport an agent's settings describe.

    Accepts an ``Agent`` (its ``transport`` attribute) or the transport settings themselves; the
    settings carry ``kind`` plus that kind's fields (``target`` for tmux, ``path`` for inbox).
    """
    settings = getattr(agent, "transport", agent)
    kind = getattr(settings, "kind", None)
    if kind == "tmux":
        from quarterdeck.core.transports.tmux.transport import TmuxDelivery

        submit = getattr(settings, "submit", None)
        if submit is not None and not isinstance(submit, dict):
            submit = submit.model_dump()
        return TmuxDelivery(settings.target, agent=getattr(settings, "agent", None), submit=submit)
    if kind == "inbox":
        from quarterdeck.core.transports.inbox import InboxDelivery

        return InboxDelivery(settings.path)
    if kind == "dryrun":
        from quarterdeck.core.transports.dryrun import DryRunDelivery

        return DryRunDelivery()
    if kind == "gui":
        from quarterdeck.core.transports.gui.transport import GuiDelivery

        return GuiDelivery.from_settings(settings, agent=str(getattr(agent, "id", "") or ""))
    raise ValueError(f"unknown transport kind {kind!r} for agent {getattr(agent, 'id', agent)!r}")
