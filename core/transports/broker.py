"""The captain's side of the broker: one Redis connection (issue 14), and stop-all / resume-all to the relays.

:class:`BrokerLink` opens the connection lazily (short timeouts: a send never hangs on a broker
that is gone) and says what is wrong without the password (``broker redis://host:port
unreachable: ...``). The receipt reader reading ``qd:receipts:<captain>`` through it is
``quarterdeck.core.transports.receipt_reader``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from quarterdeck.core.broker_client import BROKER_DOWN, BrokerClient, open_client, ready
from quarterdeck.core.broker_url import endpoint
from quarterdeck.core.relay.protocol import KEYS, STREAM_MAXLEN, ControlEntry

__all__ = ["BrokerDown", "BrokerLink", "ControlOut", "publish_control"]

log = logging.getLogger(__name__)
BrokerDown = BROKER_DOWN


class BrokerLink:
    """A lazily opened Redis connection to ``url`` (a single server, or any node of a Redis Cluster:
    :func:`quarterdeck.core.broker_client.open_client` tells which); ``where`` names it without secrets."""

    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        self.url = url
        self.where = endpoint(url)
        self._timeout = timeout
        self._client: BrokerClient | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> BrokerClient:
        """The client, opened at first use: one round trip (``INFO cluster``) decides whether it is a
        cluster's; raises one of ``BrokerDown`` (or ``redis.RedisError``) when that fails, and the
        next use asks again."""
        with self._lock:
            if self._client is None:
                self._client = open_client(self.url, connect_timeout=self._timeout,
                                           read_timeout=self._timeout + 1.0, health_check_interval=10)
            return self._client

    def ready(self) -> None:
        """Raise one of ``BrokerDown`` unless a connection to the broker is open (one is opened when
        none is; a closed one is opened again): to the server, or to the cluster's default node.
        Sends no command, but for the first use of the link (the client is opened then)."""
        ready(self.client)

    def unreachable(self, exc: BaseException) -> str:
        """``broker redis://host:port unreachable: Connection refused`` (never the password)."""
        return f"broker {self.where} unreachable: {self.reason(exc)}"

    def reason(self, exc: BaseException) -> str:
        """What ``exc`` says, in one line, without the password."""
        reason = str(exc).replace(self.url, self.where) or type(exc).__name__
        return reason.splitlines()[0]

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def publish_control(link: BrokerLink, kind: str, generation: int, *, quiet: bool = False) -> str | None:
    """XADD a stop-all or resume-all to ``qd:control`` for every relay; None, or why it could not be sent
    (logged unless ``quiet``)."""
    entry = ControlEntry(kind, generation, time.time())
    try:
        link.client.xadd(KEYS.control, entry.to_fields(), maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
    except BrokerDown as exc:
        why = link.unreachable(exc)
    except redis.RedisError as exc:  # refused (an ACL, a cluster given a database other than 0)
        why = f"broker {link.where} refused it: {link.reason(exc)}"
    else:
        return None
    if not quiet:
        log.warning("%s not sent to the relays: %s", kind, why)
    return why


def said_or_publish(link: BrokerLink, kind: str, generation: int, *, quiet: bool = False) -> str | None:
    """``publish_control`` unless the latest word on ``qd:control`` is ``kind`` already."""
    try:
        latest: Any = link.client.xrevrange(KEYS.control, count=1)
        said = ControlEntry.from_fields(latest[0][1]).kind if latest else None
    except ValueError:  # an entry this version cannot read: say the word
        return publish_control(link, kind, generation, quiet=quiet)
    except BrokerDown as exc:
        why = link.unreachable(exc)
    except redis.RedisError as exc:  # refused (an ACL without XREVRANGE)
        why = f"broker {link.where} refused it: {link.reason(exc)}"
    else:
        return None if said == kind else publish_control(link, kind, generation, quiet=quiet)
    if not quiet:
        log.warning("%s not sent to the relays: %s", kind, why)
    return why


class ControlOut:
    """A long-running captain's stop-all and resume-all for the relays (``publish_control``), sent by a
    thread of its own: ``post`` returns at once (the panel's UI thread calls it), the word goes out
    within milliseconds, and one the broker does not take (unreachable, refusing) is sent again, every
    few seconds, until it does, so relays halt (or resume) once the broker is back. Only the latest
    word is sent: a later one replaces one not sent yet. One line when a word is not sent, one when it
    is sent after all."""

    RETRY_S = (0.5, 5.0)  # the first pause, the longest

    def __init__(self, link: BrokerLink) -> None:
        self.link = link
        self._due: tuple[str, Callable[[], int], bool] | None = None  # the word not sent yet (its number, read
        # then; whether it goes only if not said)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def post(self, kind: str, generation: Callable[[], int], *, unless_said: bool = False) -> None:
        """Send ``kind`` soon, with the generation ``generation()`` gives then (read on the sending thread);
        ``unless_said``: not when the relays' last word is ``kind`` already (one passed on from another
        process, which may have said it: a relay sharing this outbox records each stop it applies)."""
        with self._lock:
            self._due = (kind, generation, unless_said)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="qd-control-out", daemon=True)
                self._thread.start()
        self._wake.set()

    def close(self, grace: float = 2.0) -> None:
        """Stop; a word still due gets up to ``grace`` seconds to go out first."""
        deadline = time.monotonic() + grace
        while self._due is not None and self._thread is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def _run(self) -> None:
        failing, pause = False, self.RETRY_S[0]
        while not self._closed.is_set():
            self._wake.wait(pause if failing else None)
            self._wake.clear()
            with self._lock:
                due = self._due
            if due is None or self._closed.is_set():
                continue
            why = self._send(due, quiet=failing)
            if why is None:
                if failing:
                    log.warning("%s sent to the relays after all (broker %s)", due[0], self.link.where)
                failing, pause = False, self.RETRY_S[0]
            else:
                pause = pause * 2 if failing else pause
                failing, pause = True, min(pause, self.RETRY_S[1])

    def _send(self, due: tuple[str, Callable[[], int], bool], *, quiet: bool) -> str | None:
        """Publish ``due``; None, or why it was not sent."""
        kind, generation, unless_said = due
        try:
            number = generation()
        except Exception as exc:  # the outbox unreadable: tried again with the word
            unread = f"its number could not be read from the outbox: {exc}"
            if not quiet:
                log.warning("%s not sent to the relays: %s", kind, unread)
            return unread
        why = (publish_control(self.link, kind, number, quiet=quiet) if not unless_said
               else said_or_publish(self.link, kind, number, quiet=quiet))
        if why is None:
            with self._lock:
                if self._due is due:  # not replaced meanwhile
                    self._due = None
        return why
