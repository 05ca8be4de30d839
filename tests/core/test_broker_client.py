"""One URL for a single redis-server and for a Redis Cluster: the client is chosen at connect (issue 14)."""
from __future__ import annotations

import time

import pytest
import redis
from redis.cluster import RedisCluster
from redis_server import RedisClusterServers, RedisServer, make_certificates, redis_cluster, redis_server  # noqa: F401

from quarterdeck.core import broker_client
from quarterdeck.core.broker_client import FirstContact, write_batch
from quarterdeck.core.relay.link import BrokerError, connect, open_link, unreachable
from quarterdeck.core.relay.protocol import KEYS
from quarterdeck.core.transports.broker import BrokerLink, publish_control


def test_a_single_server_gets_a_plain_client_and_a_cluster_node_the_clusters(
        redis_server: RedisServer, redis_cluster: RedisClusterServers) -> None:
    single = connect(redis_server.url)
    try:
        assert type(single) is redis.Redis
    finally:
        single.close()
    for node in redis_cluster.nodes:  # any node's URL, with or without /0
        for url in (f"redis://127.0.0.1:{node.port}", f"redis://127.0.0.1:{node.port}/0"):
            client = connect(url)
            try:
                assert isinstance(client, RedisCluster), url
                client.xadd(KEYS.relay_in("M1"), {"n": "1"})
                client.xadd(KEYS.relay_in("M2"), {"n": "1"})
            finally:
                client.close()
    one, two = redis_cluster.holder(KEYS.relay_in("M1")), redis_cluster.holder(KEYS.relay_in("M2"))
    assert one is not two  # slots 14987 and 8535: the streams live on two nodes
    assert redis_cluster.slot(KEYS.relay_in("M1")) != redis_cluster.slot(KEYS.relay_in("M2"))


def test_an_acl_user_denied_info_works_on_a_single_server_and_on_a_cluster_with_cluster_slots(
        redis_server: RedisServer, redis_cluster: RedisClusterServers) -> None:
    with redis.Redis.from_url(redis_server.url) as admin:
        admin.acl_setuser("relay", enabled=True, passwords=["+pw-1"], keys=["qd:*"],
                          commands=["-@all", "+@stream", "+hset", "+hgetall", "+ping", "+time"])
    single = connect(f"redis://relay:pw-1@127.0.0.1:{redis_server.port}/0")
    try:
        assert type(single) is redis.Redis and single.xadd(KEYS.events, {"n": "1"})
    finally:
        single.close()
    for node in redis_cluster.nodes:  # ACL users are per node
        with redis.Redis(port=node.port) as admin:
            admin.acl_setuser("relay", enabled=True, passwords=["+pw-2"], keys=["qd:*"],
                              commands=["-@all", "+@stream", "+hset", "+hgetall", "+ping", "+time",
                                        "+cluster|slots", "+command"])
    url = f"redis://relay:pw-2@127.0.0.1:{redis_cluster.nodes[1].port}"
    client = connect(url)
    try:
        assert isinstance(client, RedisCluster)
        for key in (KEYS.receipts, KEYS.events, KEYS.control, KEYS.relay_in("M1"), KEYS.relay_in("M2")):
            client.xadd(key, {"n": "1"})
        client.hset(KEYS.relays, "M1", "{}")
    finally:
        client.close()


@pytest.mark.parametrize(("granted", "together"), [([], False), (["+multi", "+discard"], False),
                                                  (["+multi", "+exec"], True)])
def test_a_batch_for_a_user_who_may_not_multi_is_a_plain_pipeline_written_once(
        redis_server: RedisServer, granted: list[str], together: bool, monkeypatch) -> None:
    """An ACL without MULTI (the one this README gave before batches used it), or without EXEC: refused,
    the XADDs would run one by one and EXEC fail after them, each batch written again and again (or the
    connection left inside a transaction, every later command on it only queued)."""
    with redis.Redis.from_url(redis_server.url) as admin:
        admin.acl_setuser("relay", enabled=True, passwords=["+pw-1"], keys=["qd:*"],
                          commands=["-@all", "+@stream", "+hset", "+hget", "+hgetall", "+ping", "+time", *granted])
    asked: list[bool] = []
    may_multi = broker_client._may_multi
    monkeypatch.setattr(broker_client, "_may_multi", lambda c: (asked.append(may_multi(c)), asked[-1])[1])
    client = connect(f"redis://relay:pw-1@127.0.0.1:{redis_server.port}/0")
    try:
        for _ in range(2):
            pipe = write_batch(client)
            assert pipe.transaction is together
            pipe.xadd(KEYS.receipts, {"n": "1"})
            pipe.xadd(KEYS.receipts, {"n": "2"})
            assert len(pipe.execute()) == 2
        assert asked == [together]  # asked once, then known
        for _ in range(3):  # no connection of its pool is left inside a transaction (it would answer QUEUED)
            assert client.xlen(KEYS.receipts) == 4
    finally:
        client.close()


def test_cluster_mistakes_are_one_line_without_the_password(redis_cluster: RedisClusterServers) -> None:
    port = redis_cluster.nodes[0].port
    with pytest.raises(BrokerError) as other_db:
        connect(f"redis://127.0.0.1:{port}/3")
    text = str(other_db.value)
    assert "database 0 only; drop /3 from the broker URL" in text and "\n" not in text
    with redis.Redis(port=port) as admin:
        admin.config_set("requirepass", "right-pw")
    with pytest.raises(BrokerError) as wrong:
        connect(f"redis://:wrong-pw@127.0.0.1:{port}")
    assert "refused the credentials" in str(wrong.value) and "wrong-pw" not in str(wrong.value)
    link = BrokerLink(f"redis://127.0.0.1:{redis_cluster.nodes[1].port}/5")
    try:
        why = publish_control(link, "stop", 1)
    finally:
        link.close()
    assert why is not None and "database 0 only" in why


