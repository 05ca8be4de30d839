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
daemon is started on demand, e.g. on a test display). Connecting: :mod:`.notify_link`.
"""
from __future__ import annotations

import html
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from jeepney import Message, new_method_call
from jeepney.low_level import HeaderFields
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

from quarterdeck.core.activity.notify_link import (
    CALL_TIMEOUT_S,
    NO_SERVICE,
    NOTIFICATIONS,
    OFF,
    Link,
    gone,
    open_link,
    why,
)

__all__ = ["CALL_TIMEOUT_S", "NO_SERVICE", "OFF", "RETRY_S", "DesktopNotifications"]

log = logging.getLogger(__name__)

APP_NAME = "Quarterdeck"
DESKTOP_ENTRY = "quarterdeck"  # packaging/quarterdeck.desktop: servers show its icon and name
DEFAULT_ACTION = "default"  # the action a click on the notification's body invokes
RETRY_S = 60.0
_STOP = object()


class DesktopNotifications:
    """Notices on the desktop, keyed by a caller's name for them (an agent's id)."""

    def __init__(self, *, on_action: Callable[[str, str], None] | None = None,
                 on_closed: Callable[[str], None] | None = None,
                 on_status: Callable[[str], None] | None = None, bus: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.on_action, self.on_closed, self.on_status = on_action, on_closed, on_status
        self.bus = bus  # an address, or None: the session bus (:func:`.notify_link.session_bus`)
        self.clock = clock
        self.status = "not asked yet"
        self.available: bool | None = None  # None until the bus was asked
        self.server: str | None = None  # name and version the service gives, e.g. "dunst 1.9.0"
        self._inbox: queue.Queue[object] = queue.Queue()
        self._link: Link | None = None
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
            self._link_or_none()
        elif what == "show":
            self._notify(*args)
        elif what == "withdraw":
            self._withdraw(args[0])

    def _notify(self, key: str, title: str, body: str) -> None:
        link = self._link_or_none()
        if link is None:
            log.debug("no notification service: notice for %s dropped", key)
            return
        text = html.escape(body, quote=False) if link.markup else body
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
        if number is None or self._link is None:
            return
        self._keys.pop(number, None)
        self._call(new_method_call(NOTIFICATIONS, "CloseNotification", "u", (number,)))

    def _signal(self, message: Message) -> None:
        member = message.header.fields.get(HeaderFields.member)
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
        if self._link is None:
            return None
        member = message.header.fields.get(HeaderFields.member)
        try:
            return tuple(unwrap_msg(self._link.router.send_and_get_reply(message, timeout=CALL_TIMEOUT_S)))
        except DBusErrorResponse as exc:
            if not gone(exc):
                log.warning("desktop notification call %s failed: %s", member, exc)
                return None
            self._failed_at = self.clock()
            self._lost(exc)
        except TimeoutError:
            log.warning("the notification service did not answer %s in %.0f s", member, CALL_TIMEOUT_S)
        except Exception as exc:  # the bus went away (the router stopped, the socket closed)
            self._lost(exc)
        return None

    def _lost(self, exc: BaseException) -> None:
        self._disconnect()
        self._set_status(False, why(exc))

    # -- connecting ---------------------------------------------------------------------------------
    def _link_or_none(self) -> Link | None:
        if self._link is not None:
            return self._link
        if self._failed_at is not None and self.clock() - self._failed_at < RETRY_S:
            return None
        try:
            self._link = link = open_link(self.bus, self._inbox)
        except Exception as exc:
            self._failed_at = self.clock()
            self._set_status(False, why(exc))
            return None
        self._failed_at = None
        self.server = link.server
        if not link.actions:
            log.info("the notification service %s shows no actions: a click on a notice cannot "
                     "bring its agent forward", link.server)
        self._set_status(True, f"desktop notifications by {link.server}")
        return link

    def _disconnect(self) -> None:
        link, self._link = self._link, None
        self._ids.clear()
        self._keys.clear()
        if link is not None:
            link.close()

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
