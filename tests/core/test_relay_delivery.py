"""A relay as a separate process on a real redis-server: deliveries, receipts, duplicates, the heartbeat,
and message text gone from Redis once acknowledged. The test plays the captain."""
from __future__ import annotations

import json
import time

import pytest
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import Captain, RelayProcess, inbox_texts, write_roster

from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import KEYS, VERSION, DeliveryEntry


@pytest.fixture
def relay(tmp_path, redis_server: RedisServer):
    roster = write_roster(tmp_path / "agents.yaml", [
        {"id": f"Agent-{n}", "transport": "inbox", "path": str(tmp_path / f"in{n}")} for n in (1, 2)])
    process = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    yield process
    process.close()


def test_a_delivery_goes_out_and_its_receipts_come_back(tmp_path, redis_server: RedisServer,
                                                         relay: RelayProcess) -> None:
    captain = Captain(redis_server.url)
    delivery, _ = captain.send("box-1", "Agent-1", "Run the migration, then report.")
    final = captain.wait_final({delivery})
    assert captain.states_of(delivery) == ["delivered"]  # its sending ended in the same round: not told
    receipt = final[delivery]
    assert (receipt.relay, receipt.agent, receipt.verdict, receipt.attempts) == ("box-1", "Agent-1", "submitted", 1)
    assert receipt.evidence  # the inbox transport says how it knows
    texts = inbox_texts(tmp_path / "in1")
    assert len(texts) == 1 and "Run the migration, then report." in texts[0]
    assert inbox_texts(tmp_path / "in2") == []
    # acknowledged and deleted: no message text lingers in Redis
    captain.wait_for(lambda: captain.client.xlen(KEYS.relay_in("box-1")) == 0, 5, "XLEN 0")
    groups = captain.client.xinfo_groups(KEYS.relay_in("box-1"))
    assert [(g["name"], g["pending"]) for g in groups] == [(b"relay", 0)]
    assert relay.stop().splitlines()[-1].startswith("relay box-1 stopped: 1 taken, 0 repeated entries ignored")


def test_the_relay_announces_its_agents_and_heartbeats(redis_server: RedisServer, relay: RelayProcess) -> None:
    captain = Captain(redis_server.url)
    captain.wait_for(lambda: captain.client.hexists(KEYS.relays, "box-1"), 5, "the announcement")
    first = json.loads(captain.client.hget(KEYS.relays, "box-1"))
    assert [a["id"] for a in first["agents"]] == ["Agent-1", "Agent-2"]
    assert first["agents"][0]["transport"] == "inbox" and first["pid"] == relay.process.pid
    captain.wait_for(lambda: json.loads(captain.client.hget(KEYS.relays, "box-1"))["seen_at"] > first["seen_at"],
                     5, "a heartbeat")
    relay.stop()
    assert captain.client.hexists(KEYS.relays, "box-1")  # nothing removed: the captain judges by seen_at


def test_a_duplicate_entry_is_typed_once(tmp_path, redis_server: RedisServer, relay: RelayProcess) -> None:
    captain = Captain(redis_server.url, "c0ffee0000000003")
    delivery, message = captain.send("box-1", "Agent-1", "Only once, please.")
    captain.send("box-1", "Agent-1", "", message=message, delivery=delivery)  # the same entry again
    captain.wait_final({delivery})
    captain.wait_for(lambda: captain.client.xlen(KEYS.relay_in("box-1")) == 0, 5, "both entries acknowledged")
    time.sleep(0.5)
    assert len(inbox_texts(tmp_path / "in1")) == 1
    captain.send("box-1", "Agent-1", "", message=message, delivery=delivery)  # once more, after it ended
    # its end is told again (the captain applies a receipt twice as once); the text is not typed again
    captain.wait_for(lambda: [r.state for r in captain.read_receipts()].count("delivered") >= 2, 5,
                     "its end told again")
    assert len(inbox_texts(tmp_path / "in1")) == 1
    assert "1 taken, 2 repeated entries ignored" in relay.stop()


def test_the_captain_sending_a_message_again_is_a_new_delivery(tmp_path, redis_server: RedisServer,
                                                               relay: RelayProcess) -> None:
    """A new captain delivery id for the same message and agent (the captain re-queued it) is typed
    again, and each delivery gets its own receipts; only the same delivery id is a repeat."""
    captain = Captain(redis_server.url)
    first, message = captain.send("box-1", "Agent-1", "Try the build again.")
    captain.wait_final({first})
    again, _ = captain.send("box-1", "Agent-1", "", message=message)
    final = captain.wait_final({first, again})
    assert final[again].state == "delivered" and captain.states_of(again) == ["delivered"]
    assert captain.states_of(first) == ["delivered"]
    assert len(inbox_texts(tmp_path / "in1")) == 2
    assert "2 taken, 0 repeated entries ignored" in relay.stop()


