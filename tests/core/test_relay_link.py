"""The broker link: URLs checked, passwords never shown, every failure one line naming the broker."""
from __future__ import annotations

import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.relay.link import BrokerError, connect, describe, redact


@pytest.mark.parametrize(("url", "shown"), [
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("redis://:pw@h:1", "redis://:***@h:1"),
    ("rediss://relay:p%40ss@broker.example:6380/2", "rediss://relay:***@broker.example:6380/2"),
    ("redis://user@h", "redis://user@h"),
    ("redis://u:pw@[::1]:7000", "redis://u:***@[::1]:7000"),
])
def test_redact_hides_only_the_password(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_connect_answers_on_a_live_broker_and_names_a_dead_one(redis_server: RedisServer) -> None:
    client = connect(redis_server.url)
    assert client.ping() is True
    client.close()
    url = f"redis://relay:topsecret@127.0.0.1:{redis_server.port}/0"
    redis_server.stop()
    with pytest.raises(BrokerError) as caught:
        connect(url)
    text = str(caught.value)
    assert text.startswith(f"broker redis://relay:***@127.0.0.1:{redis_server.port}/0 is not reachable (")
    assert "topsecret" not in text and "\n" not in text


def test_a_denied_command_says_what_the_acl_user_needs(redis_server: RedisServer) -> None:
    redis.Redis.from_url(redis_server.url).acl_setuser("narrow", enabled=True, passwords=["+pw"], keys=["qd:*"],
                                                       commands=["-@all", "+ping"])
    url = f"redis://narrow:pw@127.0.0.1:{redis_server.port}/0"
    client = connect(url)
    with pytest.raises(redis.exceptions.NoPermissionError) as caught:
        client.xlen("qd:relay:x:in")
    text = describe(caught.value, url)
    assert text.startswith(f"broker redis://narrow:***@127.0.0.1:{redis_server.port}/0 denied a command (")
    assert "needs the qd:* keys" in text
    client.close()


def test_without_redis_server_the_fixture_skips_with_a_reason(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server on it
    with pytest.raises(pytest.skip.Exception, match="missing tools: redis-server is not installed"):
        RedisServer(tmp_path / "r").start()
