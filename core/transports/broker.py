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

__all__ = ["BrokerDown", "BrokerLink", "publish_control"]

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


def publish_control(link: BrokerLink, kind: str, generation: int) -> str | None:
    """XADD a stop-all or resume-all to ``qd:control`` for every relay; None, or why it could not be sent."""
    entry = ControlEntry(kind, generation, time.time())
    try:
        link.client.xadd(KEYS.control, entry.to_fields(), maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
    except BrokerDown as exc:
        why = link.unreachable(exc)
    except redis.RedisError as exc:  # refused (an ACL, a cluster given a database other than 0)
        why = f"broker {link.where} refused it: {link.reason(exc)}"
    else:
        return None
    log.warning("%s not sent to the relays: %s", kind, why)
    return why
