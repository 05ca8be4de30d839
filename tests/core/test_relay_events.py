"""Activity events across machines and the relay's upkeep, on a real redis-server: a relay's agents'
events reach the captain's agent_events once (published twice, stored once), an outage holds them
back and they go after; the ledger's old closed rows are pruned; liveness in the broker's clock."""
from __future__ import annotations

import time
from functools import partial

import polling
import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import RelayProcess, write_roster

from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.activity.record import record
from quarterdeck.core.activity.remote import EventReader, read_events_now, start_event_reader
from quarterdeck.core.models import Message
from quarterdeck.core.relay.captains import seen
from quarterdeck.core.relay.events_out import CURSOR_FILE, EventPublisher, read_cursor
from quarterdeck.core.relay.ledger import Ledger
from quarterdeck.core.relay.protocol import KEYS, VERSION, Announcement, Receipt
from quarterdeck.core.relay.prune import prune_ledger
from quarterdeck.core.roster.remote import broker_now, merge, read_relays
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.store import Store, default_db_path
from quarterdeck.core.store.control import outbox_id
from quarterdeck.core.transports.broker import BrokerLink

wait_until = partial(polling.wait_until, every=0.05)


class Answers:
    def __init__(self) -> None:
        self.count = 0

    def ok(self) -> None:
        self.count += 1


def stored_events(store: Store) -> list[tuple[str, str, str, float]]:
    rows = store.connection().execute("SELECT key, agent_id, kind, at FROM agent_events ORDER BY at").fetchall()
    return [(str(r[0]), str(r[1]), str(r[2]), float(r[3])) for r in rows]


@pytest.fixture
def stores(tmp_path):
    relay, captain = Store(default_db_path(tmp_path / "relay")), Store(default_db_path(tmp_path / "captain"))
    yield relay, captain
    relay.close()
    captain.close()


def test_a_relays_agents_events_reach_the_captain_once(tmp_path, stores, redis_server: RedisServer) -> None:
    relay_store, captain_store = stores
    now = time.time()
    for agent, kind in (("Agent-1", "prompt_submitted"), ("Agent-1", "needs_you"), ("Someone-else", "turn_ended")):
        record(tmp_path / "relay", ActivityEvent(agent, "claude-code", kind, kind, now, text=f"{agent} {kind}"))
    client = redis.Redis.from_url(redis_server.url)
    answers = Answers()
    publisher = EventPublisher("box-1", relay_store.path, client, KEYS, ["Agent-1"], answers)
    assert publisher.publish() == 3  # three rows passed, two of them this relay's agents'
    assert client.xlen(KEYS.events) == 2 and answers.count == 1
    assert read_cursor(tmp_path / "relay") == publisher.cursor == 3
    link = BrokerLink(redis_server.url)
    try:
        assert read_events_now(link, captain_store.path) == 2
        events = stored_events(captain_store)
        assert [(a, k) for _, a, k, _ in events] == [("Agent-1", "prompt_submitted"), ("Agent-1", "needs_you")]
        assert all(abs(at - now) < 1.0 for *_, at in events)  # broker and captain share this clock
        assert client.xlen(KEYS.events) == 0  # acknowledged and deleted: nothing lingers in Redis
        # a relay that lost its cursor (or crashed before writing it) publishes them again: stored once
        (tmp_path / "relay" / CURSOR_FILE).unlink()
        again = EventPublisher("box-1", relay_store.path, client, KEYS, ["Agent-1"], answers)
        own = KEYS.events_of(outbox_id(captain_store.connection()))  # the captain said it is here as it read
        assert again.publish() == 3 and client.xlen(own) == 2 and client.xlen(KEYS.events) == 0
        reader = EventReader(link, captain_store.path)
        assert reader.poll(None) == 2 and reader.stored == 0
        reader.close_connection()
        assert stored_events(captain_store) == events
    finally:
        link.close()


