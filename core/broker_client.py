"""The one place that decides which Redis client a broker URL gets: a single server's or a cluster's.

The same ``redis://`` / ``rediss://`` URL serves both. :func:`open_client` asks the node the URL
names ``INFO cluster``: ``cluster_enabled:1`` gives a :class:`redis.cluster.RedisCluster` (it learns
the slots with ``CLUSTER SLOTS`` and sends each command to the node serving its key), anything else
a :class:`redis.Redis`. An ACL user denied ``INFO`` is asked ``CLUSTER SLOTS`` instead (a cluster's
user needs it anyway; a single server answers that cluster support is disabled); denied both, it is
taken for a single server. Every key Quarterdeck uses is one stream or hash and no command names two
keys, so both clients run the same code; only a batch of stream writes (:func:`write_batch`) is a
MULTI/EXEC on a single server and a plain pipeline on a cluster.

A cluster has database 0 only: a URL naming another one is refused the way the server refuses
``SELECT``. A cluster none of whose nodes answer is a ``ConnectionError`` like any unreachable broker,
and a command whose slot no node serves (``SlotNotCoveredError``) is a broker outage too
(:data:`CLUSTER_DOWN`); :data:`BROKER_DOWN` is every error that means the broker cannot serve now.

A broker that does not answer yet (a relay started before it) gets a :class:`FirstContact`: the
first command that reaches it opens the right client, so a cluster is served as a cluster however
late it answers.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, TypeAlias, cast
from urllib.parse import urlsplit, urlunsplit

import redis
from redis import exceptions as rx
from redis.client import Pipeline
from redis.cluster import ClusterPipeline, RedisCluster

__all__ = ["BROKER_DOWN", "CLUSTER_DOWN", "BrokerClient", "FirstContact", "open_client", "ready", "write_batch"]

BrokerClient: TypeAlias = redis.Redis | RedisCluster
CLUSTER_DOWN = (rx.ClusterDownError, rx.SlotNotCoveredError)
# the broker cannot serve now (unreachable, timed out, a socket error, slots not served): retry later
BROKER_DOWN = (rx.ConnectionError, rx.TimeoutError, OSError, *CLUSTER_DOWN)


def open_client(url: str, *, connect_timeout: float, read_timeout: float, health_check_interval: int = 0,
                retry_on_timeout: bool = False, ping: bool = False) -> BrokerClient:
    """A client for the broker at ``url`` (bytes replies): one round trip tells a cluster node from a
    single server, and proves the broker answers; with ``ping`` a ``PING`` goes in it too (its refusal,
    an ACL without it, is raised). Raises what redis-py raises for a broker that does not answer
    (``ConnectionError``, ``TimeoutError``) or refuses (``ResponseError``), never with the password;
    ``ValueError`` for a URL redis-py cannot read."""
    options: dict[str, Any] = {"socket_connect_timeout": connect_timeout, "socket_timeout": read_timeout,
                               "health_check_interval": health_check_interval,
                               "retry_on_timeout": retry_on_timeout}
    single: redis.Redis = redis.Redis.from_url(url, **options)
    try:
        clustered = _cluster_enabled(single, ping)
    except BaseException:
        single.close()
        raise
    if not clustered:
        return single
    single.close()
    return _cluster(url, options)


class FirstContact:
    """A client for a broker that did not answer yet: each use asks :func:`open_client` until it
    answers (raising what it raises meanwhile), then everything goes to the client it opened, a
    cluster's or a single server's. Thread-safe."""

    def __init__(self, url: str, **options: Any) -> None:
        self._url, self._options = url, options
        self._client: BrokerClient | None = None
        self._lock = threading.Lock()

    @staticmethod
    def later(url: str, **options: Any) -> BrokerClient:
        """A ``FirstContact`` where a client is expected (it stands in for one)."""
        return cast(BrokerClient, FirstContact(url, **options))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.opened(), name)

    def opened(self) -> BrokerClient:
        """The client, opened now if it was not (raising what :func:`open_client` raises)."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = open_client(self._url, **self._options)
                client = self._client
        return client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def write_batch(client: BrokerClient) -> Pipeline | ClusterPipeline:
    """A pipeline for a batch of stream writes that a reader waiting on the stream takes in one read.
    On a single server a MULTI/EXEC: a blocked XREAD or XREADGROUP wakes once EXEC has run, to every
    entry, where a plain pipeline wakes it at its first entry and leaves the rest to its next read.
    A plain pipeline on a cluster (a MULTI there must stay within one hash slot, and one batch may
    write the streams of several relays) and for an ACL user who may not MULTI (asked once per
    client: refused, the XADDs would run one by one and EXEC fail after them)."""
    real = client.opened() if isinstance(client, FirstContact) else client
    if isinstance(real, RedisCluster):
        return cast(ClusterPipeline, real.pipeline(transaction=False))  # type: ignore[no-untyped-call]
    allowed = _MULTI.get(real)
    if allowed is None:
        allowed = _MULTI[real] = _may_multi(real)
    return real.pipeline(transaction=allowed)


