"""The captain's forwarder with real parts: a real redis-server, ``quarterdeck relay`` processes with
inbox agents, and the captain's session in this process (or as a separate ``quarterdeck send``
process, killed with ``kill -9``): many deliveries in flight at once, each typed once, the broker
down at send time and paused mid-way, and a captain that dies after writing an entry."""
from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path

import polling
import pytest
import redis
import workers
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import ROOT, RelayProcess, inbox_texts, write_roster

from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import KEYS
from quarterdeck.core.resilience.breaker_types import State as BreakerState
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.session import Session

wait_until = partial(polling.wait_until, every=0.05)

ENDED = {"delivered", "failed", "cancelled", "uncertain"}


class Fleet:
    """Relays M1.. with ``per_relay`` inbox agents each (A<relay>-<n>), on ``url``."""

    def __init__(self, tmp_path: Path, url: str, relays: int, per_relay: int) -> None:
        self.tmp_path, self.url = tmp_path, url
        self.agents: dict[str, Path] = {}
        self.relays: list[RelayProcess] = []
        for r in range(1, relays + 1):
            mine = {f"A{r}-{n}": tmp_path / f"in-{r}-{n}" for n in range(1, per_relay + 1)}
            self.agents.update(mine)
            roster = write_roster(tmp_path / f"m{r}.yaml", [{"id": a, "transport": "inbox", "path": str(p)}
                                                             for a, p in mine.items()])
            self.relays.append(RelayProcess(f"M{r}", roster, url, tmp_path / f"m{r}-data", extra=("--stagger", "0")))

    def start(self) -> Fleet:
        for relay in self.relays:
            relay.start()
        with redis.Redis.from_url(self.url) as client:
            wait_until(lambda: client.hlen(KEYS.relays) >= len(self.relays), "every relay to announce its agents",
                       timeout=20)
        return self

    def received(self) -> dict[str, list[str]]:
        return {agent: inbox_texts(folder) for agent, folder in self.agents.items()}

    def close(self) -> None:
        for relay in self.relays:
            relay.close()


@pytest.fixture
def fleet(tmp_path: Path, redis_server: RedisServer) -> Iterator[Callable[[int, int], Fleet]]:
    made: list[Fleet] = []

    def make(relays: int, per_relay: int) -> Fleet:
        made.append(Fleet(tmp_path, redis_server.url, relays, per_relay).start())
        return made[-1]

    yield make
    for one in made:
        one.close()


def captain(tmp_path: Path, url: str) -> Session:
    return Session.open(roster=Roster(()), data_dir=tmp_path / "captain", broker_url=url, relays=True)


def delivering(session: Session) -> AbstractContextManager[DeliveryWorker]:
    """The captain's delivery worker running; on the way out it stops and the session closes."""
    return workers.delivering(session, idle_wait=0.02, close=True)


def all_ended(session: Session, ids: list[int]) -> bool:
    return all(state in ENDED for state in session.store.states_of(ids).values())


def test_many_deliveries_to_six_agents_over_two_relays_arrive_each_once_in_order(tmp_path, redis_server, fleet) -> None:
    crew = fleet(2, 3)
    session = captain(tmp_path, redis_server.url)
    events: list[DeliveryEvent] = []
    session.dispatcher.add_listener(events.append)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    try:
        worker.start()
        ids: list[int] = []
        started = time.monotonic()
        for n in range(50):
            for agent in crew.agents:
                message = Message(sender="Captain", recipients=[agent], content=f"{agent} #{n}")
                ids += session.submit(message).delivery_ids
        wait_until(lambda: all_ended(session, ids), "every delivery to end", timeout=120)
        took = time.monotonic() - started
        rows = [session.store.delivery(i) for i in ids]
        stats = session.monitor.delivery_stats()
        health = worker.health().details
    finally:
        worker.request_stop()
        worker.join(10)
        session.close()
    print(f"300 deliveries to 6 inbox agents over 2 relays: queued and delivered in {took:.2f} s (under load)")
    for agent, texts in crew.received().items():  # each once, in the order sent
        assert [t.rsplit("\n", 1)[-1] for t in texts] == [f"{agent} #{n}" for n in range(50)], agent
    assert Counter(str(r.state) for r in rows) == {"delivered": 300}
    assert {(r.agent_id[1], r.machine) for r in rows} == {("1", "M1"), ("2", "M2")}  # the machine that typed it
    assert all(r.evidence and r.evidence.endswith(f"(relay {r.machine})") for r in rows)
    finals = Counter(e.delivery_id for e in events if e.state in ENDED)
    assert set(finals) == set(ids) and set(finals.values()) == {1}  # one final event each, to the listeners
    assert {e.delivery_id for e in events if e.state == "sending"} == set(ids)
    assert stats["ok"] + stats["unverified"] == 300 and stats["failed"] == 0  # the monitor counts them
    assert (health["delivered"], health["failed"]) == (300, 0)  # and so does the worker's health