def test_the_captains_link_is_ready_on_a_cluster_and_says_when_its_node_is_gone(
        redis_cluster: RedisClusterServers) -> None:
    link = BrokerLink(redis_cluster.url)
    try:
        link.ready()
        assert isinstance(link.client, RedisCluster)
        assert publish_control(link, "stop", 1) is None
        holder = redis_cluster.holder(KEYS.control)
        with redis.Redis(port=holder.port) as direct:
            assert direct.xlen(KEYS.control) == 1
        default = link.client.get_default_node()
        gone = next(n for n in redis_cluster.nodes if n.port == default.port)
        gone.stop()
        with pytest.raises(redis.ConnectionError):
            link.ready()
    finally:
        link.close()


def test_a_tls_cluster_is_reached_with_rediss_on_every_node(tmp_path) -> None:
    cluster = RedisClusterServers(tmp_path / "cluster", tls=make_certificates(tmp_path / "certs"))
    cluster.start()
    try:
        client = connect(cluster.tls_url)
        try:
            assert isinstance(client, RedisCluster)
            used = set()
            for key in (KEYS.relay_in("M1"), KEYS.relay_in("M2"), KEYS.events):  # slots on all three nodes
                client.xadd(key, {"n": "1"})
                used.add(client.get_node_from_key(key).port)
            assert used == set(cluster.tls_ports)  # every node reached on its TLS port
        finally:
            client.close()
        with pytest.raises(BrokerError) as untrusted:
            connect(f"rediss://relay:tls-secret@127.0.0.1:{cluster.tls_ports[1]}")
        text = str(untrusted.value)
        assert "TLS failed" in text and "certificate verify failed" in text and "tls-secret" not in text
    finally:
        cluster.stop()


def test_a_client_opened_while_the_cluster_was_down_is_the_clusters_once_it_answers(
        redis_cluster: RedisClusterServers) -> None:
    """Without the check (a relay starting before its broker) a node that does not answer gets a client
    opened at first contact: until the cluster answers each use fails as an unreachable broker does, then
    a key on any node is served."""
    for node in redis_cluster.nodes:
        node.stop()
    client, down = open_link(redis_cluster.url)
    try:
        assert isinstance(down, redis.ConnectionError) and isinstance(client, FirstContact)
        with pytest.raises(redis.ConnectionError):
            client.xadd(KEYS.events, {"n": "1"})
        for node in redis_cluster.nodes:
            node.start()
        while not all(redis_cluster.state(node) == "ok" for node in redis_cluster.nodes):
            time.sleep(0.05)
        for key in (KEYS.relay_in("M1"), KEYS.relay_in("M2"), KEYS.events):  # slots on every node
            client.xadd(key, {"n": "1"})
        assert isinstance(client._client, RedisCluster)
        pipe = write_batch(client)  # one batch to two relays' streams: no MULTI, which must keep to one slot
        pipe.xadd(KEYS.relay_in("M1"), {"n": "2"})
        pipe.xadd(KEYS.relay_in("M2"), {"n": "2"})
        assert len(pipe.execute()) == 2
        assert client.xlen(KEYS.relay_in("M1")) == client.xlen(KEYS.relay_in("M2")) == 2
    finally:
        client.close()


def test_opening_a_link_is_one_round_trip_and_a_denied_ping_is_refused(redis_server: RedisServer,
                                                                        monkeypatch) -> None:
    sent: list[object] = []
    execute = redis.client.Pipeline.execute
    monkeypatch.setattr(redis.Redis, "execute_command", lambda self, *a, **k: sent.append(a))

    def piped(self, *args, **kwargs):
        sent.append([tuple(command) for command, _ in self.command_stack])
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", piped)
    client, down = open_link(redis_server.url)
    client.close()
    assert down is None and type(client) is redis.Redis
    assert sent == [[("INFO", "cluster"), ("PING",)]]
    monkeypatch.undo()
    with redis.Redis.from_url(redis_server.url) as admin:
        admin.acl_setuser("relay", enabled=True, passwords=["+pw"], keys=["qd:*"], commands=["-@all", "+info"])
    with pytest.raises(BrokerError, match="denied a command"):
        open_link(f"redis://relay:pw@127.0.0.1:{redis_server.port}")


def test_a_single_server_that_was_down_is_reached_at_first_contact(redis_server: RedisServer) -> None:
    redis_server.stop()
    client, down = open_link(redis_server.url)
    try:
        assert down is not None and "unreachable" in unreachable(down, redis_server.url)
        with pytest.raises(redis.ConnectionError):
            client.ping()
        redis_server.start()
        assert client.xadd(KEYS.events, {"n": "1"})
        assert type(client._client) is redis.Redis
        pipe = write_batch(client)  # a MULTI/EXEC: a waiting read wakes to the whole batch
        pipe.xadd(KEYS.relay_in("M1"), {"n": "2"})
        pipe.xadd(KEYS.relay_in("M2"), {"n": "2"})
        assert pipe.transaction and len(pipe.execute()) == 2
    finally:
        client.close()
    client.close()  # twice, or never opened: nothing to close
