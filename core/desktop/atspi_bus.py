"""Where this desktop's accessibility bus is, for ``quarterdeck.core.desktop.atspi``.

Two places name it: the X root window's ``AT_SPI_BUS`` property (set by at-spi-bus-launcher) and
``org.a11y.Bus.GetAddress`` on the session bus (which starts the launcher on a desktop). Each
look-up gives an address or None; ``atspi.find_bus_addresses`` tries them in that order.
"""
from __future__ import annotations

import logging
import os
import sys
import warnings

log = logging.getLogger(__name__)

__all__ = ["bus_from_session", "bus_from_x"]


def bus_from_x() -> str | None:
    """The ``AT_SPI_BUS`` property of the X root window, where there is an X display."""
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    try:
        from Xlib import X
        from Xlib import display as xdisplay

        with warnings.catch_warnings():  # python-xlib leaves its Xauthority file unclosed
            warnings.simplefilter("ignore", ResourceWarning)
            dpy = xdisplay.Display()
        try:
            prop = dpy.screen().root.get_full_property(dpy.intern_atom("AT_SPI_BUS"), X.AnyPropertyType)
        finally:
            dpy.close()
    except Exception as exc:  # no python-xlib, or the display refused us
        log.debug("AT_SPI_BUS not readable: %s", exc)
        return None
    value = getattr(prop, "value", None)
    return (value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else value) or None


def bus_from_session(timeout: float = 1.0) -> str | None:
    """``org.a11y.Bus.GetAddress`` on the session bus (it starts the launcher on a desktop)."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    try:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection("SESSION") as session:
            reply = session.send_and_get_reply(new_method_call(
                DBusAddress("/org/a11y/bus", "org.a11y.Bus", "org.a11y.Bus"), "GetAddress"), timeout=timeout)
    except Exception as exc:
        log.debug("session bus: %s", exc)
        return None
    return reply.body[0] if reply.header.message_type.name == "method_return" and reply.body else None
