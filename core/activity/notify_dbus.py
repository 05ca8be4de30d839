"""Desktop notifications through the freedesktop Notifications service on the session bus.

:class:`DesktopNotifications` speaks ``org.freedesktop.Notifications`` (``Notify``,
``CloseNotification``, the ``ActionInvoked`` and ``NotificationClosed`` signals) with jeepney, all
on one worker thread of its own: :meth:`show` and :meth:`withdraw` only queue, so the caller (the
panel's UI thread) never waits for the bus. Each notice carries a ``default`` action, so a click
on it reports back (``on_action(key, action)``, called on the worker thread), and replaces the one
shown before under the same key (``replaces_id``) rather than stacking.

No session bus, or no notification service on it, is said once in the log and in :attr:`status`
(also to ``on_status``); the notice is dropped, nothing is raised. The service is looked for
again at most every :data:`RETRY_S` seconds, as a notification daemon may start later.
``QUARTERDECK_NOTIFICATIONS=off`` in the environment turns them off (the bus is not asked: no
daemon is started on demand, e.g. on a test display).
"""
from __future__ import annotations

import html
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, MatchRule, Message, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusRouter, open_dbus_connection
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
NOTIFICATIONS = DBusAddress("/org/freedesktop/Notifications", bus_name=SERVICE, interface=SERVICE)
APP_NAME = "Quarterdeck"
DESKTOP_ENTRY = "quarterdeck"  # packaging/quarterdeck.desktop: servers show its icon and name
DEFAULT_ACTION = "default"  # the action a click on the notification's body invokes
CALL_TIMEOUT_S = 5.0  # a call the service does not answer in this time failed (the UI never waits)
RETRY_S = 60.0
SIGNALS = ("ActionInvoked", "NotificationClosed")
OFF_ENV = "QUARTERDECK_NOTIFICATIONS"
OFF = "desktop notifications are off (QUARTERDECK_NOTIFICATIONS=off)"
_STOP = object()

Router = Any  # jeepney's DBusRouter (jeepney has no type information)


class _Router(DBusRouter):  # type: ignore[misc]  # jeepney is untyped
    """jeepney's router, whose receiving thread ends quietly when the bus goes away (jeepney's
    own lets the socket error escape the thread: a traceback on stderr); the next call then
    fails and the notifier reconnects."""

    def _receiver(self) -> None:
        try:
            super()._receiver()
        except OSError as exc:
            log.debug("the D-Bus connection ended: %s", exc)