def test_the_broker_down_at_send_time_queues_with_the_reason_once_and_delivers_when_it_returns(
        tmp_path, redis_server: RedisServer, fleet) -> None:
    crew = fleet(1, 1)
    session = captain(tmp_path, redis_server.url)
    events: list[DeliveryEvent] = []
    session.dispatcher.add_listener(events.append)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    try:
        worker.start()
        redis_server.stop()
        ids = [session.submit(Message(sender="Captain", recipients=["A1-1"],
                                      content=f"while down #{n}")).delivery_ids[0] for n in range(3)]
        reason = f"waiting for broker redis://127.0.0.1:{redis_server.port}: "
        wait_until(lambda: all((session.store.delivery(i).reason or "").startswith(reason) for i in ids),
                   "the reason on each queued delivery", timeout=20)
        time.sleep(1.5)  # several more attempts to reach the broker
        told = [e for e in events if e.state == "queued"]
        assert sorted(e.delivery_id for e in told) == ids and all(e.detail.startswith(reason) for e in told)
        assert {str(session.store.delivery(i).state) for i in ids} == {"queued"}  # not failed, not sent
        assert session.dispatcher.breakers.get("A1-1").state is BreakerState.CLOSED  # not counted against the agent
        redis_server.start()
        wait_until(lambda: all_ended(session, ids), "delivery once the broker is back", timeout=60)
        rows = [session.store.delivery(i) for i in ids]
    finally:
        worker.request_stop()
        worker.join(10)
        session.close()
    assert [(str(r.state), r.reason, r.machine) for r in rows] == [("delivered", None, "M1")] * 3
    assert [t.rsplit("\n", 1)[-1] for t in crew.received()["A1-1"]] == [f"while down #{n}" for n in range(3)]


def test_redis_paused_mid_way_loses_nothing_and_types_nothing_twice(tmp_path, redis_server: RedisServer,
                                                                     fleet) -> None:
    crew = fleet(2, 2)
    session = captain(tmp_path, redis_server.url)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    ids: list[int] = []
    try:
        worker.start()
        for n in range(120):
            agent = list(crew.agents)[n % 4]
            ids += session.submit(Message(sender="Captain", recipients=[agent], content=f"{agent} #{n}")).delivery_ids
            if n == 40:
                redis_server.pause()  # SIGSTOP: commands hang until the socket times out
            if n == 80:
                time.sleep(5)
                redis_server.unpause()
            time.sleep(0.01)
        wait_until(lambda: all_ended(session, ids), "every delivery to end", timeout=120)
        rows = [session.store.delivery(i) for i in ids]
    finally:
        if redis_server.paused:
            redis_server.unpause()
        worker.request_stop()
        worker.join(10)
        session.close()
    received = crew.received()
    texts = [t.rsplit("\n", 1)[-1] for agent in crew.agents for t in received[agent]]
    assert len(texts) == len(set(texts)) == 120  # every one arrived, none twice
    assert Counter(str(r.state) for r in rows) == {"delivered": 120}


