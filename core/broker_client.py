"""The one place that decides which Redis client a broker URL gets: a single server's or a cluster's.

The same ``redis://`` / ``rediss://`` URL serves both. :func:`open_client` asks the node the URL
names ``INFO cluster``: ``cluster_enabled:1`` gives a :class:`redis.cluster.RedisCluster` (it learns
the slots with ``CLUSTER SLOTS`` and sends each command to the node serving its key), anything else
a :class:`redis.Redis`. An ACL user denied ``INFO`` is asked ``CLUSTER SLOTS`` instead (a cluster's
user needs it anyway; a single server answers that cluster support is disabled); denied both, it is
taken for a single server. Every key Quarterdeck uses is one stream or hash, no command names two
keys and pipelines are not transactions, so both clients run the same code.

A cluster has database 0 only: a URL naming another one is refused the way the server refuses
``SELECT``. A cluster none of whose nodes answer is a ``ConnectionError`` like any unreachable broker,
and a command whose slot no node serves (``SlotNotCoveredError``) is a broker outage too
(:data:`CLUSTER_DOWN`).
"""
from __future__ import annotations

from typing import Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import redis
from redis import exceptions as rx
from redis.cluster import RedisCluster

__all__ = ["CLUSTER_DOWN", "BrokerClient", "open_client", "ready"]

BrokerClient: TypeAlias = redis.Redis | RedisCluster
CLUSTER_DOWN = (rx.ClusterDownError, rx.SlotNotCoveredError)


def open_client(url: str, *, connect_timeout: float, read_timeout: float, health_check_interval: int = 0,
                retry_on_timeout: bool = False, unanswered_single: bool = False) -> BrokerClient:
    """A client for the broker at ``url`` (bytes replies): one round trip tells a cluster node from a
    single server. Raises what redis-py raises for a broker that does not answer (``ConnectionError``,
    ``TimeoutError``) or refuses (``ResponseError``), never with the password; ``ValueError`` for a
    URL redis-py cannot read. With ``unanswered_single`` a broker that does not answer gets a single
    server's client instead (what it is cannot be told; a cluster node then answers MOVED)."""
    options: dict[str, Any] = {"socket_connect_timeout": connect_timeout, "socket_timeout": read_timeout,
                               "health_check_interval": health_check_interval,
                               "retry_on_timeout": retry_on_timeout}
    single: redis.Redis = redis.Redis.from_url(url, **options)
    try:
        clustered = _cluster_enabled(single)
    except BaseException as exc:
        if unanswered_single and isinstance(exc, rx.ConnectionError | rx.TimeoutError):
            return single
        single.close()
        raise
    if not clustered:
        return single
    single.close()
    return _cluster(url, options)


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


def _cluster_enabled(client: redis.Redis) -> bool:
    try:
        info: Any = client.info("cluster")
        return bool(int(info.get("cluster_enabled", 0)))
    except rx.NoPermissionError:
        pass
    except rx.ResponseError as exc:  # a database other than 0: the node refused SELECT, being in a cluster
        if "not allowed in cluster mode" in str(exc):
            return True
        raise
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