_MULTI: weakref.WeakKeyDictionary[redis.Redis, bool] = weakref.WeakKeyDictionary()  # client -> may it MULTI


def _may_multi(client: redis.Redis) -> bool:
    """Whether the broker lets this client run a transaction as a batch does (MULTI, then EXEC): asked
    with an empty one on a connection of its own pool, which is dropped rather than given back unless
    its transaction is known to be over (a refused EXEC discards it). Refused (by an ACL, or a server or proxy that has
    no MULTI): False, for good; any other error is raised and the next batch asks again."""
    pool = client.connection_pool
    connection: Any = pool.get_connection()  # redis-py leaves its methods unannotated
    inside = False
    try:
        for command in ("MULTI", "EXEC"):
            connection.send_command(command)
            try:
                connection.read_response()
            except rx.ResponseError as exc:
                if isinstance(exc, (rx.NoPermissionError, rx.ExecAbortError)) or "unknown command" in str(exc).lower():
                    return False
                raise
            inside = command == "MULTI"  # until its EXEC is answered
        return True
    finally:
        if inside:
            connection.disconnect()
        pool.release(connection)


def ready(client: BrokerClient) -> None:
    """Raise ``ConnectionError`` (or ``TimeoutError``) unless a connection is open to the broker: for
    a single server, one of its pool's; for a cluster, one to its default node (the one ``PING`` and
    ``TIME`` go to). Opens one when none is. Sends no command."""
    if isinstance(client, RedisCluster):
        node = client.get_default_node()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        server = node.redis_connection if node is not None else None
        if server is None:
            raise rx.ConnectionError("no cluster node is known")
        pool = server.connection_pool
    else:
        pool = client.connection_pool
    pool.release(pool.get_connection())


def _cluster_enabled(client: redis.Redis, ping: bool = False) -> bool:
    pipe = client.pipeline(transaction=False)
    pipe.info("cluster")
    if ping:
        pipe.ping()
    try:
        replies: list[Any] = pipe.execute(raise_on_error=False)
    except rx.ResponseError as exc:  # a database other than 0: the node refused SELECT, being in a cluster
        if "not allowed in cluster mode" in str(exc):
            return True
        raise
    if ping and isinstance(replies[1], Exception):
        raise replies[1]  # an ACL without PING
    info = replies[0]
    if not isinstance(info, rx.NoPermissionError):
        if isinstance(info, Exception):
            raise info
        return bool(int(info.get("cluster_enabled", 0)))
    try:
        client.execute_command("CLUSTER SLOTS")  # type: ignore[no-untyped-call]
    except rx.ResponseError:  # "cluster support disabled", or denied as INFO was: a single server
        return False
    return True


def _cluster(url: str, options: dict[str, Any]) -> RedisCluster:
    parts = urlsplit(url)
    db = parts.path.strip("/")
    if db not in ("", "0"):
        raise rx.ResponseError(f"SELECT is not allowed in cluster mode: a Redis Cluster has database 0 only; "
                               f"drop /{db} from the broker URL")
    try:
        cluster: RedisCluster = RedisCluster.from_url(  # type: ignore[no-untyped-call]
            urlunsplit((parts.scheme, parts.netloc, "", parts.query, "")), **options)
    except rx.RedisClusterException as exc:  # no node answered CLUSTER SLOTS (its text names host:port only)
        raise rx.ConnectionError(str(exc)) from None
    return cluster
