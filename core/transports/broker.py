"""The captain's side of the broker: one Redis connection (issue 14), and stop-all / resume-all to the relays.

:class:`BrokerLink` opens the connection lazily (short timeouts: a send never hangs on a broker
that is gone) and says what is wrong without the password (``broker redis://host:port
unreachable: ...``). The receipt reader reading ``qd:receipts`` through it is
``quarterdeck.core.transports.receipt_reader``.
"""
from __future__ import annotations

import logging
import threading
import time

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


class ControlOut:
    """A long-running captain's stop-all and resume-all for the relays (``publish_control``): a word the
    broker did not take (unreachable, refusing) is sent again, every few seconds, until it does, so
    relays halt (or resume) once the broker is back; only the latest word is, a later one replaces it.
    One line when a word is not sent, one when it is sent after all."""

    RETRY_S = (0.5, 5.0)  # the first pause, the longest

    def __init__(self, link: BrokerLink) -> None:
        self.link = link
        self._due: tuple[str, int] | None = None  # the word not taken yet
        self._last: tuple[str, int] | None = None  # the last word the broker took
        self._lock = threading.Lock()  # one send at a time, and ``_due``
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, kind: str, generation: int) -> str | None:
        """Send ``kind`` now; None, or why not (then it is sent again until the broker takes it). The
        word just sent, again, is not sent twice."""
        with self._lock:
            if self._due is None and self._last == (kind, generation):
                return None
            self._due = (kind, generation)
            why = self._try()
            if why is not None and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._again, name="qd-control-out", daemon=True)
                self._thread.start()
        return why

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def _try(self, *, quiet: bool = False) -> str | None:
        due = self._due
        why = None if due is None else publish_control(self.link, *due, quiet=quiet)
        if why is None:
            self._due, self._last = None, due or self._last
        return why

    def _again(self) -> None:
        pause = self.RETRY_S[0]
        while not self._closed.wait(pause):
            with self._lock:
                due = self._due
                if due is None or self._try(quiet=True) is None:
                    if due is not None:
                        log.warning("%s sent to the relays now that broker %s takes it", due[0], self.link.where)
                    return
            pause = min(pause * 2, self.RETRY_S[1])
