"""The ICCCM duties of the clipboard owner (``SelectionOwner``) beyond answering one target.

All of it runs on the selection thread:

- ``server_time``: a real server timestamp for ``SetSelectionOwner`` (ICCCM forbids CurrentTime
  there): a zero-length append to a property of our own window makes the server send a
  PropertyNotify carrying its time. Events arriving meanwhile are handled as usual.
- ``answer_multiple``: a MULTIPLE request names, in its property, a list of ATOM_PAIRs (target,
  property); each is converted as if asked alone, and a pair refused gets None as its property
  (what GTK and Qt requestors look for), then the list is written back.
- ``save_to_manager``: ask a running clipboard manager (the owner of CLIPBOARD_MANAGER, per
  freedesktop.org's clipboard manager spec) to save the clipboard: convert CLIPBOARD_MANAGER to
  SAVE_TARGETS; the manager reads the clipboard from us meanwhile and answers with a property
  (saved) or None (refused).
"""
from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quarterdeck.core.desktop.clipboard.selection import SelectionOwner

__all__ = ["answer_multiple", "pump", "save_to_manager", "server_time"]


def pump(owner: SelectionOwner, match: Callable[[Any], bool], timeout: float) -> Any:
    """Handle events until one ``match``es (returned, not handled) or ``timeout`` (None)."""
    d = owner._d
    deadline = time.monotonic() + timeout
    while True:
        d.flush()
        while d.pending_events():
            ev = d.next_event()
            if match(ev):
                return ev
            owner._handle(ev)
            d.flush()
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        select.select([d.fileno()], [], [], left)


def server_time(owner: SelectionOwner, timeout: float = 1.0) -> int:
    """The X server's time now (ms); CurrentTime (0) if the server did not answer in time."""
    X, window, prop = owner.X, owner.window, owner.atom("QUARTERDECK_TIME")
    window.change_property(prop, owner.atom("STRING"), 8, b"", mode=X.PropModeAppend)
    ev = pump(owner, lambda e: e.type == X.PropertyNotify and e.window.id == window.id and e.atom == prop,
              timeout)
    return int(X.CurrentTime if ev is None else ev.time)


def answer_multiple(owner: SelectionOwner, requestor: Any, prop: int, convert: Callable[[Any, str, int], bool]) -> bool:
    """Convert every (target, property) pair listed in ``requestor``'s ``prop``; False when the
    list cannot be read (the whole request is refused then)."""
    X = owner.X
    if prop == X.NONE:
        return False
    reply = requestor.get_property(prop, X.AnyPropertyType, 0, 1 << 16)
    if reply is None or reply.format != 32 or len(reply.value) % 2:
        return False
    pairs = list(reply.value)
    for i in range(0, len(pairs), 2):
        target, into = pairs[i], pairs[i + 1]
        try:
            name = owner.name(target)
        except Exception:
            name = ""
        if into == X.NONE or name in ("", "MULTIPLE") or not convert(requestor, name, into):
            pairs[i + 1] = X.NONE
    requestor.change_property(prop, reply.property_type, 32, pairs)
    return True


def save_to_manager(owner: SelectionOwner, timeout: float = 2.0) -> bool:
    """True once a running clipboard manager said it saved the clipboard (False: none runs, it
    refused, or it did not answer within ``timeout``)."""
    X, d = owner.X, owner._d
    manager_sel = owner.atom("CLIPBOARD_MANAGER")
    manager = d.get_selection_owner(manager_sel)
    if getattr(manager, "id", manager) in (0, None):
        return False
    prop = owner.atom("QUARTERDECK_SAVE")
    owner.window.convert_selection(manager_sel, owner.atom("SAVE_TARGETS"), prop, server_time(owner))
    ev = pump(owner, lambda e: e.type == X.SelectionNotify and e.selection == manager_sel, timeout)
    if ev is None:
        return False
    if ev.property != X.NONE:
        owner.window.delete_property(ev.property)
    return bool(ev.property != X.NONE)
