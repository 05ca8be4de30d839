"""The link to the broker: a Redis client from a ``redis://`` or ``rediss://`` URL, short timeouts,
and every failure as one line naming the broker (its password redacted) and what to do.

``redis://[user[:password]@]host[:port][/db]``; ``rediss://`` is the same over TLS. The password
or ACL user rides in the URL (``COORDINATION_BROKER_URL``); it never appears in a message or a log.
The URL may name any node of a Redis Cluster: :func:`quarterdeck.core.broker_client.open_client`
tells a cluster from a single server.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from redis import exceptions as rx

from quarterdeck.core.broker_client import BROKER_DOWN, CLUSTER_DOWN, BrokerClient, FirstContact, open_client
from quarterdeck.core.broker_url import check_broker_url, endpoint, redact

__all__ = ["BrokerError", "check_url", "connect", "describe", "is_hopeless", "open_link", "redact", "unreachable"]

CONNECT_TIMEOUT = 2.0  # seconds to open a connection
READ_TIMEOUT = 5.0  # seconds for any reply; blocking reads block for less than this


class BrokerError(Exception):
    """The broker cannot be used; the message is one line naming it and saying what to do."""


def check_url(url: str) -> str:
    """The URL if it is a usable ``redis://`` or ``rediss://`` URL; a ``BrokerError`` saying why if not
    (the rules are the configuration's: :func:`quarterdeck.core.broker_url.check_broker_url`)."""
    try:
        return check_broker_url(url)
    except ValueError as exc:
        raise BrokerError(f"broker URL {redact(url)} is not usable: {exc}; give redis://HOST:PORT "
                          "(or rediss://USER:PASSWORD@HOST:PORT for TLS)") from None


def connect(url: str, *, connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT,
            check: bool = True) -> BrokerClient:
    """A client for the broker at ``url`` (bytes replies): a single server's or, when the node answers
    that it is in a cluster, the cluster's (one round trip, with a ``PING``: an ACL without it is refused).
    ``BrokerError`` (one line) when the URL is wrong or, with ``check``, the broker does not answer.
    Without ``check`` a broker that does not answer yet gets a client opened at first contact
    (:func:`open_link`)."""
    if not check:
        return open_link(url, connect_timeout=connect_timeout, read_timeout=read_timeout)[0]
    check_url(url)
    try:
        return open_client(url, connect_timeout=connect_timeout, read_timeout=read_timeout, ping=True)
    except (ValueError, rx.RedisError) as exc:
        raise BrokerError(describe(exc, url)) from None


def open_link(url: str, *, connect_timeout: float = CONNECT_TIMEOUT,
              read_timeout: float = READ_TIMEOUT) -> tuple[BrokerClient, BaseException | None]:
    """For a relay, which starts before its broker answers: (the client, None) when the broker answers
    (one round trip); (a client opened at its first contact, why not now) when it cannot be reached
    yet. ``BrokerError`` (one line) for what waiting will not mend: a wrong URL, credentials, an ACL, TLS."""
    check_url(url)
    try:
        return open_client(url, connect_timeout=connect_timeout, read_timeout=read_timeout, ping=True), None
    except (ValueError, rx.RedisError) as exc:
        if isinstance(exc, ValueError) or is_hopeless(exc) or not is_broker_failure(exc):
            raise BrokerError(describe(exc, url)) from None
        return FirstContact.later(url, connect_timeout=connect_timeout, read_timeout=read_timeout, ping=True), exc


def describe(exc: BaseException, url: str) -> str:
    """One line for a failure talking to the broker at ``url``: what happened and what to do."""
    where = f"broker {redact(url)}"
    text = " ".join(str(exc).split())
    if url:
        secret = _password(url)
        if secret:
            text = text.replace(secret, "***")
    text = text[:200]
    if isinstance(exc, rx.AuthenticationError) or "WRONGPASS" in text or "NOAUTH" in text:
        return (f"{where} refused the credentials ({text}); check the ACL user and password in the broker URL "
                "(redis://USER:PASSWORD@HOST:PORT)")
    if isinstance(exc, rx.NoPermissionError) or text.startswith("NOPERM"):
        return (f"{where} denied a command ({text}); the ACL user needs the qd:* keys and the stream, hash, "
                "PING and TIME commands (and CLUSTER SLOTS and COMMAND on a Redis Cluster)")
    if isinstance(exc, CLUSTER_DOWN):
        return (f"{where}: the cluster cannot serve every slot ({text}); check that every cluster node runs "
                "(CLUSTER INFO says cluster_state:ok)")
    if isinstance(exc, rx.MovedError | rx.AskError):
        return (f"{where} is a Redis Cluster node but this connection was opened as to a single server (it "
                f"answered as one when first reached) (MOVED {text}); restart it once the cluster answers")
    if isinstance(exc, rx.BusyLoadingError):
        return f"{where} is loading its data ({text}); it answers once loaded, wait and retry"
    if isinstance(exc, rx.TimeoutError):
        return f"{where} did not answer in time ({text}); check that it runs and that the host and port are right"
    if isinstance(exc, rx.ConnectionError):
        if "SSL" in text or "ssl" in text or "certificate" in text:
            return f"{where}: TLS failed ({text}); check rediss:// against the broker's TLS port and its certificate"
        return (f"{where} is not reachable ({text}); check that redis-server runs there and that the host and "
                "port are right")
    if isinstance(exc, ValueError):
        return f"broker URL {redact(url)} is not valid ({text}); give redis://HOST:PORT or rediss://HOST:PORT"
    return f"{where}: {type(exc).__name__}: {text}"


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def is_broker_failure(exc: BaseException) -> bool:
    """A failure of the link (retry later), not a bug in what was sent."""
    return isinstance(exc, (*BROKER_DOWN, rx.BusyLoadingError)) or (
        isinstance(exc, rx.ResponseError) and str(exc).startswith(("LOADING", "MASTERDOWN", "TRYAGAIN")))


def is_hopeless(exc: BaseException) -> bool:
    """A failure that waiting will not mend (wrong credentials, an ACL that denies a command, TLS
    that fails against what answers): the relay refuses to start on it, where it waits out the rest."""
    text = str(exc)
    return (isinstance(exc, rx.AuthenticationError | rx.NoPermissionError | rx.AuthenticationWrongNumberOfArgsError)
            or isinstance(exc, rx.MovedError | rx.AskError)
            or text.startswith(("WRONGPASS", "NOAUTH", "NOPERM"))
            or "database 0 only" in text
            or (isinstance(exc, rx.ConnectionError) and ("SSL" in text or "certificate" in text)))


def unreachable(exc: BaseException, url: str) -> str:
    """``broker redis://host:port unreachable: <why>`` (never a user or a password)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    secret = _password(url)
    if secret:
        text = text.replace(secret, "***")
    return f"broker {endpoint(url)} unreachable: {text[:200]}"


def fields_of(entry: Any) -> tuple[str, dict[bytes, bytes]]:
    """A stream entry as redis-py returns it (``(id, {field: value})``): its id as text and its fields."""
    entry_id, fields = entry
    return (entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)), dict(fields or {})
