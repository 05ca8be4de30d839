"""The running Quarterdeck's side of the hand-off: a listener on ``DATA_DIR/quarterdeck.sock`` (threads,
no Qt) that queues a sender's message through the session and streams its deliveries' steps back.

One listener per data folder: whoever holds ``quarterdeck.sock.lock`` (an flock, released by the kernel
when its process dies, even by kill -9) owns the socket; a socket file without a holder is stale and is
replaced. The socket is made private (0600) in a folder that stays private (0700). Every message is
queued on the connection's own thread, never the panel's UI thread; the process's delivery worker
(``wake``) types it.
"""
from __future__ import annotations

import logging
import os
import queue
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quarterdeck.core.handoff.conversation import serve_connection
from quarterdeck.core.handoff.wire import LOCK_NAME, Short, socket_path

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.models import Agent
    from quarterdeck.core.session import Session

log = logging.getLogger(__name__)


class HandoffServer:
    """``start()`` listens (False when another process on this data folder already does); ``close()``
    stops listening, tells the senders still waiting, and removes the socket."""

    def __init__(self, session: Session, identity: dict[str, Any], *, wake: Callable[[], None],
                 skip_transports: frozenset[str] = frozenset(), poll: float = 0.05, who: str = "",
                 roster_file: Path | None = None) -> None:
        self.session = session
        self.who = who
        self.identity = identity
        self.roster_file = roster_file  # the panel saves its roster there and then takes it (set_roster)
        self._roster_seen = session.roster
        self.wake = wake
        self.skip_transports = skip_transports
        self.poll = poll
        self.closing = threading.Event()
        self.path = socket_path(session.store.path.parent)
        self._subscribers: list[queue.Queue[DeliveryEvent]] = []
        self._lock = threading.Lock()
        self._lock_fd: int | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        session.dispatcher.add_listener(self._heard)

    # -- what a conversation asks ------------------------------------------------------------------
    def hello(self) -> dict[str, Any]:
        from quarterdeck.core.handoff.wire import file_id

        if self.session.roster is not self._roster_seen:  # saved and taken since: the file is what it runs on
            self._roster_seen = self.session.roster
            self.identity = {**self.identity, "roster": file_id(self.roster_file)}
        dispatcher = self.session.dispatcher
        return {"pid": os.getpid(), "identity": self.identity, "stopped": dispatcher.stopped,
                "stagger": dispatcher.stagger, "who": self.who}

    def delivers_to(self, agent: Agent) -> bool:
        """Whether this process types a delivery to ``agent`` now (not gui without a display, nor while
        GUI delivery is paused for a person at the mouse)."""
        kind = agent.transport.kind
        return kind not in self.skip_transports and not (kind == "gui" and self.session.dispatcher.gui_paused)

    def subscribe(self, events: queue.Queue[DeliveryEvent]) -> None:
        with self._lock:
            self._subscribers.append(events)

    def unsubscribe(self, events: queue.Queue[DeliveryEvent]) -> None:
        with self._lock:
            self._subscribers.remove(events)

    def _heard(self, event: DeliveryEvent) -> None:  # a dispatcher listener: on its thread, never blocks
        with self._lock:
            subscribers = list(self._subscribers)
        for events in subscribers:
            events.put(event)

    # -- lifetime --------------------------------------------------------------------------------
    def start(self) -> bool:
        from quarterdeck.core.fileops import try_lock

        folder = self.path.parent
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        if not try_lock(fd):
            os.close(fd)
            log.info("hand-off: another Quarterdeck listens on %s already", self.path)
            return False
        self._lock_fd = fd
        try:
            self.path.unlink(missing_ok=True)  # no process holds the lock: a socket left here is stale
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old = os.umask(0o177)
            try:
                with Short(self.path) as address:
                    sock.bind(address)
            finally:
                os.umask(old)
            os.chmod(self.path, 0o600)
            sock.listen(16)
        except OSError as exc:
            log.warning("hand-off: cannot listen on %s: %s; sends do the work themselves", self.path, exc)
            self._release()
            return False
        self._sock = sock
        self._thread = threading.Thread(target=self._accept, name="quarterdeck-handoff", daemon=True)
        self._thread.start()
        log.info("hand-off: sends on this data folder are delivered by this process (%s)", self.path)
        return True

    def _accept(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self.closing.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=serve_connection(self, conn), name="quarterdeck-handoff-send",
                             daemon=True).start()

    def close(self) -> None:
        self.closing.set()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
            self._sock = None
            self.path.unlink(missing_ok=True)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._release()

    def shutdown(self) -> None:
        self.close()

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None


def start_handoff(session: Session, *, roster: Path | None, config: Path | None, broker: str | None,
                  wake: Callable[[], None], skip_transports: frozenset[str] = frozenset(),
                  who: str = "") -> HandoffServer | None:
    """Listen for senders on ``session``'s data folder; None when another process already does or the
    socket cannot be made (senders then do the work themselves). ``roster``/``config``/``broker`` are
    what this process was started with (``None`` config: the default file)."""
    from quarterdeck.core.handoff.wire import identity
    from quarterdeck.core.paths import default_config_file

    if not hasattr(socket, "AF_UNIX"):  # no Unix sockets here: every send does the work itself
        return None
    ident = identity(session.store.path.parent, roster, config if config is not None else default_config_file(),
                     broker)
    server = HandoffServer(session, ident, wake=wake, skip_transports=skip_transports, who=who, roster_file=roster)
    try:
        started = server.start()
    except OSError as exc:
        log.warning("hand-off: not started: %s", exc)
        started = False
    return server if started else None
