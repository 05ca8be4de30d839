"""The consumer group every stream reader uses: made once, the same group again is no error."""
from __future__ import annotations

import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.broker_group import ensure_group


def test_the_group_is_made_with_its_stream_and_kept_as_it_is(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    try:
        ensure_group(client, "qd:test:in", "relay")
        assert client.exists("qd:test:in") == 1
        client.xadd("qd:test:in", {"n": "1"})
        assert client.xreadgroup("relay", "a", {"qd:test:in": ">"}, count=10)  # taken: pending for "a"
        ensure_group(client, "qd:test:in", "relay")  # again: no error, and the group is not reset
        groups = client.xinfo_groups("qd:test:in")
        assert [(g["name"], g["pending"]) for g in groups] == [(b"relay", 1)]
    finally:
        client.close()


def test_another_refusal_propagates(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.set("qd:test:plain", "not a stream")
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            ensure_group(client, "qd:test:plain", "relay")
    finally:
        client.close()