def test_a_captain_killed_after_writing_the_entry_leaves_it_uncertain_never_sends_it_again(
        tmp_path, redis_server: RedisServer, fleet) -> None:
    crew = fleet(1, 1)
    [relay] = crew.relays
    relay.stop()  # announced, then gone: the entry waits in its stream
    send = subprocess.Popen([sys.executable, "-m", "quarterdeck", "--data-dir", str(tmp_path / "captain"),
                             "--roster", str(write_roster(tmp_path / "captain.yaml", [])), "--broker", redis_server.url,
                             "send", "-a", "A1-1", "-m", "Typed once."], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = redis.Redis.from_url(redis_server.url)
    stream = KEYS.relay_in("M1")
    try:
        wait_until(lambda: (client.exists(stream) and client.xlen(stream) == 1) or send.poll() is not None,
                   "the entry in M1's stream", timeout=30)
        assert send.poll() is None, send.communicate()
        send.kill()  # kill -9 after the entry was written, before any receipt
        send.communicate(timeout=10)
        session = captain(tmp_path, redis_server.url)  # the next captain process
        [row] = session.recovered
        assert (str(row.state), row.machine, row.agent_id) == ("uncertain", "M1", "A1-1")
        worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
        worker.start()
        relay.start()  # the relay takes the entry it holds and types it; its receipt replaces the guess
        wait_until(lambda: str(session.store.delivery(row.id).state) == "delivered", "the relay's receipt", timeout=30)
        worker.request_stop()
        worker.join(10)
        session.close()
        info = client.xinfo_stream(stream)
        assert info["entries-added"] == 1  # written once, by the killed captain; nobody sent it again
    finally:
        if send.poll() is None:
            send.kill()
        client.close()
    assert [t.rsplit("\n", 1)[-1] for t in crew.received()["A1-1"]] == ["Typed once."]


def test_stop_all_cancels_what_the_relay_holds_and_what_is_queued_here_and_every_delivery_is_accounted_for(
        tmp_path, redis_server: RedisServer) -> None:
    agents = {f"A{n}": tmp_path / f"in{n}" for n in (1, 2)}
    roster = write_roster(tmp_path / "m1.yaml", [{"id": a, "transport": "inbox", "path": str(p)}
                                                 for a, p in agents.items()])
    relay = RelayProcess("M1", roster, redis_server.url, tmp_path / "m1-data", extra=("--stagger", "0.3")).start()
    client = redis.Redis.from_url(redis_server.url)
    wait_until(lambda: client.hlen(KEYS.relays) == 1, "the relay's announcement", timeout=20)
    session = captain(tmp_path, redis_server.url)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    try:
        worker.start()
        ids = [session.submit(Message(sender="Captain", recipients=[f"A{1 + n % 2}"], content=f"#{n}")).delivery_ids[0]
               for n in range(20)]
        wait_until(lambda: sum(len(inbox_texts(p)) for p in agents.values()) >= 3, "a few typed", timeout=30)
        session.dispatcher.stop_all()  # the relay hears it on qd:control and cancels what it holds
        wait_until(lambda: all_ended(session, ids), "every delivery to end", timeout=30)
        rows = [session.store.delivery(i) for i in ids]
    finally:
        worker.request_stop()
        worker.join(10)
        session.close()
        relay.close()
        client.close()
    states = Counter(str(r.state) for r in rows)
    typed = sum(len(inbox_texts(p)) for p in agents.values())
    assert set(states) == {"delivered", "cancelled"} and states["delivered"] == typed, (states, typed)
    held = [r for r in rows if r.machine == "M1" and str(r.state) == "cancelled"]  # the relay had them: it cancelled
    assert held and all(str(r.reason).startswith("relay M1: ") for r in held), rows


def test_a_relay_killed_holding_deliveries_is_waited_for_not_timed_out_and_delivers_each_once_on_restart(
        tmp_path, redis_server: RedisServer, monkeypatch) -> None:
    monkeypatch.setenv("COORDINATION_RELAY_WAIT", "8")  # less than the relay is gone for
    agents = {f"A{n}": tmp_path / f"in{n}" for n in (1, 2)}
    roster = write_roster(tmp_path / "m1.yaml", [{"id": a, "transport": "inbox", "path": str(p)}
                                                 for a, p in agents.items()])
    relay = RelayProcess("M1", roster, redis_server.url, tmp_path / "m1-data", extra=("--stagger", "0.5")).start()
    client = redis.Redis.from_url(redis_server.url)
    wait_until(lambda: client.hlen(KEYS.relays) == 1, "the relay's announcement", timeout=20)
    session = captain(tmp_path, redis_server.url)
    events: list[DeliveryEvent] = []
    session.dispatcher.add_listener(events.append)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    try:
        worker.start()
        ids = [session.submit(Message(sender="Captain", recipients=[f"A{1 + n % 2}"], content=f"#{n}")).delivery_ids[0]
               for n in range(40)]  # 20 s of turns at the relay: a queue far longer than relay_wait
        wait_until(lambda: sum(len(inbox_texts(p)) for p in agents.values()) >= 20, "half typed", timeout=30)
        relay.kill()  # kill -9 mid-way: the rest is in its stream or its outbox
        told = "waiting for relay M1 to come back (not seen since "
        wait_until(lambda: any(e.state == "sending" and e.detail.startswith(told) for e in events),
                   "the captain telling the relay is gone", timeout=30)
        time.sleep(3)  # gone for 13 s and more: that does not count
        assert not any(e.state == "uncertain" for e in events), [e for e in events if e.state == "uncertain"]
        relay.start()
        wait_until(lambda: all_ended(session, ids), "every delivery to end", timeout=60)
        rows = [session.store.delivery(i) for i in ids]
    finally:
        worker.request_stop()
        worker.join(10)
        session.close()
        relay.close()
        client.close()
    texts = [t.rsplit("\n", 1)[-1] for p in agents.values() for t in inbox_texts(p)]
    assert len(texts) == len(set(texts)), texts  # none typed twice
    delivered = {f"#{ids.index(r.id)}" for r in rows if str(r.state) == "delivered"}
    assert delivered == set(texts) and len(delivered) >= 38, rows  # the delivered ones are those typed
    assert all(str(r.state) in ("delivered", "uncertain") and "did not report" not in str(r.reason) for r in rows)


def test_a_broker_refusing_the_writes_keeps_them_sending_and_writes_them_again_with_the_same_ids(
        tmp_path, redis_server: RedisServer, fleet, caplog) -> None:
    crew = fleet(1, 1)
    session = captain(tmp_path, redis_server.url)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    client = redis.Redis.from_url(redis_server.url)
    try:
        worker.start()
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", "1")  # full: every write is refused (OOM), PING still answers
        ids = [session.submit(Message(sender="Captain", recipients=["A1-1"], content=f"#{n}")).delivery_ids[0]
               for n in range(5)]
        wait_until(lambda: "sending" in session.store.states_of(ids).values(), "a first write tried", timeout=20)
        time.sleep(2)  # several tries
        first = {i: str(session.store.delivery(i).state) for i in ids}
        # the first write's deliveries stay sending (maybe written: never queued again); the broker answers
        # PING meanwhile, yet nothing more is claimed while what it refused waits
        assert "sending" in first.values() and set(first.values()) <= {"sending", "queued"}, first
        later = [session.submit(Message(sender="Captain", recipients=["A1-1"], content=f"#{n}")).delivery_ids[0]
                 for n in range(5, 8)]
        time.sleep(1.5)
        assert {i: str(session.store.delivery(i).state) for i in ids} == first
        assert {str(session.store.delivery(i).state) for i in later} == {"queued"}
        assert crew.received()["A1-1"] == []
        client.config_set("maxmemory", "0")
        ids += later
        wait_until(lambda: all_ended(session, ids), "the entries written again", timeout=30)
        rows = [session.store.delivery(i) for i in ids]
    finally:
        client.config_set("maxmemory", "0")
        worker.request_stop()
        worker.join(10)
        session.close()
        client.close()
    assert [str(r.state) for r in rows] == ["delivered"] * 8
    assert [t.rsplit("\n", 1)[-1] for t in crew.received()["A1-1"]] == [f"#{n}" for n in range(8)]
    said = [r.getMessage() for r in caplog.records if "maxmemory" in r.getMessage()]
    assert len([m for m in said if "written again when it answers" in m]) == 1, said  # once, not per try
    assert not any(r.exc_info for r in caplog.records), "a traceback for a broker fault"


def test_redis_restarted_during_a_broadcast_loses_nothing_and_types_nothing_twice(tmp_path, redis_server: RedisServer,
                                                                                  fleet) -> None:
    crew = fleet(2, 3)
    session = captain(tmp_path, redis_server.url)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    ids: list[int] = []
    try:
        worker.start()
        for n in range(20):
            message = Message(sender="Captain", recipients=list(crew.agents), type="broadcast", content=f"all #{n}")
            ids += session.submit(message).delivery_ids
            if n == 8:
                redis_server.restart(down_for=1.5)  # SIGTERM (AOF flushed), down 1.5 s, back on the same port
            time.sleep(0.05)
        wait_until(lambda: all_ended(session, ids), "every delivery to end", timeout=120)
        rows = [session.store.delivery(i) for i in ids]
    finally:
        worker.request_stop()
        worker.join(10)
        session.close()
    assert Counter(str(r.state) for r in rows) == {"delivered": 120}
    for agent, texts in crew.received().items():  # every one, once, in order
        assert [t.rsplit("\n", 1)[-1] for t in texts] == [f"all #{n}" for n in range(20)], agent


def test_a_storage_fault_after_the_claim_still_writes_what_was_claimed(tmp_path, redis_server: RedisServer,
                                                                        fleet) -> None:
    from quarterdeck.core.store.faults import StorageFault

    crew = fleet(1, 1)
    session = captain(tmp_path, redis_server.url)
    forwarder = session.forwarder
    assert forwarder is not None
    expire, faults = forwarder._expire, []

    def locked_once(now: float) -> None:  # the round's bookkeeping after its claim meets a locked outbox
        if not faults:
            faults.append(now)
            raise StorageFault("locked", session.store.path, "SQLite: database is locked")
        expire(now)

    forwarder._expire = locked_once  # type: ignore[method-assign]
    ids = [session.submit(Message(sender="Captain", recipients=["A1-1"], content=f"#{n}")).delivery_ids[0]
           for n in range(3)]
    with delivering(session):
        wait_until(lambda: all_ended(session, ids), "every delivery ended", timeout=30)
        rows = [session.store.delivery(i) for i in ids]
    assert faults and [str(r.state) for r in rows] == ["delivered"] * 3  # none left sending, untracked
    assert [t.rsplit("\n", 1)[-1] for t in crew.received()["A1-1"]] == ["#0", "#1", "#2"]