def test_every_captain_seen_within_a_week_gets_every_event_and_deletes_only_its_own(
        tmp_path, stores, redis_server: RedisServer) -> None:
    """Two captains (two outboxes) on one broker both see all of a relay's agents' activity; one not
    seen for more than a week is no longer written to."""
    relay_store, first = stores
    second = Store(default_db_path(tmp_path / "second"))
    client = redis.Redis.from_url(redis_server.url)
    link = BrokerLink(redis_server.url)
    try:
        for captain in (first, second):  # each says it is here as it reads (nothing to read yet)
            assert read_events_now(link, captain.path) == 0
        ids = [outbox_id(captain.connection()) for captain in (first, second)]
        assert set(seen(client.hgetall(KEYS.captains))) == set(ids) and ids[0] != ids[1]
        client.hset(KEYS.captains, "c0ffee0000000009", repr(time.time() - 8 * 86400))  # gone for 8 days
        for kind in ("prompt_submitted", "turn_ended"):
            record(tmp_path / "relay", ActivityEvent("Agent-1", "claude-code", kind, kind, time.time()))
        publisher = EventPublisher("box-1", relay_store.path, client, KEYS, ["Agent-1"], Answers())
        assert publisher.publish() == 2
        assert [client.xlen(KEYS.events_of(i)) for i in ids] == [2, 2]
        assert not client.exists(KEYS.events_of("c0ffee0000000009")) and client.xlen(KEYS.events) == 0
        assert set(seen(client.hgetall(KEYS.captains))) == set(ids)  # the one gone for 8 days is struck off
        assert read_events_now(link, first.path) == 2
        assert [client.xlen(KEYS.events_of(i)) for i in ids] == [0, 2]  # the first deleted its own only
        assert read_events_now(link, second.path) == 2
        for captain in (first, second):
            assert [k for _, _, k, _ in stored_events(captain)] == ["prompt_submitted", "turn_ended"]
    finally:
        link.close()
        second.close()


def test_a_relay_whose_acl_lacks_hdel_still_writes_to_every_captain(tmp_path, stores,
                                                                      redis_server: RedisServer) -> None:
    relay_store, _ = stores
    admin = redis.Redis.from_url(redis_server.url)
    admin.acl_setuser("nohdel", enabled=True, passwords=["+pw"], keys=["qd:*"],
                      commands=["-@all", "+@stream", "+hset", "+hget", "+hgetall", "+ping", "+time"])
    admin.hset(KEYS.captains, mapping={"c0ffee0000000001": repr(time.time()),
                                       "c0ffee0000000009": repr(time.time() - 8 * 86400)})
    client = redis.Redis.from_url(f"redis://nohdel:pw@127.0.0.1:{redis_server.port}/0")
    record(tmp_path / "relay", ActivityEvent("Agent-1", "claude-code", "turn_ended", "Stop", time.time()))
    publisher = EventPublisher("box-1", relay_store.path, client, KEYS, ["Agent-1"], Answers())
    assert publisher.publish() == 1  # the strike was refused (NOPERM): the event went all the same
    assert admin.xlen(KEYS.events_of("c0ffee0000000001")) == 1
    assert set(seen(admin.hgetall(KEYS.captains))) == {"c0ffee0000000001", "c0ffee0000000009"}
    admin.acl_deluser("nohdel")


def test_an_outage_holds_events_back_and_they_go_after(tmp_path, stores, redis_server: RedisServer) -> None:
    relay_store, captain_store = stores
    client = redis.Redis.from_url(redis_server.url, socket_connect_timeout=1)
    publisher = EventPublisher("box-1", relay_store.path, client, KEYS, ["Agent-1"], Answers())
    redis_server.stop()
    record(tmp_path / "relay", ActivityEvent("Agent-1", "tmux-watch", "seen_working", "busy indicator", time.time()))
    with pytest.raises(redis.ConnectionError):
        publisher.publish()
    assert read_cursor(tmp_path / "relay") == 0  # not published: not passed
    redis_server.start()
    assert publisher.publish() == 1
    link = BrokerLink(redis_server.url)
    try:
        assert read_events_now(link, captain_store.path) == 1
    finally:
        link.close()
    assert [k for _, _, k, _ in stored_events(captain_store)] == ["seen_working"]


def test_a_malformed_event_entry_is_dropped_and_the_rest_stored(tmp_path, stores, redis_server: RedisServer) -> None:
    _, captain_store = stores
    client = redis.Redis.from_url(redis_server.url)
    client.xadd(KEYS.events, {"v": VERSION, "relay": "box-1", "key": "k1", "agent": "A", "source": "x",
                              "kind": "made_up_kind", "name": "n", "at": "1.0"})
    client.xadd(KEYS.events, {"v": VERSION, "relay": "box-1", "key": "k2", "agent": "A", "source": "x",
                              "kind": "turn_ended", "name": "Stop", "at": repr(time.time())})
    link = BrokerLink(redis_server.url)
    try:
        assert read_events_now(link, captain_store.path) == 2
    finally:
        link.close()
    assert [(key, kind) for key, _, kind, _ in stored_events(captain_store)] == [("k2", "turn_ended")]
    assert client.xlen(KEYS.events) == 0


