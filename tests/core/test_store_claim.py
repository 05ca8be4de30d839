"""Claiming: urgent first, FIFO per agent, one in flight per agent, and no double claim across
threads or processes."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import State, Store, message_detail

ROOT = Path(__file__).resolve().parents[2]


def msg(content: str = "hello", **fields) -> Message:
    return Message(sender="captain", content=content, **fields)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "quarterdeck.sqlite3") as s:
        yield s


def drain(store: Store) -> list[tuple[str, str]]:
    order = []
    while (task := store.claim_next()) is not None:
        order.append((task.agent_id, task.content))
        store.mark_delivered(task.delivery_id, 1.0)
    return order


def test_urgent_before_normal_then_oldest_first(store):
    store.enqueue(msg("n1"), [("Agent-1", "dryrun")])
    store.enqueue(msg("n2"), [("Agent-2", "dryrun")])
    store.enqueue(msg("u1", priority="urgent"), [("Agent-3", "dryrun")])
    store.enqueue(msg("n3"), [("Agent-3", "dryrun")])
    store.enqueue(msg("u2", priority="urgent"), [("Agent-1", "dryrun")])
    assert drain(store) == [("Agent-3", "u1"), ("Agent-1", "u2"), ("Agent-1", "n1"), ("Agent-2", "n2"),
                            ("Agent-3", "n3")]


def test_each_agent_gets_its_messages_in_order_one_at_a_time(store):
    for n in range(3):
        store.enqueue(msg(f"a{n}"), [("Agent-1", "dryrun")])
    store.enqueue(msg("b0"), [("Agent-2", "dryrun")])
    first = store.claim_next()
    assert (first.agent_id, first.content) == ("Agent-1", "a0")
    second = store.claim_next()
    assert (second.agent_id, second.content) == ("Agent-2", "b0")
    assert store.claim_next() is None, "Agent-1 already has a delivery in flight"
    store.mark_failed(first.delivery_id, "timeout")
    assert store.claim_next().content == "a1"


def test_one_in_flight_per_agent_holds_across_store_instances(store):
    store.enqueue(msg("a0"), [("Agent-1", "dryrun")])
    store.enqueue(msg("a1"), [("Agent-1", "dryrun")])
    with Store(store.path) as other:
        assert other.claim_next().content == "a0"
        assert store.claim_next() is None


def test_excluded_agents_are_skipped(store):
    store.enqueue(msg("x", priority="urgent"), [("Agent-1", "dryrun"), ("Agent-2", "dryrun")])
    store.enqueue(msg("y"), [("Agent-3", "dryrun")])
    task = store.claim_next(exclude_agents={"Agent-1", "Agent-3"})
    assert task.agent_id == "Agent-2"
    assert store.claim_next(exclude_agents=["Agent-1", "Agent-3"]) is None
    assert store.delivery(task.delivery_id).state is State.SENDING


def test_a_claimed_task_carries_what_delivery_needs(store):
    message = msg("line one\nline two é 🚀", type="broadcast", tags=["captain"], priority="urgent")
    store.enqueue(message, [("Agent-1", "tmux"), ("Agent-2", "inbox")])
    task = store.claim_next()
    assert (task.message_id, task.agent_id, task.transport, task.priority, task.type) == (
        message.id, "Agent-1", "tmux", "urgent", "broadcast")
    assert (task.content, task.tags, task.recipients, task.redacted) == (
        message.content, ("captain",), ("Agent-1", "Agent-2"), False)
    assert task.message_created_at == message.created_at
    row = store.delivery(task.delivery_id)
    assert row.started_at is not None and row.finished_at is None


def _load(store: Store, agents: int, per_agent: int) -> set[int]:
    """Runs of messages for one agent (so workers contend for the same agent), some broadcasts."""
    ids: set[int] = set()
    for a in range(agents):
        for n in range(per_agent):
            priority = "urgent" if n % 5 == 0 else "normal"
            ids.update(store.enqueue(msg(f"m{n}", priority=priority), [(f"A{a}", "dryrun")]))
        ids.update(store.enqueue(msg("all"), [(f"A{b}", "dryrun") for b in range(agents)]))
    return ids


def _assert_in_order_per_agent(store: Store, message_ids: set[str]) -> None:
    started: dict[str, list[tuple[float, float, int, int]]] = defaultdict(list)
    for message_id in message_ids:
        for detail in message_detail(store, message_id).deliveries:
            row = detail.delivery
            assert row.state is State.DELIVERED
            rank = 0 if row.priority == "urgent" else 1
            started[row.agent_id].append((row.started_at.timestamp(), row.finished_at.timestamp(), rank, row.id))
    for agent, claims in started.items():
        claims.sort()
        for (_, finished, _, _), (next_start, _, _, _) in itertools.pairwise(claims):
            assert finished <= next_start, f"{agent} had two deliveries in flight at once"
        order = [(rank, delivery_id) for _, _, rank, delivery_id in claims]
        assert order == sorted(order), f"{agent} got its deliveries out of order"


def test_threads_sharing_a_store_never_claim_twice(store):
    expected = _load(store, agents=6, per_agent=20)
    claimed: list[list[int]] = [[] for _ in range(4)]
    go = threading.Barrier(4)

    def worker(out: list[int]) -> None:
        go.wait()
        while store.pending_count():
            task = store.claim_next()
            if task is not None:
                out.append(task.delivery_id)
                time.sleep(0.001)  # the delivery itself, done outside any transaction
                store.mark_delivered(task.delivery_id, 1.0)

    threads = [threading.Thread(target=worker, args=(out,)) for out in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [i for out in claimed for i in out]
    assert len(flat) == len(set(flat)) and set(flat) == expected
    _assert_in_order_per_agent(store, {store.delivery(i).message_id for i in expected})


CLAIMER = """
import json, sys, time
from pathlib import Path
from quarterdeck.core.store import Store
store = Store(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
got = []
while store.pending_count():
    task = store.claim_next()
    if task is not None:
        got.append(task.delivery_id)
        time.sleep(0.002)  # the delivery itself, done outside any transaction
        store.mark_delivered(task.delivery_id, 1.0)
store.close()
print(json.dumps(got), flush=True)
"""


def test_processes_sharing_the_file_never_claim_twice(store):
    expected = _load(store, agents=10, per_agent=30)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", CLAIMER, str(store.path)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        for _ in range(3)
    ]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert all(p.returncode == 0 for p in procs)
    flat = [i for got in results for i in got]
    assert len(flat) == len(set(flat)), "a delivery was claimed twice"
    assert set(flat) == expected
    assert store.counts_by_state()["delivered"] == len(expected)
    _assert_in_order_per_agent(store, {store.delivery(i).message_id for i in expected})