class DesktopNotifications:
    """Notices on the desktop, keyed by a caller's name for them (an agent's id)."""

    def __init__(self, *, on_action: Callable[[str, str], None] | None = None,
                 on_closed: Callable[[str], None] | None = None,
                 on_status: Callable[[str], None] | None = None, bus: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.on_action, self.on_closed, self.on_status = on_action, on_closed, on_status
        self.bus = bus  # an address, or None: the session bus (:func:`session_bus`)
        self.clock = clock
        self.status = "not asked yet"
        self.available: bool | None = None  # None until the bus was asked
        self.server: str | None = None  # name and version the service gives, e.g. "dunst 1.9.0"
        self._inbox: queue.Queue[object] = queue.Queue()
        self._router: Router | None = None
        self._conn: Any = None
        self._markup = False
        self._ids: dict[str, int] = {}  # key -> the id of its notification on screen
        self._keys: dict[int, str] = {}
        self._failed_at: float | None = None
        self._said: set[str] = set()  # problems already logged (each once)
        self._thread = threading.Thread(target=self._run, name="desktop-notifications", daemon=True)
        self._thread.start()

    # -- the caller's side (any thread, never blocks) ---------------------------------------------
    def show(self, key: str, title: str, body: str) -> None:
        """Queue a notice for ``key``: it replaces ``key``'s previous one."""
        self._inbox.put(("show", key, title, body))

    def withdraw(self, key: str) -> None:
        """Queue taking ``key``'s notice off the screen, if one is shown."""
        self._inbox.put(("withdraw", key))

    def probe(self) -> None:
        """Queue a look for the service (``status`` then says whether there is one)."""
        self._inbox.put(("probe",))

    def wait_idle(self, timeout: float) -> bool:
        """Whether everything queued so far was done within ``timeout`` seconds (tests, shutdown)."""
        done = threading.Event()
        self._inbox.put(("mark", done))
        return done.wait(timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the worker (what is queued is done first, for at most ``timeout`` seconds)."""
        self._inbox.put(_STOP)
        self._thread.join(timeout)

    # -- the worker thread --------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                item = self._inbox.get()
                if item is _STOP:
                    return
                try:
                    if isinstance(item, Message):
                        self._signal(item)
                    else:
                        self._job(item)
                except Exception:  # a bad reply or a bug must not end the worker
                    log.exception("desktop notifications: %r failed", item)
        finally:
            self._disconnect()

    def _job(self, item: object) -> None:
        assert isinstance(item, tuple)
        what, *args = item
        if what == "mark":
            args[0].set()
        elif what == "probe":
            self._router_or_none()
        elif what == "show":
            self._notify(*args)
        elif what == "withdraw":
            self._withdraw(args[0])

    def _notify(self, key: str, title: str, body: str) -> None:
        router = self._router_or_none()
        if router is None:
            log.debug("no notification service: notice for %s dropped", key)
            return
        text = html.escape(body, quote=False) if self._markup else body
        hints = {"urgency": ("y", 1), "category": ("s", "im.received"), "desktop-entry": ("s", DESKTOP_ENTRY)}
        message = new_method_call(NOTIFICATIONS, "Notify", "susssasa{sv}i",
                                  (APP_NAME, self._ids.get(key, 0), "", title, text,
                                   [DEFAULT_ACTION, f"Show {key}"], hints, -1))
        reply = self._call(message)
        if reply is None:
            return
        old = self._ids.get(key)
        if old is not None:
            self._keys.pop(old, None)
        number = int(reply[0])
        self._ids[key], self._keys[number] = number, key

    def _withdraw(self, key: str) -> None:
        number = self._ids.pop(key, None)
        if number is None or self._router is None:
            return
        self._keys.pop(number, None)
        self._call(new_method_call(NOTIFICATIONS, "CloseNotification", "u", (number,)))

    def _signal(self, message: Message) -> None:
        member = message.header.fields.get(3)  # HeaderFields.member
        if member == "ActionInvoked":
            number, action = message.body
            key = self._keys.get(int(number))
            if key is not None and self.on_action is not None:
                self.on_action(key, str(action))
        elif member == "NotificationClosed":
            number = int(message.body[0])
            key = self._keys.pop(number, None)
            if key is not None and self._ids.get(key) == number:
                del self._ids[key]
                if self.on_closed is not None:
                    self.on_closed(key)

    def _call(self, message: Message) -> tuple[Any, ...] | None:
        """The reply's body, or None when the call failed: logged, and the connection dropped
        when the service or the bus is gone (looked for again later)."""
        router = self._router
        if router is None:
            return None
        try:
            return tuple(unwrap_msg(router.send_and_get_reply(message, timeout=CALL_TIMEOUT_S)))
        except DBusErrorResponse as exc:
            if _gone(exc):
                self._disconnect()
                self._failed_at = self.clock()
                self._set_status(False, _why(exc))
            else:
                log.warning("desktop notification call %s failed: %s", message.header.fields.get(3), exc)
        except TimeoutError:
            log.warning("the notification service did not answer %s in %.0f s",
                        message.header.fields.get(3), CALL_TIMEOUT_S)
        except Exception as exc:  # the bus went away (the router stopped, the socket closed)
            self._disconnect()
            self._set_status(False, _why(exc))
        return None

    # -- connecting ---------------------------------------------------------------------------------
    def _router_or_none(self) -> Router | None:
        if self._router is not None:
            return self._router
        if self._failed_at is not None and self.clock() - self._failed_at < RETRY_S:
            return None
        try:
            self._connect()
        except Exception as exc:
            self._disconnect()
            self._failed_at = self.clock()
            self._set_status(False, _why(exc))
            return None
        self._failed_at = None
        return self._router

    def _connect(self) -> None:
        if os.environ.get(OFF_ENV, "").strip().lower() in ("off", "0", "no", "false"):
            raise _Off(OFF)
        self._conn = open_dbus_connection(bus=self.bus or session_bus())
        self._router = router = _Router(self._conn)
        for member in SIGNALS:
            rule = MatchRule(type="signal", interface=SERVICE, member=member, path=NOTIFICATIONS.object_path)
            unwrap_msg(router.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_S))
            router.filter(rule, queue=self._inbox)
        # asking starts a service that the bus can activate (a daemon installed but not running)
        caps = unwrap_msg(router.send_and_get_reply(
            new_method_call(NOTIFICATIONS, "GetCapabilities"), timeout=CALL_TIMEOUT_S))[0]
        info = unwrap_msg(router.send_and_get_reply(
            new_method_call(NOTIFICATIONS, "GetServerInformation"), timeout=CALL_TIMEOUT_S))
        self._markup = "body-markup" in caps
        self.server = f"{info[0]} {info[2]}".strip()
        if "actions" not in caps:
            log.info("the notification service %s shows no actions: a click on a notice cannot "
                     "bring its agent forward", self.server)
        self._set_status(True, f"desktop notifications by {self.server}")

    def _disconnect(self) -> None:
        router, conn = self._router, self._conn
        self._router = self._conn = None
        self._ids.clear()
        self._keys.clear()
        for closing in (router, conn):
            if closing is not None:
                try:
                    closing.close()
                except Exception:
                    log.debug("closing the D-Bus connection failed", exc_info=True)

    def _set_status(self, available: bool, text: str) -> None:
        changed = text != self.status
        self.available, self.status = available, text
        if available:
            if changed:
                log.info("%s", text)
            self._said.clear()
        elif text not in self._said:
            self._said.add(text)
            log.log(logging.INFO if text == OFF else logging.WARNING, "%s", text)
        if changed and self.on_status is not None:
            self.on_status(text)


class _Off(Exception):
    """Desktop notifications are turned off in the environment."""


def _why(exc: BaseException) -> str:
    """One line for the status: no session bus, no service on it, or what else went wrong."""
    if isinstance(exc, _Off):
        return OFF
    if isinstance(exc, DBusErrorResponse) and _gone(exc):
        return "no desktop notifications: no notification service on the session bus"
    if isinstance(exc, KeyError) or "DBUS_SESSION_BUS_ADDRESS" in str(exc):
        return "no desktop notifications: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    if isinstance(exc, OSError):
        return f"no desktop notifications: the D-Bus session bus cannot be reached ({exc})"
    if isinstance(exc, TimeoutError):
        return "no desktop notifications: the notification service does not answer"
    return f"no desktop notifications: {type(exc).__name__}: {exc}"


def _gone(exc: DBusErrorResponse) -> bool:
    """Whether the error says there is no notification service (rather than a refused call)."""
    name = str(exc.name or "")
    return name.endswith(("ServiceUnknown", "NameHasNoOwner", "NoReply")) or ".Spawn." in name


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