def test_the_ledger_forgets_deliveries_closed_and_published_two_weeks_ago(tmp_path) -> None:
    store = Store(default_db_path(tmp_path))
    ledger = Ledger(tmp_path)
    try:
        local = {}
        for captain_delivery in (1, 2, 3):
            message = Message(sender="captain", recipients=["Agent-1"], content=f"task {captain_delivery}")
            ledger.record(captain_delivery, message.id, "Agent-1")
            local[captain_delivery] = store.enqueue(message, [("Agent-1", "inbox")])[0]
            ledger.set_local(captain_delivery, local[captain_delivery])
        other = Message(sender="captain", recipients=["Agent-1"], content="another captain's 2")
        ledger.record(2, other.id, "Agent-1", captain="c2")  # another captain's delivery 2
        theirs = store.enqueue(other, [("Agent-1", "inbox")])[0]
        ledger.set_local(2, theirs, captain="c2")
        for captain, closed in (("", 1), ("c2", 2), ("", 2)):
            store.mark_cancelled(theirs if captain else local[closed], "stopped")
            ledger.add_receipt(Receipt("box-1", closed, "Agent-1", "cancelled", at=time.time(), captain=captain),
                               final=True)
        [_, (second, _), _] = ledger.unpublished()
        ledger.published(second)  # 1's and c2's 2's receipts went out; this captain's 2's waits for the broker
        assert prune_ledger(tmp_path, store.path) == 0  # nothing is two weeks old yet
        assert prune_ledger(tmp_path, store.path, now=time.time() + 15 * 86400) == 2
        assert ledger.record(1, "another", "Agent-1").message_id == "another"  # 1 is forgotten
        assert ledger.record(2, "again", "Agent-1", captain="c2").message_id == "again"  # so is c2's 2
        assert ledger.for_event(local[2], "", "") is not None  # unpublished: kept
        assert ledger.for_event(local[3], "", "") is not None  # still queued: kept
        assert ledger.unpublished_count() == 1
    finally:
        ledger.close()
        store.close()


def test_liveness_is_judged_in_the_brokers_clock(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    server_now = broker_now(client)
    assert abs(server_now - time.time()) < 1.0  # one machine: one clock
    skewed = Announcement("box-1", "h", 1, server_now - 60, seen_at=server_now - 1.0)
    client.hset(KEYS.relays, "box-1", skewed.to_json())
    [relay] = merge(Roster(), read_relays(client), now=broker_now(client)).relays
    assert not relay.stale and 1.0 <= relay.age < 2.0
    # the same announcement judged 30 s later, as a captain whose clock runs 30 s ahead would by its own
    [late] = merge(Roster(), read_relays(client), now=server_now + 30).relays
    assert late.stale and late.health == "last seen 31 s ago"


def test_the_captains_reader_thread_waits_out_an_outage_in_one_line(
        tmp_path, stores, redis_server: RedisServer, caplog) -> None:
    relay_store, captain_store = stores
    client = redis.Redis.from_url(redis_server.url, socket_connect_timeout=1)
    publisher = EventPublisher("box-1", relay_store.path, client, KEYS, ["Agent-1"], Answers())
    link = BrokerLink(redis_server.url, timeout=0.5)
    stop = start_event_reader(link, captain_store.path)
    try:
        record(tmp_path / "relay", ActivityEvent("Agent-1", "claude-code", "prompt_submitted", "p", time.time()))
        publisher.publish()
        wait_until(lambda: len(stored_events(captain_store)) == 1, "the first event stored at the captain")
        redis_server.stop()
        time.sleep(2.0)  # the reader retries every half second meanwhile
        redis_server.start()
        record(tmp_path / "relay", ActivityEvent("Agent-1", "claude-code", "turn_ended", "Stop", time.time()))
        publisher.publish()
        wait_until(lambda: len(stored_events(captain_store)) == 2, "the second event stored at the captain")
    finally:
        stop()
        link.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "quarterdeck.core.activity.remote"]
    assert len(lines) == 2 and "unreachable" in lines[0] and "works again" in lines[1], lines


def test_a_relay_publishes_what_an_outage_held_back(tmp_path, redis_server: RedisServer) -> None:
    roster = write_roster(tmp_path / "agents.yaml", [{"id": "Agent-1", "transport": "inbox",
                                                      "path": str(tmp_path / "in")}])
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    client = redis.Redis.from_url(redis_server.url)
    try:
        redis_server.stop()
        for n in range(3):  # the hooks on the relay's machine go on recording
            record(tmp_path / "data", ActivityEvent("Agent-1", "claude-code", "tool_use", f"Bash {n}", time.time()))
        time.sleep(1.0)
        redis_server.start()
        wait_until(lambda: client.xlen(KEYS.events) == 3, "three events on the stream", timeout=15)
        # the cursor is written (and fsynced) right after the XADDs
        wait_until(lambda: read_cursor(tmp_path / "data") >= 3, "the cursor past the three", timeout=5)
        assert "activity events published" not in relay.err.read_text()
        assert "3 activity events published" in relay.stop()
    finally:
        relay.close()
