"""Replies from the broker are parsed by hiredis (a declared dependency: a C parser, about a third less
CPU per receipt read than redis-py's own), for the captain and the relays alike: both open their
clients with ``open_client``. redis-py falls back to its own parser without a word when hiredis is
missing or older than it supports; this says so."""
from __future__ import annotations

import pytest
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.broker_client import open_client


def test_the_broker_clients_connections_parse_with_hiredis(redis_server: RedisServer) -> None:
    pytest.importorskip("hiredis", reason="hiredis is not installed here")
    from redis._parsers import _HiredisParser
    from redis.utils import HIREDIS_AVAILABLE

    assert HIREDIS_AVAILABLE, "hiredis is importable but redis-py does not use it (too old for this redis-py?)"
    client = open_client(redis_server.url, connect_timeout=2.0, read_timeout=3.0)
    try:
        assert client.ping()
        connection = client.connection_pool.get_connection()
        try:
            assert isinstance(connection._parser, _HiredisParser), type(connection._parser)
        finally:
            client.connection_pool.release(connection)
    finally:
        client.close()
