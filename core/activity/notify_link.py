"""The session bus's end of desktop notifications: finding the bus, connecting to the
``org.freedesktop.Notifications`` service, and one line for whatever went wrong.

:func:`open_link` connects (``DBUS_SESSION_BUS_ADDRESS``, else systemd's user bus in
``XDG_RUNTIME_DIR``), subscribes to the service's ``ActionInvoked`` and ``NotificationClosed``
signals into a queue, and asks the service what it is and can do: asking starts one the bus can
activate (a daemon installed but not running). ``QUARTERDECK_NOTIFICATIONS=off`` stops it before
the bus is asked. Used by :mod:`quarterdeck.core.activity.notify_dbus`, on its worker thread.
"""
from __future__ import annotations

import logging
import os
import queue
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, MatchRule, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusRouter, open_dbus_connection
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
NOTIFICATIONS = DBusAddress("/org/freedesktop/Notifications", bus_name=SERVICE, interface=SERVICE)
SIGNALS = ("ActionInvoked", "NotificationClosed")
CALL_TIMEOUT_S = 5.0  # a call the service does not answer in this time failed (the UI never waits)
OFF_ENV = "QUARTERDECK_NOTIFICATIONS"
OFF = "desktop notifications are off (QUARTERDECK_NOTIFICATIONS=off)"
NO_SERVICE = "no desktop notifications: no notification service on the session bus"


class Off(Exception):
    """Desktop notifications are turned off in the environment."""


class QuietRouter(DBusRouter):  # type: ignore[misc]  # jeepney is untyped
    """jeepney's router, whose receiving thread ends quietly when the bus goes away (jeepney's
    own lets the socket error escape the thread: a traceback on stderr); the next call then
    fails and the notifier reconnects."""

    def _receiver(self) -> None:
        try:
            super()._receiver()
        except OSError as exc:
            log.debug("the D-Bus connection ended: %s", exc)


@dataclass
class Link:
    """A connection to the service: ``conn`` and its ``router`` (jeepney's), what the service
    calls itself (``server``, e.g. ``dunst 1.9.0``) and whether it reads markup in a body."""

    conn: Any
    router: Any
    server: str
    markup: bool
    actions: bool

    def close(self) -> None:
        for closing in (self.router, self.conn):
            try:
                closing.close()
            except Exception:
                log.debug("closing the D-Bus connection failed", exc_info=True)


def open_link(bus: str | None, signals: queue.Queue[object]) -> Link:
    """Connect to ``bus`` (None: the session bus) and the service on it; its signals go to
    ``signals``. Raises :class:`Off`, or what jeepney raised (:func:`why` says it in a line)."""
    if os.environ.get(OFF_ENV, "").strip().lower() in ("off", "0", "no", "false"):
        raise Off(OFF)
    conn = open_dbus_connection(bus=bus or session_bus())
    router = QuietRouter(conn)
    try:
        for member in SIGNALS:
            rule = MatchRule(type="signal", interface=SERVICE, member=member, path=NOTIFICATIONS.object_path)
            unwrap_msg(router.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_S))
            router.filter(rule, queue=signals)
        caps = unwrap_msg(router.send_and_get_reply(
            new_method_call(NOTIFICATIONS, "GetCapabilities"), timeout=CALL_TIMEOUT_S))[0]
        info = unwrap_msg(router.send_and_get_reply(
            new_method_call(NOTIFICATIONS, "GetServerInformation"), timeout=CALL_TIMEOUT_S))
    except BaseException:
        Link(conn, router, "", False, False).close()
        raise
    return Link(conn, router, f"{info[0]} {info[2]}".strip(), "body-markup" in caps, "actions" in caps)


def session_bus() -> str:
    """The session bus's address: ``DBUS_SESSION_BUS_ADDRESS``, else the usual socket in
    ``XDG_RUNTIME_DIR`` (systemd's user bus), else ``SESSION`` (jeepney then says it is unset)."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and (Path(runtime) / "bus").exists():
        return f"unix:path={Path(runtime) / 'bus'}"
    return "SESSION"


def gone(exc: BaseException) -> bool:
    """Whether ``exc`` says there is no notification service (rather than a refused call)."""
    if not isinstance(exc, DBusErrorResponse):
        return False
    name = str(exc.name or "")
    return name.endswith(("ServiceUnknown", "NameHasNoOwner", "NoReply")) or ".Spawn." in name


def why(exc: BaseException) -> str:
    """One line for the status: turned off, no session bus, no service on it, or what else."""
    if isinstance(exc, Off):
        return OFF
    if gone(exc):
        return NO_SERVICE
    if isinstance(exc, KeyError) or "DBUS_SESSION_BUS_ADDRESS" in str(exc):
        return "no desktop notifications: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    if isinstance(exc, TimeoutError):  # before OSError: it is one
        return "no desktop notifications: the notification service does not answer"
    if isinstance(exc, OSError):
        return f"no desktop notifications: the D-Bus session bus cannot be reached ({exc})"
    return f"no desktop notifications: {type(exc).__name__}: {exc}"