def test_two_captains_numbering_their_deliveries_alike_each_get_theirs_typed_and_told(
        tmp_path, redis_server: RedisServer, relay: RelayProcess) -> None:
    """Two outboxes on one broker number their deliveries each on its own: the first captain's
    delivery 1 and the second's, read by the relay together, are two deliveries (neither taken for a
    repeat of the other), and each captain's receipts come back on its own stream."""
    one, two = Captain(redis_server.url, "c0ffee0000000001"), Captain(redis_server.url, "c0ffee0000000002")
    pipe = one.client.pipeline(transaction=True)  # both entries appear at once: one read takes them together
    one.send("box-1", "Agent-1", "From the first captain.", pipe=pipe)
    two.send("box-1", "Agent-1", "From the second captain.", pipe=pipe)
    pipe.execute()
    for captain in (one, two):
        receipt = captain.wait_final({1})[1]
        assert (receipt.state, receipt.captain) == ("delivered", captain.captain)
        assert {r.captain for r in captain.read_receipts()} == {captain.captain}
    texts = inbox_texts(tmp_path / "in1")
    assert sorted(t.rstrip().splitlines()[-1] for t in texts) == ["From the first captain.", "From the second captain."]
    assert one.client.xlen(KEYS.receipts) == 0  # nothing on the stream of a captain without an id
    assert "2 taken, 0 repeated entries ignored" in relay.stop()


def test_one_message_to_two_agents_of_one_relay_reaches_both(tmp_path, redis_server: RedisServer,
                                                              relay: RelayProcess) -> None:
    captain = Captain(redis_server.url)
    message = Message(sender="captain", recipients=["Agent-1", "Agent-2"], content="Both of you: pull main.")
    one, _ = captain.send("box-1", "Agent-1", "", message=message)
    two, _ = captain.send("box-1", "Agent-2", "", message=message)
    final = captain.wait_final({one, two})
    assert {final[one].agent, final[two].agent} == {"Agent-1", "Agent-2"}
    assert all(final[d].state == "delivered" for d in (one, two))
    assert [len(inbox_texts(tmp_path / f"in{n}")) for n in (1, 2)] == [1, 1]


def test_an_agent_not_on_the_relays_roster_fails_with_a_reason(redis_server: RedisServer,
                                                                relay: RelayProcess) -> None:
    captain = Captain(redis_server.url)
    delivery, _ = captain.send("box-1", "Agent-9", "Hello?")
    receipt = captain.wait_final({delivery})[delivery]
    assert receipt.state == "failed" and "Agent-9 is not an enabled agent on the roster" in receipt.reason


def test_a_malformed_entry_is_dropped_with_one_line_and_the_next_goes_out(tmp_path, redis_server: RedisServer,
                                                                           relay: RelayProcess) -> None:
    captain = Captain(redis_server.url, "c0ffee0000000004")
    stream, mine = KEYS.relay_in("box-1"), {"v": VERSION, "captain": captain.captain}
    captain.client.xadd(stream, {**mine, "delivery": "x", "agent": "Agent-1"})
    captain.client.xadd(stream, {**mine, "delivery": "77", "agent": "Agent-1", "message": "{"})
    captain.client.xadd(stream, {**mine, "delivery": "78", "agent": "Agent-1", "message": b"\xff"})  # not text
    big = DeliveryEntry(1, "Agent-1", Message(sender="c", content="x"), time.time(), captain.captain).to_fields()
    captain.client.xadd(stream, {**big, "delivery": str(2**63)})  # too big for an id
    delivery, _ = captain.send("box-1", "Agent-1", "After the bad ones.")
    final = captain.wait_final({delivery, 77, 78})
    assert (final[78].state, final[78].verdict) == ("failed", "not_typed") and "not UTF-8" in final[78].reason
    assert final[delivery].state == "delivered"
    # the one that names its delivery is reported failed, so the captain's row does not hang
    assert (final[77].state, final[77].verdict) == ("failed", "not_typed")
    assert "the relay could not read the entry: a delivery entry: its message is invalid" in final[77].reason
    captain.wait_for(lambda: captain.client.xlen(KEYS.relay_in("box-1")) == 0, 5, "all five entries gone")
    relay.stop()
    err = relay.err.read_text()
    assert "dropped entry" in err and "lacks the field 'message'" in err and "out of range" in err
    assert len(err.splitlines()) == 4, err
    assert inbox_texts(tmp_path / "in1") and len(inbox_texts(tmp_path / "in1")) == 1


def test_stagger_0_lets_inbox_agents_take_turns_without_a_pause(tmp_path, redis_server: RedisServer) -> None:
    """Two agents taking turns: 60 deliveries need 59 x 50 ms = 2.95 s with the default stagger."""
    roster = write_roster(tmp_path / "agents.yaml", [
        {"id": f"Agent-{n}", "transport": "inbox", "path": str(tmp_path / f"in{n}")} for n in (1, 2)])
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data", extra=("--stagger", "0")).start()
    try:
        captain = Captain(redis_server.url)
        started = time.monotonic()
        sent = {captain.send("box-1", f"Agent-{1 + n % 2}", f"turn {n}")[0] for n in range(60)}
        final = captain.wait_final(sent)
        took = time.monotonic() - started
        print(f"60 deliveries to two inbox agents taking turns, --stagger 0: {took:.2f} s")
        assert all(final[d].state == "delivered" for d in sent) and took < 2.5
        relay.stop()
    finally:
        relay.close()
