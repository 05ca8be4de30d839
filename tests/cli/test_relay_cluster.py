"""Relays over a Redis Cluster (issue 14): three redis-server nodes (no replicas), two ``quarterdeck
relay`` processes and the captain as ``quarterdeck`` processes, all given the first node's URL only.

Every delivery is delivered once with its receipt back (``Fleet.account`` over the captain's
history), the relays' streams live on the nodes their slots say, stop all reaches both relays, and a
node killed is one line without a traceback, in the relays and in the captain's commands, and once
it is back the next broadcast reaches everyone.
"""
from __future__ import annotations

import time
import uuid

import pytest
import redis
from fleet_parts import Fleet
from redis_server import RedisClusterServers, redis_cluster  # noqa: F401

from quarterdeck.core.relay.protocol import KEYS

pytestmark = pytest.mark.slow


def texts(tag: str, count: int) -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"[{tag}-{run}-{n:03d}] report your status" for n in range(count)]


@pytest.fixture
def fleet(tmp_path, redis_cluster: RedisClusterServers):
    fleet = Fleet(tmp_path, redis_cluster.url, per_relay=3)
    try:
        yield fleet.start()
    finally:
        fleet.close()


def broadcast(fleet: Fleet, text: str, timeout: float = 60) -> tuple[float, str]:
    started = time.monotonic()
    send = fleet.broadcast(text)
    try:
        _, err = send.communicate(timeout=timeout)
    except BaseException:
        send.kill()
        send.communicate(timeout=10)
        raise
    assert send.returncode == 0 and "Traceback" not in err, err
    return time.monotonic() - started, err


def test_broadcasts_through_a_cluster_arrive_once_with_receipts_and_stop_all_reaches_the_relays(
        fleet: Fleet, redis_cluster: RedisClusterServers) -> None:
    sent = texts("cluster", 3)
    took = [broadcast(fleet, text)[0] for text in sent]
    counts = fleet.account(sent)
    assert counts == {"delivered": len(sent) * len(fleet.every_agent())}, counts
    m1, m2 = KEYS.relay_in("M1"), KEYS.relay_in("M2")
    holders = {key: redis_cluster.holder(key) for key in (m1, m2, KEYS.receipts, KEYS.events, KEYS.control)}
    assert holders[m1] is not holders[m2], {k: v.port for k, v in holders.items()}
    for key in (m1, m2):
        with redis.Redis(port=holders[key].port) as node:
            added = node.xinfo_stream(key)["entries-added"]  # delivered entries are deleted; the count stays
            assert added == len(sent) * len(fleet.agents[key.split(":")[2]]), (key, added)
    print(f"cluster: {len(sent)} broadcasts to {len(fleet.every_agent())} agents, each ended after "
          f"{', '.join(f'{t:.2f}' for t in took)} s (under load); slots M1 {redis_cluster.slot(m1)} -> "
          f":{holders[m1].port}, M2 {redis_cluster.slot(m2)} -> :{holders[m2].port}")

    stop = fleet.run("stop")
    assert stop.returncode == 0 and "stop sent to every relay" in stop.stdout, stop.stdout + stop.stderr
    deadline = time.monotonic() + 15
    while not all("stop all #1 from the captain" in r.err.read_text() for r in fleet.relays.values()):
        assert time.monotonic() < deadline, [r.output() for r in fleet.relays.values()]
        time.sleep(0.05)
    resume = fleet.run("resume")
    assert resume.returncode == 0, resume.stderr
    [after] = texts("resumed", 1)
    broadcast(fleet, after)
    assert fleet.account([after]) == {"delivered": len(fleet.every_agent())}


def test_a_killed_node_is_one_line_in_the_relays_and_the_captain(
        fleet: Fleet, redis_cluster: RedisClusterServers) -> None:
    [first] = texts("before-kill", 1)
    broadcast(fleet, first)
    gone = redis_cluster.holder(KEYS.relay_in("M2"))
    assert gone.process is not None
    gone.process.kill()  # kill -9 the node serving M2's stream
    gone.process.wait(timeout=10)
    gone.process = None
    where = f"broker redis://127.0.0.1:{redis_cluster.nodes[0].port}"
    deadline = time.monotonic() + 20
    while "not reachable" not in fleet.relays["M2"].err.read_text():
        assert time.monotonic() < deadline, fleet.relays["M2"].output()
        time.sleep(0.1)
    # the other nodes say the cluster is down once they agree the node failed (its 2 s timeout, then gossip:
    # longer on a busy machine), not at a fixed time
    alive = [node for node in redis_cluster.nodes if node is not gone]
    while not all(redis_cluster.state(node) == "fail" for node in alive):
        assert time.monotonic() < deadline + 20, [redis_cluster.state(node) for node in alive]
        time.sleep(0.1)
    stop = fleet.run("stop")
    assert "Traceback" not in stop.stderr, stop.stderr
    said = [line for line in stop.stderr.splitlines() if line.strip()]
    assert len(said) == 2 and "stop not sent to the relays" in said[0] and where in said[0], stop.stderr
    assert said[1].startswith("quarterdeck: the relays keep delivering until a panel"), stop.stderr
    for relay in fleet.relays.values():
        err = relay.err.read_text()
        assert "Traceback" not in err, relay.output()
    lines = [line for line in fleet.relays["M2"].err.read_text().splitlines() if "not reachable" in line]
    assert lines and where in lines[0] and ("Connection refused" in lines[0] or "cluster" in lines[0]), lines
    print(f"node :{gone.port} killed: M2 said {lines[0]!r}; stop said {said[0]!r}")

    gone.start()  # the same port and folder: its nodes.conf and AOF
    started = time.monotonic()
    while not all(redis_cluster.state(node) == "ok" for node in redis_cluster.nodes):
        assert time.monotonic() - started < 30, [redis_cluster.state(node) for node in redis_cluster.nodes]
        time.sleep(0.05)
    ok_after = time.monotonic() - started
    [second] = texts("after-restart", 1)
    took, _ = broadcast(fleet, second)
    assert fleet.account([first, second]) == {"delivered": 2 * len(fleet.every_agent())}
    print(f"node back: cluster_state:ok after {ok_after:.2f} s, the next broadcast ended after {took:.2f} s "
          "(under load)")
